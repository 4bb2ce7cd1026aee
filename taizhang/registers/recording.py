"""Writing a change of an item: the item row by compare-and-swap on its version, then its history row,
hashed by the same chain function as a case's history (taizhang.cases.hashchain.chain_digest)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from taizhang.cases.hashchain import chain_digest, instant
from taizhang.cases.recording import jsonable
from taizhang.errors import conflict

from .models import ItemEvent, RegisterItem

# The item's own columns a history row records (besides its form fields, as `fields.<name>`); division
# and unit by id, which a renamed or moved node keeps.
TRACKED = ("name", "category", "division_id", "unit_id", "address", "lat", "lon")


def snapshot(item: RegisterItem) -> dict[str, Any]:
    """What the history says of an item: its tracked columns and its fields, empty values left out."""
    snap = {name: jsonable(getattr(item, name)) for name in TRACKED}
    snap.update({f"fields.{k}": jsonable(v) for k, v in (item.data or {}).items()})
    return {k: v for k, v in snap.items() if v not in (None, "", [])}


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    """{name: [old, new]} for everything that changed (None for a value set or cleared)."""
    return {
        k: [before.get(k), after.get(k)]
        for k in sorted(set(before) | set(after))
        if before.get(k) != after.get(k)
    }


def event_digest(e: ItemEvent) -> str:
    """The hash of a history row: everything it says, chained to the row before."""
    payload = {
        "item": e.item_id,
        "seq": e.seq,
        "kind": e.kind,
        "actor": e.actor_id,
        "role": e.role,
        "opinion": e.opinion,
        "changes": e.changes,
        "at": instant(e.created_at),
    }
    return chain_digest(e.prev_hash, payload)


def record(
    item: RegisterItem, *, kind: str, actor, role: str, at: datetime, changes: dict, opinion: str = ""
) -> ItemEvent:
    """Write the item (only if nobody changed it since it was read: else 409) and its history row."""
    base = item.version
    item.version += 1
    event = ItemEvent(
        item_id=item.pk,
        seq=item.version,
        kind=kind,
        actor=actor,
        actor_name=(getattr(actor, "display_name", "") or str(actor))[:60] if actor else "系统",
        role=role,
        opinion=opinion,
        changes=changes,
        created_at=at,
        prev_hash=item.last_hash,
    )
    event.hash = event_digest(event)
    item.last_hash = event.hash
    item.updated_at = at
    values = {
        f.attname: getattr(item, f.attname)
        for f in RegisterItem._meta.concrete_fields
        if not f.primary_key and f.attname not in ("number", "created_at", "register")
    }
    if RegisterItem.objects.filter(pk=item.pk, version=base).update(**values) != 1:
        raise conflict("stale_version", "台账条目已被他人更新，请刷新后重试")
    event.save()
    return event

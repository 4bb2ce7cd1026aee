"""Items as the pages and the API show them: values named, history rows with their changes named, and
the same redaction as every export (taizhang.intake.portal.redact) for the fields that identify people."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils import timezone

from taizhang.intake.portal.redact import redact_text
from taizhang.mechanisms.register import Register
from taizhang.org.models import Division, Unit

from .models import ItemEvent, RegisterItem

KIND_NAMES = {"create": "建档", "change": "变更", "assess": "评估"}
ATTR_LABELS = {
    "name": "名称",
    "category": "类别",
    "division_id": "所在区划",
    "unit_id": "所属单位",
    "address": "地址",
    "lat": "纬度",
    "lon": "经度",
}


def field_text(reg: Register, name: str, value: Any) -> str:
    """A field's value as text (choices by name)."""
    f = reg.fields.get(name)
    if value in (None, "", []):
        return ""
    if f is not None and f.type in ("choice", "multichoice", "bool"):
        return reg.choice_name(name, value)
    return str(value)


def field_rows(reg: Register, item: RegisterItem) -> list[tuple[str, str, str]]:
    """(name, label, text) of every field the register defines, in its order."""
    data = item.data or {}
    return [(f.name, f.label, field_text(reg, f.name, data.get(f.name))) for f in reg.definition.fields]


def export_text(reg: Register, item: RegisterItem, name: str) -> str:
    """A field's text for a file that leaves the platform: personal fields masked by the one redaction
    (names to their surname, phone numbers and ID numbers to their ends)."""
    text = field_text(reg, name, (item.data or {}).get(name))
    if name in reg.definition.personal and text:
        return redact_text(text, [text])
    return text


@dataclass
class Change:
    label: str
    old: str
    new: str


@dataclass
class HistoryRow:
    event: ItemEvent
    kind_name: str
    changes: list[Change]


def history(reg: Register, item: RegisterItem) -> list[HistoryRow]:
    """Every row of the item's history, oldest first, its changes named (two queries)."""
    events = list(item.events.order_by("seq"))
    ids = {"division_id": set(), "unit_id": set()}
    for e in events:
        for key in ids:
            ids[key].update(v for v in (e.changes or {}).get(key, []) if v)
    names = {
        "division_id": dict(Division.objects.filter(pk__in=ids["division_id"]).values_list("pk", "name")),
        "unit_id": dict(Unit.objects.filter(pk__in=ids["unit_id"]).values_list("pk", "name")),
    }

    def text(key: str, value: Any) -> str:
        if key in names:
            return names[key].get(value, "" if value is None else str(value))
        if key == "category":
            return reg.category_name(value) if value else ""
        if key.startswith("fields."):
            return field_text(reg, key[7:], value)
        return "" if value is None else str(value)

    out = []
    for e in events:
        changes = []
        for key, (old, new) in sorted((e.changes or {}).items()):
            label = ATTR_LABELS.get(key) or reg.fields.get(key[7:], None)
            label = label.label if hasattr(label, "label") else (label or key)
            changes.append(Change(label, text(key, old), text(key, new)))
        out.append(HistoryRow(e, KIND_NAMES.get(e.kind, e.kind), changes))
    return out


def item_data(reg: Register, item: RegisterItem) -> dict[str, Any]:
    """An item for the API (to a person who may see it)."""
    return {
        "number": item.number,
        "register_code": reg.code,
        "name": item.name,
        "category": item.category,
        "category_name": reg.category_name(item.category) if item.category else "",
        "division": item.division.code if item.division_id else None,
        "division_name": item.division.name if item.division_id else None,
        "unit": item.unit.code if item.unit_id else None,
        "unit_name": item.unit.name if item.unit_id else None,
        "address": item.address,
        "lat": float(item.lat) if item.lat is not None else None,
        "lon": float(item.lon) if item.lon is not None else None,
        "fields": item.data or {},
        "version": item.version,
        "assessed_at": timezone.localtime(item.assessed_at).isoformat() if item.assessed_at else None,
        "created_at": timezone.localtime(item.created_at).isoformat(),
        "updated_at": timezone.localtime(item.updated_at).isoformat(),
    }


def event_data(e: ItemEvent) -> dict[str, Any]:
    return {
        "seq": e.seq,
        "kind": e.kind,
        "actor": e.actor_name,
        "role": e.role,
        "opinion": e.opinion,
        "changes": e.changes,
        "at": timezone.localtime(e.created_at).isoformat(),
        "hash": e.hash,
    }

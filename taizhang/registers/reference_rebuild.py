"""The reference rows of cases written before they existed (migration registers 0004), from their history.

A case's history row records every change of a form field as `fields.<name>: [old, new]`; its creation row
does not list the form fields. So a reference field's value at creation is the first change's old value,
or the case's value today when no row changed it. Values naming no item (never possible through the
actions, which check them) are left out.
"""

from __future__ import annotations

from typing import Any


def reference_fields() -> dict[str, list[str]]:
    """{mechanism code: names of its reference fields} from the mechanisms as loaded today."""
    from taizhang.mechanisms.registry import get_registry

    out: dict[str, list[str]] = {}
    for code, mech in get_registry().mechanisms.items():
        names = [f.name for f in mech.definition.fields if f.type == "reference"]
        if names:
            out[code] = names
    return out


def references_of(
    fields: list[str], data: dict[str, Any], created_at, rows: list[tuple[Any, dict]]
) -> list[tuple[str, str, Any]]:
    """(field, item number, since) for every value a case's reference fields took; `rows`: its history
    rows' (time, changes) in order."""
    out = []
    for name in fields:
        key = f"fields.{name}"
        changes = [(at, c[key]) for at, c in rows if isinstance(c.get(key), list) and len(c[key]) == 2]
        first = changes[0][1][0] if changes else (data or {}).get(name)
        if first not in (None, ""):
            out.append((name, first, created_at))
        out += [(name, new, at) for at, (_old, new) in changes if new not in (None, "")]
    return out


def rebuild_references(models: dict[str, Any], fields_by_mechanism: dict[str, list[str]], batch: int = 500):
    """Write the reference rows of every case of a mechanism with reference fields (historical models)."""
    Case, Transition = models["Case"], models["Transition"]
    ItemReference, RegisterItem = models["ItemReference"], models["RegisterItem"]
    known = set(RegisterItem.objects.values_list("number", flat=True))
    if not known:
        return
    for code, fields in fields_by_mechanism.items():
        cases = Case.objects.filter(mechanism=code).order_by("pk").values_list("pk", "data", "created_at")
        last = 0
        while chunk := list(cases.filter(pk__gt=last)[:batch]):
            last = chunk[-1][0]
            history: dict[int, list[tuple[Any, dict]]] = {pk: [] for pk, *_ in chunk}
            rows = Transition.objects.filter(case_id__in=list(history)).order_by("case_id", "seq")
            for case_id, at, changes in rows.values_list("case_id", "created_at", "changes"):
                history[case_id].append((at, changes or {}))
            ItemReference.objects.bulk_create(
                ItemReference(case_id=pk, item_id=number, field=name, since=since)
                for pk, data, created_at in chunk
                for name, number, since in references_of(fields, data, created_at, history[pk])
                if number in known
            )

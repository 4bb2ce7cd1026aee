"""Case fields of type `reference`: a case about a register item (a hazard at an enterprise), and the
cases about an item over time.

Every value a case's reference field takes is a row (`ItemReference`), written with the case's history
row in the same statement (`reference_steps`, called by `Recorder`): the item's page finds every case that
ever named it by one indexed lookup, and marks those whose field names another item (or none) today."""

from __future__ import annotations

from typing import Any

from taizhang.errors import FieldError
from taizhang.mechanisms.registry import get_registry
from taizhang.mechanisms.schema import FieldDef

from .models import ItemReference, RegisterItem


def reference_errors(
    user, defs: dict[str, FieldDef], cleaned: dict[str, Any], prefix: str = "fields"
) -> list[FieldError]:
    """An error for each reference value naming no item of its register that the person may see (the same
    error whether the item does not exist or is not theirs to see: nothing leaks)."""
    errors = []
    for name, value in cleaned.items():
        f = defs.get(name)
        if f is None or f.type != "reference" or value in (None, ""):
            continue
        seen = RegisterItem.objects.for_user(user).filter(register=f.register_, number=value).exists()
        if not seen:
            errors.append(
                FieldError(
                    f"{prefix}.{name}", "unknown_item", f"{f.label}：找不到台账条目 {value} 或无权查看"
                )
            )
    return errors


def reference_names(mechanism: str) -> tuple[tuple[str, str], ...]:
    """(field name, register) of the mechanism's reference fields, in its order."""
    mech = get_registry().mechanisms.get(mechanism)
    if mech is None:
        return ()
    return tuple((f.name, f.register_) for f in mech.definition.fields if f.type == "reference")


def values_before(case, new: bool) -> dict[str, Any]:
    """The reference values the case had when read: none for a new case; what was read (`from_db`) when
    known; else (a case read again) the values of its latest reference rows (one query)."""
    if new:
        return {}
    loaded = getattr(case, "loaded_values", None)
    if loaded is not None and "data" in loaded:
        return loaded["data"] or {}
    before: dict[str, Any] = {}
    rows = ItemReference.objects.filter(case_id=case.pk).order_by("since", "id")
    for name, number in rows.values_list("field", "item_id"):
        before[name] = number
    return before


def reference_steps(batch, case, case_id, new: bool = False) -> None:
    """Add to a case's write (`taizhang.cases.writes.Batch`) a row for each reference field that got or
    changed its value in this operation. Nothing is read for a mechanism without reference fields or a
    case read in this request (its values before are what was read)."""
    names = reference_names(case.mechanism)
    if not names:
        return
    after = case.data or {}
    changed = [(n, after.get(n)) for n, _register in names if after.get(n) not in (None, "")]
    if not changed:
        return
    before = values_before(case, new)
    for name, value in changed:
        if before.get(name) != value:
            batch.insert(
                ItemReference, {"item_id": value, "case_id": case_id, "field": name, "since": case.updated_at}
            )


def names_item(case, item: RegisterItem) -> bool:
    """Whether one of the case's reference fields names the item today."""
    data = case.data or {}
    return any(
        register == item.register and data.get(name) == item.number
        for name, register in reference_names(case.mechanism)
    )


def cases_about(user, item: RegisterItem, limit: int = 200):
    """The cases that ever named the item that the person may see, oldest first (through
    Case.objects.for_user); `names_item` tells those that still do."""
    from taizhang.cases.models import Case

    ids = ItemReference.objects.filter(item_id=item.number).values("case_id")
    return (
        Case.objects.for_user(user)
        .filter(pk__in=ids)
        .select_related("division", "unit")
        .order_by("created_at", "id")[:limit]
    )

"""Case fields of type `reference`: a case about a register item (a hazard at an enterprise), and the
cases about an item over time."""

from __future__ import annotations

from typing import Any

from django.db.models import Q

from taizhang.errors import FieldError
from taizhang.mechanisms.registry import get_registry
from taizhang.mechanisms.schema import FieldDef

from .models import RegisterItem


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


def about_q(item: RegisterItem) -> Q | None:
    """The cases whose reference fields name the item (None: no mechanism refers to its register)."""
    q = None
    for code, mech in sorted(get_registry().mechanisms.items()):
        for f in mech.definition.fields:
            if f.type == "reference" and f.register_ == item.register:
                one = Q(mechanism=code, **{f"data__{f.name}": item.number})
                q = one if q is None else q | one
    return q


def cases_about(user, item: RegisterItem, limit: int = 200):
    """The cases about the item that the person may see, oldest first (through Case.objects.for_user)."""
    from taizhang.cases.models import Case

    q = about_q(item)
    if q is None:
        return Case.objects.none()
    return (
        Case.objects.for_user(user)
        .filter(q)
        .select_related("division", "unit")
        .order_by("created_at", "id")[:limit]
    )

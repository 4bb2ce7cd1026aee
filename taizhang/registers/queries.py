"""The filters of an item list, shared by the pages and the API; every filter is a plain value in the URL."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Q, QuerySet

from taizhang.errors import FieldError, contains_nul
from taizhang.mechanisms.register import Register
from taizhang.org.models import Division, Unit

from .models import RegisterItem

PAGE_SIZE = 25
EXPORT_LIMIT = 50_000


@dataclass
class ItemFilter:
    q: str = ""
    category: str = ""
    division: str = ""  # the division's subtree
    unit: str = ""  # the unit and the units below
    fields: dict[str, str] = field(default_factory=dict)  # the register's `filters`: choice field = code
    errors: list[FieldError] = field(default_factory=list)


def parse_filter(reg: Register, params) -> ItemFilter:
    """The filter from a query string (a QueryDict or a dict); unknown values are errors, not ignored."""
    f = ItemFilter(
        q=(params.get("q") or "").strip()[:100],
        category=params.get("category") or "",
        division=params.get("division") or "",
        unit=params.get("unit") or "",
    )
    for name in reg.definition.filters:
        value = params.get(name) or ""
        if value:
            f.fields[name] = value
    values = [f.q, f.category, f.division, f.unit, *f.fields.values()]
    if any(contains_nul(v) for v in values):
        f.errors.append(FieldError("q", "nul_character", "筛选条件不能含有空字符"))
        return f
    if f.category and f.category not in {c.code for c in reg.definition.categories}:
        f.errors.append(FieldError("category", "invalid_choice", f"无效的类别：{f.category}"))
    for name, value in f.fields.items():
        if value not in {c.code for c in reg.fields[name].choices}:
            f.errors.append(FieldError(name, "invalid_choice", f"无效的{reg.fields[name].label}：{value}"))
    return f


def filtered(qs: QuerySet[RegisterItem], reg: Register, f: ItemFilter) -> QuerySet[RegisterItem]:
    """The items of the register that match the filter (an erroneous filter matches nothing)."""
    qs = qs.filter(register=reg.code)
    if f.errors:
        return qs.none()
    if f.q:
        qs = qs.filter(Q(name__icontains=f.q) | Q(number__iexact=f.q) | Q(address__icontains=f.q))
    if f.category:
        qs = qs.filter(category=f.category)
    if f.division:
        path = Division.objects.filter(code=f.division).values_list("path", flat=True).first()
        qs = qs.filter(division__path__startswith=path) if path else qs.none()
    if f.unit:
        path = Unit.objects.filter(code=f.unit).values_list("path", flat=True).first()
        qs = qs.filter(unit__path__startswith=path) if path else qs.none()
    for name, value in f.fields.items():
        qs = qs.filter(**{f"data__{name}": value})
    return qs


def item_list(user, reg: Register, f: ItemFilter) -> QuerySet[RegisterItem]:
    """What the person may see of the register, filtered, newest first, with the place and unit."""
    qs = RegisterItem.objects.for_user(user).select_related("division", "unit")
    return filtered(qs, reg, f).order_by("-id")

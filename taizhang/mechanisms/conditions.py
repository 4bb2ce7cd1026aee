"""Judging a condition (`only_if`, `require.when`, `approval.when`, a time limit's or supervision's `when`)
on a case's values, and the field operands the validator checks at load time.

A condition is judged on `Facts`: the case's grade, category and channel and its form data. A value not
known yet (listing what a person may do before they fill the form) makes a leaf unknown (None); `all`,
`any` and `not` combine in three-valued logic, and an unknown result lets the transition be offered —
the request itself is judged on what it sends.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.utils import timezone

from .schema import Condition, FieldDef
from .schema_values import operand_of, operators_of, to_decimal

ATTRS = ("grade", "category", "channel")
ORDERED = ("lt", "le", "gt", "ge")
NUMERIC_TYPES = ("int", "decimal", "computed")


@dataclass(frozen=True)
class Facts:
    """What a condition reads: the attributes (None: not known yet) and the form data."""

    attrs: Mapping[str, str | None]
    data: Mapping[str, Any]
    unknown: frozenset[str] = field(default_factory=frozenset)


def met(cond: Condition | None, fields: Mapping[str, FieldDef], facts: Facts) -> bool:
    """Whether the condition holds (None always does; an unknown result counts as holding)."""
    return cond is None or holds(cond, fields, facts) is not False


def holds(cond: Condition, fields: Mapping[str, FieldDef], facts: Facts) -> bool | None:
    """True, False, or None when it depends on a value not known yet (Kleene's three-valued logic)."""
    parts: list[bool | None] = []
    for attr in ATTRS:
        codes = getattr(cond, attr)
        if codes is not None:
            have = facts.attrs.get(attr)
            parts.append(None if have is None else have in codes)
    if cond.field is not None:
        parts.append(field_holds(cond, fields[cond.field], facts))
    if cond.all is not None:
        parts.append(all3(holds(c, fields, facts) for c in cond.all))
    if cond.any is not None:
        parts.append(any3(holds(c, fields, facts) for c in cond.any))
    if cond.not_ is not None:
        inner = holds(cond.not_, fields, facts)
        parts.append(None if inner is None else not inner)
    return all3(parts)


def all3(values) -> bool | None:
    values = list(values)
    if False in values:
        return False
    return None if None in values else True


def any3(values) -> bool | None:
    values = list(values)
    if True in values:
        return True
    return None if None in values else False


def is_empty(value: Any) -> bool:
    return value is None or value == "" or value == []


def field_holds(cond: Condition, definition: FieldDef, facts: Facts) -> bool | None:
    """One field compared by the condition's operator. An empty value satisfies only `empty: true`, `ne`
    and `not_in` (it is not equal to anything)."""
    if definition.name in facts.unknown:
        return None
    [op] = operators_of(cond)
    raw = facts.data.get(definition.name)
    if op == "empty":
        return is_empty(raw) == cond.empty
    if is_empty(raw):
        return op in ("ne", "not_in")
    if op in ("any_of", "all_of"):
        chosen = set(raw) if isinstance(raw, list) else {raw}
        wanted = set(operand_of(cond, op))
        return bool(chosen & wanted) if op == "any_of" else wanted <= chosen
    try:
        have = value_of(definition, raw, ordered=op in ORDERED)
        want = operand(definition, op, operand_of(cond, op))
    except ValueError:
        return False  # a stored value the field no longer accepts (the form changed) matches nothing
    if op in ("in", "not_in"):
        return (have in want) == (op == "in")
    if op == "eq":
        return have == want
    if op == "ne":
        return have != want
    return {"lt": have < want, "le": have <= want, "gt": have > want, "ge": have >= want}[op]


def value_of(definition: FieldDef, raw: Any, ordered: bool = False) -> Any:
    """A stored value as the condition compares it: a Decimal, a date, an aware datetime, a code, text."""
    kind = definition.type
    if kind in NUMERIC_TYPES:
        return to_decimal(raw)
    if kind == "choice" and ordered:
        return choice_value(definition, raw)
    if kind == "date":
        return date.fromisoformat(str(raw))
    if kind == "datetime":
        return aware(datetime.fromisoformat(str(raw)))
    return raw


def choice_value(definition: FieldDef, code: Any) -> Decimal:
    for choice in definition.choices:
        if choice.code == code and choice.value is not None:
            return choice.value
    raise ValueError(f"选项 '{code}' 没有数值（value）")


def aware(moment: datetime) -> datetime:
    """A datetime without a zone is local time (Beijing), as the forms show it."""
    return timezone.make_aware(moment) if timezone.is_naive(moment) else moment


def operand(definition: FieldDef, op: str, raw: Any) -> Any:
    """The condition's operand as it compares with the field's values; ValueError (Chinese) when it cannot
    (a date against a number field, a code the choice field does not have, an order on text)."""
    if op in ("in", "not_in"):
        return [single(definition, op, item) for item in raw]
    return single(definition, op, raw)


def single(definition: FieldDef, op: str, raw: Any) -> Any:
    kind = definition.type
    ordered = op in ORDERED
    if kind in NUMERIC_TYPES or (kind == "choice" and ordered):
        if kind == "choice" and any(c.value is None for c in definition.choices):
            raise ValueError(f"选择字段 '{definition.name}' 的选项须都有数值（value）才能比较大小")
        if isinstance(raw, bool | date) or (isinstance(raw, str) and not _is_number(raw)):
            raise ValueError(f"字段 '{definition.name}' 是数值，不能与 {raw!r} 比较")
        return to_decimal(raw)
    if kind in ("date", "datetime"):
        try:
            if kind == "date":
                if isinstance(raw, datetime):
                    raise ValueError
                return raw if isinstance(raw, date) else date.fromisoformat(str(raw))
            if isinstance(raw, datetime):
                return aware(raw)
            return aware(datetime.fromisoformat(str(raw)))
        except (TypeError, ValueError):
            what = "日期（YYYY-MM-DD）" if kind == "date" else "时间（ISO 8601）"
            raise ValueError(
                f"字段 '{definition.name}' 是{'日期' if kind == 'date' else '时间'}，应与{what}比较，不是 {raw!r}"
            ) from None
    if ordered:
        raise ValueError(f"字段 '{definition.name}'（{kind}）不能比较大小")
    if kind == "choice":
        codes = {c.code for c in definition.choices}
        if raw not in codes:
            raise ValueError(f"字段 '{definition.name}' 没有选项 '{raw}'（可用：{'、'.join(sorted(codes))}）")
        return raw
    if kind == "bool":
        if not isinstance(raw, bool):
            raise ValueError(f"字段 '{definition.name}' 是是非项，应与 true 或 false 比较")
        return raw
    if kind == "multichoice":
        raise ValueError(f"多选字段 '{definition.name}' 请用 any_of 或 all_of")
    if not isinstance(raw, str) or isinstance(raw, bool):
        raise ValueError(f"字段 '{definition.name}' 是文本，应与文本比较（数字请加引号）")
    return raw


def _is_number(text: str) -> bool:
    try:
        to_decimal(text)
    except ValueError:
        return False
    return True

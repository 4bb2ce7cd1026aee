"""The parts of a mechanism file that judge values: conditions, band tables, numbers and colours.

Kept apart from `schema.py` (which imports and re-exports everything here) so that the value rules stay in
one place; `Code` and `Strict` live here because both files build on them.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints

Code = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$", max_length=40)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


def to_decimal(value: object) -> Decimal:
    """A number written in YAML (10, 0.5, '0.1') as an exact Decimal: 0.1 stays 0.1, never 0.1000000000000000055.

    Booleans and text that is not a finite number are refused.
    """
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        raise ValueError("应为数字")
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise ValueError("应为数字") from None
    if not number.is_finite():
        raise ValueError("应为有限的数字")
    return number


# A number of a mechanism file, exact (YAML floats are read through their text).
Number = Annotated[Decimal, BeforeValidator(to_decimal)]
# A colour by what it means (红/橙/黄/蓝 risk or warning levels), never by a choice's position in a list.
Colour = Literal["red", "orange", "yellow", "blue"]
# A value a condition compares with: a number, a date, a code or text, true/false.
Operand = bool | int | float | date | datetime | str


class Condition(Strict):
    """Holds when every key written holds (a condition with no key always holds).

    `grade`, `category`, `channel`: the case's attribute is one of the codes. `field` with one operator:
    the form field's value compared (`eq` … `ge`), in a list (`in`, `not_in`), a multi-choice holding any
    or all of some codes (`any_of`, `all_of`), or `empty`. `all`, `any`, `not` combine conditions.
    """

    grade: list[Code] | None = None
    category: list[Code] | None = None
    channel: list[Code] | None = None
    field: Code | None = None
    eq: Operand | None = None
    ne: Operand | None = None
    lt: Operand | None = None
    le: Operand | None = None
    gt: Operand | None = None
    ge: Operand | None = None
    in_: list[Operand] | None = Field(default=None, alias="in", min_length=1)
    not_in: list[Operand] | None = Field(default=None, min_length=1)
    any_of: list[Code] | None = Field(default=None, min_length=1)
    all_of: list[Code] | None = Field(default=None, min_length=1)
    empty: bool | None = None
    all: list[Condition] | None = Field(default=None, min_length=1)
    any: list[Condition] | None = Field(default=None, min_length=1)
    not_: Condition | None = Field(default=None, alias="not")


# The operators of a field condition, by their key in the file.
FIELD_OPERATORS = ("eq", "ne", "lt", "le", "gt", "ge", "in", "not_in", "any_of", "all_of", "empty")


def operators_of(cond: Condition) -> list[str]:
    """The operator keys a condition writes (`in` for the attribute `in_`)."""
    return [op for op in FIELD_OPERATORS if getattr(cond, "in_" if op == "in" else op) is not None]


def operand_of(cond: Condition, op: str) -> object:
    return getattr(cond, "in_" if op == "in" else op)


class Band(Strict):
    """One row of a band table: the value's range and the code it maps to.

    Bounds as the standards write them: `gt` 160 and `le` 320 is 160 < D ≤ 320; a row without a lower
    (upper) bound takes everything below (above) its other bound.
    """

    code: Code
    gt: Number | None = None
    ge: Number | None = None
    lt: Number | None = None
    le: Number | None = None


class BandTable(Strict):
    """A table mapping a numeric field's value to a grade (or to a choice of a field): LEC, LS."""

    code: Code
    name: str = Field(min_length=1)
    input: Code
    # `grade`: the case's grade; else the name of a `choice` field the band's code is a choice of.
    target: Code = "grade"
    bands: list[Band] = Field(min_length=1)
    source: str = ""


class BandOverride(Strict):
    """A rule pack's thresholds for a band table of the mechanism (the rows replace the mechanism's)."""

    bands: list[Band] = Field(min_length=1)
    source: str = ""

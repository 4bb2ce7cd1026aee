"""Computed fields and band tables at run time: the values a case's form data implies.

`Derivation` is built once per mechanism (the expressions parsed, in dependency order); `derive` gives
the computed values and the codes the band tables map them to. The validator has already refused every
expression and table the engine could not act on, so nothing here reports to an author.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from .expressions import Expr, evaluate, names_in, parse_expression
from .schema import FieldDef, MechanismDef
from .schema_values import Band, to_decimal


def numeric(definition: FieldDef, raw: Any) -> Decimal | None:
    """A field's value as a number: int, decimal and computed fields as they are, a choice by its `value`."""
    if raw is None or raw == "":
        return None
    if definition.type == "choice":
        return next((c.value for c in definition.choices if c.code == raw), None)
    try:
        return to_decimal(raw)
    except ValueError:
        return None


def computed_order(mech: MechanismDef) -> list[tuple[str, Expr]]:
    """The computed fields with their parsed expressions, each after the computed fields it reads.

    Raises ValueError on a cycle (the validator reports it with its line before this ever runs)."""
    pending = {f.name: parse_expression(f.expression or "") for f in mech.fields if f.type == "computed"}
    order: list[tuple[str, Expr]] = []
    while pending:
        ready = [n for n, e in pending.items() if not set(names_in(e)) & set(pending)]
        if not ready:
            raise ValueError("computed fields refer to each other: " + "、".join(pending))
        for name in ready:
            order.append((name, pending.pop(name)))
    return order


def band_of(bands: list[Band], value: Decimal) -> str | None:
    """The code of the band holding the value (None: below or above every band)."""
    for band in bands:
        if band.gt is not None and not value > band.gt:
            continue
        if band.ge is not None and not value >= band.ge:
            continue
        if band.lt is not None and not value < band.lt:
            continue
        if band.le is not None and not value <= band.le:
            continue
        return band.code
    return None


@dataclass(frozen=True)
class Derived:
    """What a case's data implies: the computed fields' values (as stored: text, or None) and, for each band
    table whose input has a value, its target (`grade` or a field) and the code it maps to."""

    values: dict[str, str | None]
    targets: dict[str, str]


def derive(
    mech: MechanismDef,
    order: list[tuple[str, Expr]],
    data: Mapping[str, Any],
    tables: Mapping[str, list[Band]],
    changed: set[str] | None = None,
) -> Derived:
    """The computed values of `data` and the band tables' results.

    `tables`: each band table's rows (the rule pack's for the case's division, else the mechanism's).
    `changed`: the fields a transition changes; a band table applies only when its input is among them
    (a re-assessment regrades, a later 升级为重大隐患 stands); None at creation: every table applies.
    """
    fields = {f.name: f for f in mech.fields}
    numbers = {name: numeric(d, data.get(name)) for name, d in fields.items() if d.type != "computed"}
    values: dict[str, str | None] = {}
    for name, expr in order:
        result = evaluate(expr, numbers)
        numbers[name] = result
        values[name] = None if result is None else str(result)
    moved = None if changed is None else set(changed)
    if moved is not None:
        moved |= {n for n, v in values.items() if v != data.get(n)}
    targets: dict[str, str] = {}
    for table in mech.bands:
        value = numbers.get(table.input)
        if value is None or (moved is not None and table.input not in moved):
            continue
        code = band_of(tables.get(table.code, table.bands), value)
        if code is not None:
            targets[table.target] = code
    return Derived(values, targets)

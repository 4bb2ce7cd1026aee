"""Load-time checks of the value rules: conditions (on attributes and on form fields), computed fields
and their expressions, band tables (of a mechanism or overridden by a rule pack). Every problem names the
file, the line and the field."""

from __future__ import annotations

from decimal import Decimal

from .conditions import operand
from .errors import Problem
from .expressions import ExpressionError, names_in, parse_expression
from .schema import Condition, FieldDef, MechanismDef
from .schema_values import Band, BandTable, operand_of, operators_of
from .yamlfile import LinedData

ATTR_LABEL = {"grade": "等级", "category": "类别", "channel": "渠道", "state": "状态"}
NUMERIC = ("int", "decimal", "computed")


def unknown(attr: str, code: str, allowed: set[str]) -> str:
    """'未知的等级 'majr'（可用：general、major）'."""
    label = ATTR_LABEL.get(attr, attr)
    if not allowed:
        return f"未知的{label} '{code}'（本机制没有定义{label}）"
    return f"未知的{label} '{code}'（可用：{'、'.join(sorted(allowed))}）"


def unknown_field(name: str, fields: dict) -> str:
    known = "、".join(fields) if fields else "本机制没有定义表单字段"
    return f"未知的表单字段 '{name}'（可用：{known}）"


def is_numeric(definition: FieldDef) -> bool:
    """A field an expression or a band table can read: a number, or a choice whose every option has a value."""
    if definition.type == "choice":
        return bool(definition.choices) and all(c.value is not None for c in definition.choices)
    return definition.type in NUMERIC


# -- conditions -----------------------------------------------------------------------------------------


def check_condition(
    cond: Condition | None, mech: MechanismDef, lined: LinedData, path: tuple, problems: list[Problem]
) -> None:
    """Known codes, known fields, one operator per field condition with an operand of the field's kind."""
    if cond is None:
        return
    codes = {
        "grade": {c.code for c in mech.grades},
        "category": {c.code for c in mech.categories},
        "channel": {c.code for c in mech.channels},
    }
    for attr, allowed in codes.items():
        for i, code in enumerate(getattr(cond, attr) or []):
            if code not in allowed:
                problems.append(lined.problem((*path, attr, i), unknown(attr, code, allowed)))
    check_field_condition(cond, mech, lined, path, problems)
    for key in ("all", "any"):
        for i, inner in enumerate(getattr(cond, key) or []):
            check_condition(inner, mech, lined, (*path, key, i), problems)
    check_condition(cond.not_, mech, lined, (*path, "not"), problems)


def check_field_condition(
    cond: Condition, mech: MechanismDef, lined: LinedData, path: tuple, problems: list[Problem]
) -> None:
    ops = operators_of(cond)
    if cond.field is None:
        if ops:
            problems.append(
                lined.problem((*path, ops[0]), f"'{ops[0]}' 须与 field（比较哪个表单字段）一起写")
            )
        return
    fields = {f.name: f for f in mech.fields}
    definition = fields.get(cond.field)
    if definition is None:
        problems.append(lined.problem((*path, "field"), unknown_field(cond.field, fields)))
        return
    if len(ops) != 1:
        found = "、".join(ops) if ops else "没有"
        problems.append(
            lined.problem(
                (*path, "field"),
                f"字段条件须恰好写一个比较（eq、ne、lt、le、gt、ge、in、not_in、any_of、all_of、empty），现为：{found}",
            )
        )
        return
    op = ops[0]
    raw = operand_of(cond, op)
    if op == "empty":
        return
    if op in ("any_of", "all_of"):
        if definition.type != "multichoice":
            problems.append(
                lined.problem((*path, op), f"{op} 只能用于多选字段（'{cond.field}' 为 {definition.type}）")
            )
            return
        allowed = {c.code for c in definition.choices}
        for i, code in enumerate(raw):
            if code not in allowed:
                message = f"字段 '{cond.field}' 没有选项 '{code}'（可用：{'、'.join(sorted(allowed))}）"
                problems.append(lined.problem((*path, op, i), message))
        return
    try:
        operand(definition, op, raw)
    except ValueError as exc:
        problems.append(lined.problem((*path, op), str(exc)))


# -- computed fields ------------------------------------------------------------------------------------


def check_computed(mech: MechanismDef, lined: LinedData, problems: list[Problem]) -> None:
    """Every computed field has an expression over numeric fields, no other field has one, no computed field
    depends on itself, and nobody is asked to type one in."""
    fields = {f.name: f for f in mech.fields}
    reads: dict[str, list[str]] = {}
    for i, definition in enumerate(mech.fields):
        path = ("fields", i)
        if definition.type != "computed":
            if definition.expression is not None:
                problems.append(lined.problem((*path, "expression"), "只有 computed 字段才能写 expression"))
            continue
        if definition.required:
            problems.append(
                lined.problem((*path, "required"), "计算字段由系统计算，不能要求填写（required）")
            )
        if definition.expression is None:
            problems.append(lined.problem((*path, "type"), "computed 字段须写 expression（计算式）"))
            continue
        try:
            expr = parse_expression(definition.expression)
        except ExpressionError as exc:
            problems.append(lined.problem((*path, "expression"), f"计算式无效：{exc}"))
            continue
        reads[definition.name] = names_in(expr)
        for name in reads[definition.name]:
            other = fields.get(name)
            if other is None:
                problems.append(
                    lined.problem((*path, "expression"), f"计算式中{unknown_field(name, fields)}")
                )
            elif not is_numeric(other):
                problems.append(
                    lined.problem(
                        (*path, "expression"),
                        f"计算式引用的字段 '{name}'（{other.type}）不是数值"
                        + ("（选择字段的每个选项都须有 value）" if other.type == "choice" else ""),
                    )
                )
    for i, definition in enumerate(mech.fields):
        if definition.name in reads and depends_on_itself(definition.name, reads):
            problems.append(
                lined.problem(("fields", i, "expression"), f"计算字段 '{definition.name}' 循环引用了自身")
            )
    check_not_typed(mech, lined, {name for name in reads}, problems)


def depends_on_itself(name: str, reads: dict[str, list[str]]) -> bool:
    seen, stack = set(), list(reads.get(name, []))
    while stack:
        current = stack.pop()
        if current == name:
            return True
        if current not in seen:
            seen.add(current)
            stack.extend(reads.get(current, []))
    return False


def check_not_typed(
    mech: MechanismDef, lined: LinedData, computed: set[str], problems: list[Problem]
) -> None:
    """No transition asks for a computed field in its form (`set_fields` are refused as values)."""
    for i, t in enumerate(mech.transitions):
        for j, name in enumerate(t.fields):
            if name in computed:
                problems.append(
                    lined.problem(
                        ("transitions", i, "fields", j), f"计算字段 '{name}' 由系统计算，不能由人填写"
                    )
                )


# -- band tables ----------------------------------------------------------------------------------------


def check_band_tables(mech: MechanismDef, lined: LinedData, problems: list[Problem]) -> None:
    fields = {f.name: f for f in mech.fields}
    seen: set[str] = set()
    for i, table in enumerate(mech.bands):
        path = ("bands", i)
        if table.code in seen:
            problems.append(lined.problem((*path, "code"), f"重复的编码 '{table.code}'"))
        seen.add(table.code)
        source = fields.get(table.input)
        if source is None:
            problems.append(lined.problem((*path, "input"), unknown_field(table.input, fields)))
        elif not is_numeric(source):
            problems.append(
                lined.problem((*path, "input"), f"分级表的输入字段 '{table.input}'（{source.type}）不是数值")
            )
        target_codes = band_targets(table, mech, lined, path, problems)
        if target_codes is not None:
            check_band_rows(table.bands, target_codes, lined, (*path, "bands"), problems)


def band_targets(
    table: BandTable, mech: MechanismDef, lined: LinedData, path: tuple, problems: list[Problem]
) -> dict[str, Decimal | None] | None:
    """The codes a table's rows may map to, with their values (for the order check); None: no target."""
    if table.target == "grade":
        if not mech.grades:
            problems.append(
                lined.problem((*path, "target"), "本机制没有定义等级（grades），分级表不能设置 grade")
            )
            return None
        return {g.code: g.value for g in mech.grades}
    fields = {f.name: f for f in mech.fields}
    target = fields.get(table.target)
    if target is None:
        problems.append(lined.problem((*path, "target"), unknown_field(table.target, fields)))
        return None
    if target.type != "choice":
        problems.append(
            lined.problem(
                (*path, "target"), f"分级表只能设置等级或单选字段（'{table.target}' 为 {target.type}）"
            )
        )
        return None
    return {c.code: c.value for c in target.choices}


def check_band_rows(
    bands: list[Band],
    targets: dict[str, Decimal | None],
    lined: LinedData,
    base: tuple,
    problems: list[Problem],
) -> None:
    """Each row names a known code and a non-empty range; the rows, in the order written (lowest or highest
    first), follow each other with neither gap nor overlap; a higher range never maps to a lower-valued code."""
    ok = True
    for i, band in enumerate(bands):
        path = (*base, i)
        if band.code not in targets:
            problems.append(lined.problem((*path, "code"), unknown("grade", band.code, set(targets))))
        for low, high in (("gt", "ge"), ("lt", "le")):
            if getattr(band, low) is not None and getattr(band, high) is not None:
                problems.append(lined.problem((*path, high), f"{low} 与 {high} 不能同时写"))
                ok = False
        lo, hi = lower(band), upper(band)
        if lo[0] is None and hi[0] is None:
            problems.append(lined.problem(path, "分级区间须至少有一个边界（gt、ge、lt、le）"))
            ok = False
        elif (
            lo[0] is not None
            and hi[0] is not None
            and (lo[0] > hi[0] or (lo[0] == hi[0] and not (lo[1] and hi[1])))
        ):
            problems.append(lined.problem(path, f"分级区间为空（下界 {lo[0]}，上界 {hi[0]}）"))
            ok = False
    if not ok or len(bands) < 2:
        return
    first, last = lower(bands[0])[0], lower(bands[-1])[0]
    ascending = first is None or (last is not None and last > first)
    rows = list(enumerate(bands)) if ascending else list(reversed(list(enumerate(bands))))
    for (i, below), (j, above) in zip(rows, rows[1:], strict=False):
        check_adjacent(i, below, j, above, lined, base, problems)
        rank_below, rank_above = targets.get(below.code), targets.get(above.code)
        if rank_below is not None and rank_above is not None and rank_above < rank_below:
            problems.append(
                lined.problem(
                    (*base, j, "code"),
                    f"分级顺序颠倒：更高的区间对应 '{above.code}'（value {rank_above}），低于 '{below.code}'（value {rank_below}）",
                )
            )


def lower(band: Band) -> tuple[Decimal | None, bool]:
    """(the lower bound, whether it is included)."""
    return (band.ge, True) if band.ge is not None else (band.gt, False)


def upper(band: Band) -> tuple[Decimal | None, bool]:
    return (band.le, True) if band.le is not None else (band.lt, False)


def bound_text(band: Band) -> str:
    parts = [
        f"{key} {getattr(band, key)}" for key in ("gt", "ge", "lt", "le") if getattr(band, key) is not None
    ]
    return "、".join(parts)


def check_adjacent(
    i: int, below: Band, j: int, above: Band, lined: LinedData, base: tuple, problems: list[Problem]
) -> None:
    """The range of row `j` starts exactly where row `i` (the next lower one) ends, one side including it."""
    (top, top_in), (bottom, bottom_in) = upper(below), lower(above)
    where = (*base, max(i, j))  # the second of the two rows as the file lists them
    if top is None or bottom is None:
        message = f"分级区间顺序有误或重叠：第 {i + 1} 行（{bound_text(below)}）与第 {j + 1} 行（{bound_text(above)}）"
        problems.append(
            lined.problem(where, message + "，请按从高到低或从低到高的顺序排列，首尾以外的区间须有上下界")
        )
    elif top < bottom or (top == bottom and not top_in and not bottom_in):
        problems.append(lined.problem(where, f"分级区间有空缺：{top} 到 {bottom} 之间的值不属于任何一级"))
    elif top > bottom:
        problems.append(lined.problem(where, f"分级区间重叠：{bottom} 到 {top} 之间的值同时属于两级"))
    elif top_in and bottom_in:
        problems.append(lined.problem(where, f"分级区间重叠：{top} 同时属于两级"))


def check_band_overrides(
    overrides: dict, mech: MechanismDef, lined: LinedData, base: tuple, problems: list[Problem]
) -> None:
    """A rule pack's thresholds: for a table the mechanism has, checked like the mechanism's own rows."""
    tables = {t.code: t for t in mech.bands}
    for code, override in overrides.items():
        table = tables.get(code)
        if table is None:
            known = "、".join(tables) or "本机制没有分级表"
            problems.append(lined.problem((*base, code), f"未知的分级表 '{code}'（可用：{known}）"))
            continue
        targets = band_targets(table, mech, lined, (*base, code), problems)
        if targets is not None:
            check_band_rows(override.bands, targets, lined, (*base, code, "bands"), problems)


def check_values(mech: MechanismDef, lined: LinedData, problems: list[Problem]) -> None:
    """Everything of this module a mechanism file needs besides the conditions (checked where they occur)."""
    check_computed(mech, lined, problems)
    check_band_tables(mech, lined, problems)

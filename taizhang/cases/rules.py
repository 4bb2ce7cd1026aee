"""Per-case rules of a transition that read more than the case's row: the condition (`only_if`) on the
values the transition itself sets (and the computed values and band results they imply), the time window (`within`) since the case entered its state, the
state a `to_previous` transition returns to, and the kind of unit an `assign` accepts.

Kept apart from `actions.py` so that each rule is one function the engine calls.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.utils import timezone

from taizhang.clock.calendar import ClockError
from taizhang.clock.clock import Duration, get_clock
from taizhang.errors import ActionError, FieldError, conflict
from taizhang.mechanisms.computed import derive
from taizhang.mechanisms.conditions import Facts, met
from taizhang.mechanisms.fieldvalues import clean_fields
from taizhang.mechanisms.registry import Mechanism
from taizhang.mechanisms.schema import Condition, Requirement, TransitionDef
from taizhang.mechanisms.schema_values import operand_of, operators_of
from taizhang.org.models import Unit

from .models import Case

ATTRS = (("grade", "等级", "grades"), ("category", "类别", "categories"), ("channel", "渠道", "channels"))
# Rows that move a case into a state (a request or a refusal leaves it where it is).
MOVES = ("create", "transition", "approve")


# -- only_if ------------------------------------------------------------------------------------------


def values_after(
    mech: Mechanism, t: TransitionDef, case: Case, params: dict[str, Any] | None
) -> dict[str, str | None]:
    """The grade, category and channel the case will have after `t`: what the transition sets (`sets`)
    from `params`, else the case's own (an unknown code is refused later, as `invalid_choice`). With
    `params` None (listing what a person may do) an attribute the transition sets is unknown yet: None,
    which every condition accepts."""
    out: dict[str, str | None] = {}
    for attr, _, plural in ATTRS:
        current = getattr(case, attr)
        if attr in t.sets:
            if params is None:
                out[attr] = None
                continue
            value = str(params.get(attr) or "")
            known = {c.code for c in getattr(mech.definition, plural)}
            out[attr] = value if value in known else current
        else:
            out[attr] = current
    return out


@dataclass(frozen=True)
class Outcome:
    """The case as a transition would leave it: its form data (computed values filled in, band results
    applied), the grade a band table gives (None: none), and the facts conditions are judged on."""

    data: dict[str, Any]
    grade: str | None
    facts: Facts


def derived_data(
    mech: Mechanism, data: dict[str, Any], division_path: str, changed: set[str] | None
) -> tuple[dict[str, Any], str | None]:
    """`data` with the computed fields recomputed and the band tables applied to fields; the grade a band
    table sets. `changed`: the fields the transition changes (None at creation: every table applies)."""
    if not mech.computed and not mech.definition.bands:
        return data, None
    derived = derive(mech.definition, mech.computed, data, mech.band_rows(division_path), changed)
    out = dict(data)
    for name, value in derived.values.items():
        if value is None:
            out.pop(name, None)  # an input was emptied: the value no longer holds
        else:
            out[name] = value
    for target, code in derived.targets.items():
        if target != "grade":
            out[target] = code
    return out, derived.targets.get("grade")


def outcome(
    mech: Mechanism,
    t: TransitionDef,
    case: Case,
    params: dict[str, Any] | None,
    cleaned: dict[str, Any] | None,
) -> Outcome:
    """What the transition leaves: `cleaned` form values (None when listing what a person may do: then the
    fields the transition asks for, and what is computed from them, are not known yet)."""
    attrs = values_after(mech, t, case, params)
    before = case.data or {}
    if cleaned is None:
        unknown = set(t.fields) | {name for r in t.require for name in r.fields}
        if unknown:
            unknown |= {name for name, _ in mech.computed} | {table.target for table in mech.definition.bands}
            if any(table.target == "grade" for table in mech.definition.bands):
                attrs["grade"] = None
        return Outcome(dict(before), None, Facts(attrs, before, frozenset(unknown)))
    data = {**before, **cleaned, **t.set_fields}
    changed = {name for name, value in data.items() if before.get(name) != value}
    data, grade = derived_data(mech, data, case.division.path, changed)
    if grade is not None:
        attrs["grade"] = grade
    return Outcome(data, grade, Facts(attrs, data))


def condition_met(
    mech: Mechanism,
    t: TransitionDef,
    case: Case,
    params: dict[str, Any] | None,
    fields: dict[str, Any] | None = None,
) -> bool:
    """`only_if` holds for the case as the transition leaves it (转送 that reclassifies a petition as
    检举控告 is judged by the new category; a condition on a field by the value the form sends)."""
    if t.only_if is None:
        return True
    cleaned = None
    if params is not None:
        cleaned, _ = clean_fields(mech.fields, fields or {})  # bad values are refused by check_content
    return met(t.only_if, mech.fields, outcome(mech, t, case, params, cleaned).facts)


def requirements(mech: Mechanism, t: TransitionDef, facts: Facts) -> list[Requirement]:
    """The transition's `require` entries whose `when` holds (an unknown value counts as holding)."""
    return [r for r in t.require if met(r.when, mech.fields, facts)]


def form_requirements(mech: Mechanism, t: TransitionDef, case: Case) -> list[Requirement]:
    """The entries a form for the transition shows, before anything is filled in."""
    return requirements(mech, t, outcome(mech, t, case, None, None).facts)


def approval_needed(mech: Mechanism, t: TransitionDef, facts: Facts) -> bool:
    """Whether the transition goes through its approval for this outcome (`approval.when`)."""
    return t.approval is not None and met(t.approval.when, mech.fields, facts)


OPERATOR_TEXT = {
    "eq": "为",
    "ne": "不为",
    "lt": "小于",
    "le": "不大于",
    "gt": "大于",
    "ge": "不小于",
    "in": "为",
    "not_in": "不为",
    "any_of": "含",
    "all_of": "同时含",
}


def condition_text(mech: Mechanism, cond: Condition) -> str:
    """'类别为申诉求决类、建议意见类', '风险值D大于320' for a condition."""
    parts = []
    for attr, label, _ in ATTRS:
        codes = getattr(cond, attr)
        if codes:
            parts.append(f"{label}为" + "、".join(mech.choice_name(attr, c) for c in codes))
    if cond.field is not None:
        parts.append(field_condition_text(mech, cond))
    if cond.all:
        parts.append("，".join(condition_text(mech, c) for c in cond.all))
    if cond.any:
        parts.append("（" + "，或".join(condition_text(mech, c) for c in cond.any) + "）")
    if cond.not_ is not None:
        parts.append("非（" + condition_text(mech, cond.not_) + "）")
    return "，".join(p for p in parts if p)


def field_condition_text(mech: Mechanism, cond: Condition) -> str:
    definition = mech.fields[cond.field]
    [op] = operators_of(cond)
    if op == "empty":
        return f"{definition.label}" + ("未填写" if cond.empty else "已填写")
    names = {c.code: c.name for c in definition.choices}
    raw = operand_of(cond, op)
    items = raw if isinstance(raw, list) else [raw]
    shown = "、".join(str(names.get(item, item)) if isinstance(item, str) else str(item) for item in items)
    joiner = "之一" if op in ("in", "not_in", "any_of") and len(items) > 1 else ""
    return f"{definition.label}{OPERATOR_TEXT[op]}{shown}{joiner}"


def check_condition_met(
    mech: Mechanism,
    case: Case,
    t: TransitionDef,
    params: dict[str, Any] | None,
    fields: dict[str, Any] | None = None,
) -> None:
    """409 `condition_not_met`, naming what the transition is limited to."""
    if condition_met(mech, t, case, params if params is not None else {}, fields):
        return
    limit = condition_text(mech, t.only_if) if t.only_if else ""
    raise conflict(
        "condition_not_met", f"本案件不满足「{t.name}」的条件" + (f"：仅限{limit}" if limit else "")
    )


# -- within ---------------------------------------------------------------------------------------------


def entered(case: Case) -> tuple[datetime, str]:
    """When the case entered its current state and the name of the step that brought it there (催办 and
    监督标记 stay in the state and do not count)."""
    row = (
        case.transitions.filter(to_state=case.state, kind__in=MOVES)
        .exclude(from_state=case.state)
        .order_by("-seq")
        .values_list("created_at", "name", "kind")
        .first()
    )
    if row is None:
        return case.state_entered_at, "进入当前状态"
    at, name, kind = row
    return at, ("上报" if kind == "create" else name.removesuffix("（批准）"))


def check_window(mech: Mechanism, case: Case, t: TransitionDef, now: datetime) -> None:
    """409 `window_passed` when `within` (the mechanism's, or the locality's from its rule pack) has run
    out since the case entered its state; measured by the business clock (工作时 skip nights and holidays)."""
    within = mech.transition_rule(t, "within", case.division.path)
    if not within:
        return
    since, step = entered(case)
    window = Duration.parse(within)
    try:
        end = get_clock().add(since, window)
    except ClockError as exc:
        raise ActionError(exc.code, exc.message, 422) from None
    if now > end:
        raise conflict(
            "window_passed",
            f"「{t.name}」须在「{step}」后{window}内提出（截至 {timezone.localtime(end):%Y-%m-%d %H:%M}），现已超过",
        )


# -- to_previous ----------------------------------------------------------------------------------------


def previous_state(case: Case) -> str | None:
    """The state the case was in before it entered the current one (from the last row into it)."""
    row = (
        case.transitions.filter(to_state=case.state, kind__in=("transition", "approve"))
        .exclude(from_state=case.state)
        .order_by("-seq")
        .values_list("from_state", flat=True)
        .first()
    )
    return row or None


def target_state(mech: Mechanism, case: Case, t: TransitionDef, errors: list[FieldError]) -> str | None:
    """The state the transition leads to: `to`, the previous state for `to_previous`, None for none."""
    if not t.to_previous:
        return t.to
    previous = previous_state(case)
    if previous is None or previous not in mech.entries_of(case.state):
        errors.append(
            FieldError(
                "code", "no_previous_state", f"无法确定案件进入「{mech.state_name(case.state)}」前的状态"
            )
        )
        return None
    return previous


# -- assign ---------------------------------------------------------------------------------------------


def unit_kind_error(unit: Unit, assign: str | None) -> FieldError | None:
    """A unit the transition's `assign` does not accept: not a 联合执法 unit, not a 纪检监察 body."""
    if assign == "enforcement_unit" and not unit.enforcement:
        return FieldError("params.unit", "not_enforcement_unit", f"{unit.name}不是联合执法单位")
    if assign == "discipline_unit" and not unit.discipline:
        return FieldError(
            "params.unit",
            "not_discipline_unit",
            f"{unit.name}不是纪检监察机关，检举控告类事项只能转纪检监察机关",
        )
    return None

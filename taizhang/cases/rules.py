"""Per-case rules of a transition that read more than the case's row: the condition (`only_if`) on the
values the transition itself sets, the time window (`within`) since the case entered its state, the
state a `to_previous` transition returns to, and the kind of unit an `assign` accepts.

Kept apart from `actions.py` so that each rule is one function the engine calls.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.utils import timezone

from taizhang.clock.calendar import ClockError
from taizhang.clock.clock import Duration, get_clock
from taizhang.errors import ActionError, FieldError, conflict
from taizhang.mechanisms.registry import Mechanism
from taizhang.mechanisms.schema import Condition, TransitionDef
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


def condition_met(mech: Mechanism, t: TransitionDef, case: Case, params: dict[str, Any] | None) -> bool:
    """`only_if` holds for the case as the transition leaves it (转送 that reclassifies a petition as
    检举控告 is judged by the new category)."""
    cond = t.only_if
    if cond is None:
        return True
    values = values_after(mech, t, case, params)
    return all(
        values[attr] is None or getattr(cond, attr) is None or values[attr] in getattr(cond, attr)
        for attr, _, _ in ATTRS
    )


def condition_text(mech: Mechanism, cond: Condition) -> str:
    """'类别为申诉求决类、建议意见类' for a condition."""
    parts = []
    for attr, label, _ in ATTRS:
        codes = getattr(cond, attr)
        if codes:
            parts.append(f"{label}为" + "、".join(mech.choice_name(attr, c) for c in codes))
    return "，".join(parts)


def check_condition_met(mech: Mechanism, case: Case, t: TransitionDef, params: dict[str, Any] | None) -> None:
    """409 `condition_not_met`, naming what the transition is limited to."""
    if condition_met(mech, t, case, params if params is not None else {}):
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

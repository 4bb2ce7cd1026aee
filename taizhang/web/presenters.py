"""How a case reads in a page: names instead of codes, and the clock in the mechanism's own unit."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from taizhang.cases.models import Case
from taizhang.clock.calendar import ClockError
from taizhang.clock.clock import Duration, get_clock
from taizhang.mechanisms.registry import get_mechanism

from .colours import badge_class

# A deadline this close is shown as "due soon" (the 工作台's "24 小时内到期").
SOON = timedelta(hours=24)


@dataclass(frozen=True)
class ClockView:
    text: str
    css: str  # "overdue", "soon" or ""


def clock_view(case: Case, now: datetime) -> ClockView:
    """Time left or overdue, e.g. "剩余2个工作日" / "已超期1天4小时"; stopped clocks say so."""
    if case.state_kind == "closed":
        return ClockView("", "")
    if case.clock_left:
        return ClockView(f"已停表（剩余{case.clock_left}）", "")
    if case.due_at is None:
        return ClockView("", "")
    try:
        unit = Duration.parse(case.limit_text).unit if case.limit_text else "hours"
        text = get_clock().describe_left(now, case.due_at, unit)
    except (ClockError, ValueError):
        text = case.due_at.strftime("%Y-%m-%d %H:%M") + " 截止"
    if case.due_at < now:
        return ClockView(text, "overdue")
    return ClockView(text, "soon" if case.due_at - now <= SOON else "")


@dataclass(frozen=True)
class CaseRow:
    case: Case
    mechanism_name: str
    state_name: str
    grade_name: str
    category_name: str
    clock: ClockView
    # The grade's badge classes by its colour's meaning ('' for a grade without one).
    grade_badge: str = ""


def case_rows(cases, now: datetime) -> list[CaseRow]:
    """Rows for a case table (select_related division and unit beforehand: no query per row)."""
    rows = []
    for c in cases:
        mech = get_mechanism(c.mechanism)
        rows.append(
            CaseRow(
                case=c,
                mechanism_name=mech.name,
                state_name=mech.state_name(c.state),
                grade_name=mech.choice_name("grade", c.grade) if c.grade else "",
                category_name=mech.choice_name("category", c.category) if c.category else "",
                clock=clock_view(c, now),
                grade_badge=badge_class(mech.choice_colour("grade", c.grade)) if c.grade else "",
            )
        )
    return rows

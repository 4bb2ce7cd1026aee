"""One rule of "on time" for the 超期 timer and the KPIs: at or before `due_at` is on time, after it is late.

A 12345 demand accepted on a Monday at 09:00 has 2 工作时 to be handled at 受理; 无效诉求 closes it.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import time_machine

from taizhang.cases.models import Case
from taizhang.cases.schedule import PAST_DUE, past_due
from taizhang.cases.timers import do_fire_timers
from taizhang.insight.kpi import KpiRequest, kpi_report
from tests.cases.helpers import act, at, fresh
from tests.insight.test_kpi import demand

PERIOD = (date(2026, 3, 2), date(2026, 3, 9))


@pytest.fixture
def frozen():
    with time_machine.travel(at(2026, 3, 2, 9, 0), tick=False) as traveller:
        yield traveller


def on_time(world) -> tuple[int, int]:
    rate = kpi_report(world.dispatcher, KpiRequest("demand", *PERIOD, "division"))["totals"]["on_time_rate"]
    return rate["numerator"], rate["denominator"]


def timer_codes(case) -> list[str]:
    return [t.code for t in fresh(case).transitions.filter(kind="timer").order_by("seq")]


def test_closed_at_the_deadline_itself_is_on_time_for_the_timer_and_the_kpi(world, frozen):
    case = demand(world)
    due = fresh(case).due_at
    do_fire_timers(case.pk, due)  # the timers run at the deadline: a reminder, no 超期 yet
    assert "overdue" not in timer_codes(case) and fresh(case).next_timer_at == due + PAST_DUE
    assert not Case.objects.overdue(due).filter(pk=case.pk).exists()
    frozen.move_to(due)
    act(world.dispatcher, case, "invalidate", opinion="无实际诉求")
    assert "overdue" not in timer_codes(case) and fresh(case).state_kind == "closed"
    assert on_time(world) == (1, 1)


def test_one_instant_after_the_deadline_is_overdue_for_both(world, frozen):
    case = demand(world)
    due = fresh(case).due_at
    do_fire_timers(case.pk, due + PAST_DUE)
    assert "overdue" in timer_codes(case) and fresh(case).overdue_since == due
    assert Case.objects.overdue(due + PAST_DUE).filter(pk=case.pk).exists()
    frozen.move_to(due + PAST_DUE)
    act(world.dispatcher, case, "invalidate", opinion="无实际诉求")
    assert on_time(world) == (0, 1)


def test_past_due_is_strictly_after():
    due = at(2026, 3, 2, 11, 0)
    assert not past_due(due, due) and past_due(due, due + PAST_DUE)
    assert not past_due(due, due - timedelta(hours=1)) and not past_due(None, due)

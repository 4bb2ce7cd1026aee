"""Deadline and supervision rules of the shipped mechanisms (hazard.yaml, demand.yaml, packs/luzhou.yaml)
under frozen time: 分级督办 capped at the 区, 返工 that keeps the record, 升级为重大隐患 and its 五落实,
挂牌督办, and the 12345 total limit that agrees with the 7 日办结率."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import time_machine

from taizhang.cases.approvals import do_decide
from taizhang.cases.timers import do_fire_timers
from taizhang.insight.kpi import KpiRequest, kpi_report
from taizhang.org.models import Division, Membership, User
from tests.cases.helpers import act, at, error_of, fresh, report, to_rectifying

PLAN = {
    "measures": "更换老化燃气管道，加装泄漏报警器",
    "responsible_person": "王建明",
    "funds": "12.5",
    "plan_deadline": "2026-04-30",
    "contingency": "燃气泄漏应急处置预案（附件）",
}


@pytest.fixture
def frozen(world):
    with time_machine.travel(at(2026, 3, 10, 10, 0), tick=False) as traveller:
        yield traveller


def escalations(case) -> list[str]:
    return [t.opinion for t in fresh(case).transitions.filter(kind="timer", code="escalate").order_by("seq")]


def xbtz_dispatcher() -> User:
    user = User.objects.create_user(username="paiqian_xbtz", password="pw", display_name="西白兔镇派遣员")
    Membership.objects.create(user=user, role="dispatcher", division=Division.objects.get(code="XBTZ"))
    return user


# -- 督办 stops at the 区 --------------------------------------------------------------------------------


def test_a_township_hazard_escalates_to_the_district_and_never_the_city(world, frozen):
    dispatcher = xbtz_dispatcher()
    case = report(world, dispatcher, division="XBTZ", channel="inspection")
    to_rectifying_by(world, dispatcher, case)
    due = fresh(case).due_at  # 5 工作日 (潞州区): escalations at 0, 2 and 5 working days after it
    assert do_fire_timers(case.pk, due + timedelta(days=30)) == 3  # 催办, 超期 and one 督办
    case = fresh(case)
    assert (case.supervision_level, case.supervising_division) == (1, world.district)
    assert len(escalations(case)) == 1 and "长治市" not in escalations(case)[0]


def test_an_overdue_major_village_hazard_goes_two_levels_up_at_once_but_stops_at_the_district(world, frozen):
    dispatcher = xbtz_dispatcher()
    case = report(world, dispatcher, division="XBTZ-BT", channel="inspection", grade="major")
    to_rectifying_by(world, dispatcher, case, fields=PLAN)
    due = fresh(case).due_at  # 30 工作日 for a 重大隐患 in 潞州区
    do_fire_timers(case.pk, due + timedelta(minutes=1))
    case = fresh(case)
    assert (case.supervision_level, case.supervising_division) == (2, world.district)  # 村 → 镇 → 区
    do_fire_timers(case.pk, due + timedelta(days=30))  # the rule's third level would be the city
    assert (fresh(case).supervision_level, len(escalations(case))) == (2, 1)


def to_rectifying_by(world, dispatcher, case, fields=None):
    act(dispatcher, case, "register")
    act(dispatcher, case, "assign", params={"unit": world.safety_bureau.code})
    act(world.handler, case, "sign", fields=fields or {})


# -- 返工 keeps the supervision level and the overdue record ---------------------------------------------


def test_rework_from_an_overdue_verification_keeps_its_record(world, frozen, photo):
    case = to_rectifying(world, report(world))
    act(world.handler, case, "rectified", attachments=[photo(world.handler)])
    due = fresh(case).due_at  # 3 工作日 to verify
    do_fire_timers(case.pk, due + timedelta(days=5))
    case = fresh(case)
    assert case.overdue_since == due and case.supervision_level >= 1
    level, body = case.supervision_level, case.supervising_division
    frozen.move_to(due + timedelta(days=5, hours=1))
    act(world.verifier, case, "rework")
    case = fresh(case)
    assert (case.state, case.overdue_since, case.supervision_level, case.supervising_division) == (
        "rectifying",
        due,
        level,
        body,
    )
    assert case.is_overdue and case.due_at > due + timedelta(days=5)


# -- 升级为重大隐患 and the 五落实 -------------------------------------------------------------------------


def test_raising_the_grade_after_signing_requires_the_five_implementations(world, frozen, photo):
    case = to_rectifying(world, report(world, category="gas"))
    assert fresh(case).due_at == at(2026, 3, 17, 23, 59, 59)  # 5 工作日 (潞州区)
    frozen.move_to(at(2026, 3, 12, 9, 0))
    act(
        world.dispatcher, case, "regrade", params={"grade": "major"}, opinion="涉及燃气主管道，升级为重大隐患"
    )
    case = fresh(case)
    # 30 工作日 for a 重大隐患 (清明 4月4日–6日 off), counted from 签收 on 03-10, not from the upgrade.
    assert (case.grade, case.state, case.due_at) == ("major", "rectifying", at(2026, 4, 22, 23, 59, 59))
    err = error_of(lambda: act(world.handler, case, "rectified", attachments=[photo(world.handler)]))
    assert err.status == 422
    assert {e.field for e in err.errors} == {f"fields.{name}" for name in PLAN}
    act(world.handler, case, "submit_plan", fields=PLAN)
    act(world.handler, case, "rectified", attachments=[photo(world.handler, (9, 9, 9))])
    assert fresh(case).state == "verifying"


def test_the_plan_is_not_asked_of_a_general_hazard(world, frozen, photo):
    case = to_rectifying(world, report(world))
    assert error_of(lambda: act(world.handler, case, "submit_plan", fields=PLAN)).code == "condition_not_met"
    act(world.handler, case, "rectified", attachments=[photo(world.handler)])
    assert fresh(case).state == "verifying"


# -- 挂牌督办 ---------------------------------------------------------------------------------------------


def test_listing_a_major_hazard_puts_it_under_the_district_with_ten_days_to_accept(world, frozen, photo):
    case = report(world, grade="major")
    act(world.dispatcher, case, "register")
    assert error_of(lambda: act(world.dispatcher, case, "list_supervision")).status == 403
    act(world.leader, case, "list_supervision", opinion="列入区级挂牌督办")
    case = fresh(case)
    assert (case.listed_by, case.supervision_level, case.supervising_division) == (
        "list_supervision",
        3,
        world.district,
    )
    act(world.dispatcher, case, "assign", params={"unit": world.safety_bureau.code})
    act(world.handler, case, "sign", fields=PLAN)
    assert fresh(case).supervision_level == 3  # new steps never lower a listing
    frozen.move_to(at(2026, 3, 20, 15, 0))
    act(world.handler, case, "rectified", attachments=[photo(world.handler)])
    case = fresh(case)
    assert (case.due_at, case.limit_text) == (at(2026, 3, 30, 15, 0), "10天")  # not 3 工作日
    assert case.supervising_division == world.district


def test_only_a_major_hazard_is_listed(world, frozen):
    case = report(world)
    act(world.dispatcher, case, "register")
    assert error_of(lambda: act(world.leader, case, "list_supervision")).code == "condition_not_met"


# -- 12345: the total limit ---------------------------------------------------------------------------


def demand(world, **kw):
    from tests.insight.test_kpi import demand as make

    return make(world, **kw)


def test_an_emergency_accepted_at_ten_is_due_at_noon_whatever_the_steps(world, frozen, tmp_path):
    case = demand(world, grade="emergency")
    assert (case.due_at, case.total_due_at) == (at(2026, 3, 10, 10, 30), at(2026, 3, 10, 12, 0))
    frozen.move_to(at(2026, 3, 10, 10, 20))
    act(world.dispatcher, case, "dispatch", params={"unit": world.safety_bureau.code})
    assert fresh(case).due_at == at(2026, 3, 10, 11, 20)  # 签收 within 1 小时
    frozen.move_to(at(2026, 3, 10, 11, 0))
    act(world.handler, case, "sign")
    case = fresh(case)
    assert (case.due_at, case.limit_text) == (at(2026, 3, 10, 12, 0), "2小时")  # not 13:00
    frozen.move_to(at(2026, 3, 10, 11, 50))
    act(world.handler, case, "reply", fields={"reply": "已派员抢修"})
    assert fresh(case).due_at == at(2026, 3, 10, 12, 0)  # 回访 too, not 2 工作日


def test_a_dispatch_that_reclassifies_the_demand_sets_its_total_limit_anew(world, frozen):
    case = demand(world)
    assert case.total_due_at == at(2026, 3, 17, 10, 0)
    act(world.dispatcher, case, "dispatch", params={"unit": world.safety_bureau.code, "grade": "utilities"})
    assert fresh(case).total_due_at == at(2026, 3, 11, 10, 0)  # 水电气热: 24 h from 受理


def test_an_extension_moves_the_total_limit_too(world, frozen):
    case = demand(world)
    act(world.dispatcher, case, "dispatch", params={"unit": world.safety_bureau.code})
    act(world.handler, case, "sign")
    act(world.handler, case, "extend", params={"extend_by": "3 自然日"}, opinion="需协调管线单位")
    do_decide(world.dispatcher, case.pk, True, "同意")
    case = fresh(case)
    assert (case.total_due_at, case.due_at) == (at(2026, 3, 20, 10, 0),) * 2
    act(world.handler, case, "reply", fields={"reply": "已修复"})
    assert fresh(case).due_at == at(2026, 3, 12, 23, 59, 59)  # 回访 in 2 工作日: before the total


def close_demand(world, case, moment):
    """派单 and 签收 at once; 答复 and 回访满意 at `moment`, after the scheduler ran at that moment."""
    act(world.dispatcher, case, "dispatch", params={"unit": world.safety_bureau.code})
    act(world.handler, case, "sign")
    with time_machine.travel(moment, tick=False):
        do_fire_timers(case.pk, moment)
        act(world.handler, case, "reply", fields={"reply": "已修复"})
        act(world.dispatcher, case, "visit_satisfied")


def test_the_seven_day_close_rate_and_the_clock_agree(world, frozen):
    on_time, late = demand(world, title="准时"), demand(world, title="超时")
    due = at(2026, 3, 17, 10, 0)
    assert fresh(on_time).total_due_at == due == at(2026, 3, 10, 10, 0) + timedelta(days=7)
    close_demand(world, on_time, due - timedelta(seconds=1))
    close_demand(world, late, due + timedelta(seconds=1))
    assert fresh(late).transitions.filter(kind="timer", code="overdue").exists()
    totals = kpi_report(world.leader, KpiRequest("demand", date(2026, 3, 1), date(2026, 4, 1), "unit"))[
        "totals"
    ]
    # The case the clock calls on time is the one closed within 7 days, and only that one.
    assert (totals["close_rate"]["numerator"], totals["close_rate"]["denominator"]) == (1, 2)
    assert (totals["on_time_rate"]["numerator"], totals["on_time_rate"]["denominator"]) == (1, 2)

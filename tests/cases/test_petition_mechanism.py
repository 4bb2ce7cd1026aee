"""Every transition and time limit of the petition (信访) mechanism, with frozen time and the 2026 holidays.

The statutory periods are 自然日: 劳动节 and 国庆 do not stop them, while the escalation after a window
(3 工作日) skips the holidays and counts the 调休 Saturday.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.utils import translation

from taizhang.cases.actions import TransitionRequest, available_transitions, do_transition
from taizhang.cases.approvals import do_decide
from taizhang.cases.create import CaseInput, do_create_case
from taizhang.cases.models import Case
from taizhang.cases.schedule import PAST_DUE, timer_events
from taizhang.cases.timers import do_fire_timers
from taizhang.clock.clock import Duration, get_clock
from taizhang.errors import ActionError
from taizhang.mechanisms.registry import get_mechanism
from taizhang.org.models import Membership, Unit, User
from taizhang.org.scopes import forget_grants

TZ = ZoneInfo("Asia/Shanghai")
START = datetime(2026, 4, 20, 10, 0, tzinfo=TZ)  # a Monday; 15 days later runs through 劳动节 (May 1–5)

FIELDS = {
    "petitioner_name": "郝小雨",
    "petitioner_address": "和心社区5号楼2单元",
    "request": "请求兑现2025年申请的既有住宅加装电梯补贴",
}


def at(*args) -> datetime:
    return datetime(*args, tzinfo=TZ)


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


@dataclass
class Petition:
    """The people and bodies of the petition loop besides the shared world."""

    world: object
    intake: User  # 信访 staff of 五马街道: registers letters and visits
    review_unit: Unit  # 复查机关 (the body above the one that handled the matter)
    reviewer: User
    recheck_unit: Unit  # 复核机关
    rechecker: User
    bureau_leader: User  # 负责人 of the deciding body (区应急管理局): approves its extensions


@pytest.fixture
def px(world) -> Petition:
    def person(username, name, role, **node):
        user = User.objects.create_user(username=username, password="pw", display_name=name)
        Membership.objects.create(user=user, role=role, **node)
        return user

    review_unit = Unit.objects.create(
        code="LZQ-ZF", name="潞州区人民政府", kind="department", division=world.district
    )
    recheck_unit = Unit.objects.create(
        code="CZS-ZF", name="长治市人民政府", kind="department", division=world.city
    )
    # The district's bureaus are under the district government: it is their 上一级行政机关 (复查机关).
    world.safety_bureau.parent = review_unit
    world.safety_bureau.save()
    return Petition(
        world=world,
        intake=person("xinfang", "冯梦瑶", "intake", division=world.street),
        review_unit=review_unit,
        reviewer=person("fucha", "任书恒", "handler", unit=review_unit),
        recheck_unit=recheck_unit,
        rechecker=person("fuhe", "白雪松", "handler", unit=recheck_unit),
        bureau_leader=person("juzhang", "郑可为", "leader", unit=world.safety_bureau),
    )


def petition(world, user=None, **kw) -> Case:
    data = dict(
        mechanism="petition",
        title="加装电梯补贴未兑现",
        division=world.grid.code,
        category="appeal",
        description="2025年已按程序申请加装电梯补贴，至今未兑现。",
        fields=dict(FIELDS),
    )
    data.update(kw)
    case, _ = do_create_case(user or world.resident, CaseInput(**data))
    return case


def act(user, case, code, **kw) -> Case:
    kw.setdefault("opinion", "同意")
    return do_transition(user, case.pk, TransitionRequest(code=code, **kw))


def fresh(case) -> Case:
    return Case.objects.get(pk=case.pk)


def error_of(call) -> ActionError:
    with pytest.raises(ActionError) as info:
        call()
    return info.value


REPLY = {"decision": "support", "reply": "经核实，补贴资金已拨付，将于30日内发放到位。"}


def to_routed(px, case) -> Case:
    act(
        px.intake,
        case,
        "transfer",
        params={"unit": px.world.safety_bureau.code},
        opinion="转区应急管理局处理",
    )
    return fresh(case)


def to_handling(px, case) -> Case:
    to_routed(px, case)
    act(px.world.handler, case, "accept")
    return fresh(case)


def to_replied(px, case) -> Case:
    to_handling(px, case)
    act(px.world.handler, case, "reply", fields=REPLY)
    return fresh(case)


def to_reviewing(px, case) -> Case:
    to_replied(px, case)
    act(px.world.resident, case, "request_review", fields={"review_request": "补贴金额计算有误"})
    act(px.world.dispatcher, case, "assign_review", params={"unit": px.review_unit.code})
    return fresh(case)


def to_review_replied(px, case) -> Case:
    to_reviewing(px, case)
    act(
        px.reviewer,
        case,
        "review_reply",
        fields={"review_result": "uphold", "review_reply": "原处理意见正确"},
    )
    return fresh(case)


def to_rechecking(px, case) -> Case:
    to_review_replied(px, case)
    act(px.world.resident, case, "request_recheck", fields={"recheck_request": "仍认为金额有误"})
    act(px.world.dispatcher, case, "assign_recheck", params={"unit": px.recheck_unit.code})
    return fresh(case)


RECHECK = {"recheck_result": "uphold", "recheck_reply": "维持复查意见"}


# -- intake: 登记 ---------------------------------------------------------------------------------------


def test_online_petition_is_registered_and_the_fifteen_days_run_through_labour_day(world):
    case = petition(world)
    assert (case.state, case.state_kind, case.channel) == ("registered", "open", "web")
    assert case.number == "XF-2026-000001" and case.reporter == world.resident
    assert case.limit_text == "15天"
    assert case.due_at == at(2026, 5, 5, 10, 0)  # 自然日: the holiday of May 1–5 is not skipped
    assert get_clock().add(START, Duration.parse("15 工作日")) == at(2026, 5, 13, 23, 59, 59)


def test_staff_register_letters_and_visits_with_the_petitioners_name(px):
    world = px.world
    case = petition(world, px.intake, channel="letter")
    assert (case.channel, case.reporter, case.data["petitioner_name"]) == ("letter", px.intake, "郝小雨")
    err = error_of(lambda: petition(world, px.intake, channel="visit", fields={}))
    assert {(e.field, e.code) for e in err.errors} == {
        ("fields.petitioner_name", "required"),
        ("fields.request", "required"),
    }
    err = error_of(lambda: petition(world, world.grid_worker))
    assert (err.status, err.code) == (403, "role_not_allowed")


# -- 转送、交办 (15 days), 退回 --------------------------------------------------------------------------


def test_transfer_to_the_competent_body_restarts_fifteen_days_for_acceptance(px, frozen):
    world = px.world
    case = petition(world)
    frozen.move_to(at(2026, 4, 24, 10, 0))
    err = error_of(lambda: act(px.intake, case, "transfer", params={}))
    assert [(e.field, e.code) for e in err.errors] == [("params.unit", "required")]
    act(px.intake, case, "transfer", params={"unit": world.safety_bureau.code, "category": "suggestion"})
    case = fresh(case)
    assert (case.state, case.state_kind, case.unit) == ("routed", "waiting", world.safety_bureau)
    assert case.data["route"] == "transfer" and case.category == "suggestion"
    assert case.due_at == at(2026, 5, 9, 10, 0)


def test_assign_is_for_dispatchers_and_records_the_route(px):
    world = px.world
    case = petition(world)
    err = error_of(lambda: act(px.intake, case, "assign", params={"unit": world.safety_bureau.code}))
    assert (err.status, err.code) == (403, "role_not_allowed")
    act(world.dispatcher, case, "assign", params={"unit": world.safety_bureau.code}, opinion="交办并报结果")
    case = fresh(case)
    assert case.state == "routed" and case.data["route"] == "assign"


def test_the_body_returns_a_matter_outside_its_powers(px, frozen):
    world = px.world
    case = to_routed(px, petition(world))
    frozen.move_to(at(2026, 4, 22, 10, 0))
    err = error_of(lambda: act(world.handler, case, "return_route", opinion=""))
    assert err.errors[0].field == "opinion"
    act(world.handler, case, "return_route", opinion="属住建部门职责")
    case = fresh(case)
    assert (case.state, case.unit) == ("registered", None)
    assert case.due_at == at(2026, 5, 7, 10, 0)
    act(px.intake, case, "transfer", params={"unit": world.housing_bureau.code})
    assert fresh(case).unit == world.housing_bureau


# -- 受理 / 不予受理 (15 days, in writing) -------------------------------------------------------------


def test_acceptance_starts_sixty_days(px, frozen):
    world = px.world
    case = to_routed(px, petition(world))
    frozen.move_to(at(2026, 5, 6, 9, 0))
    err = error_of(lambda: act(world.other_handler, case, "accept"))
    assert err.status == 404  # another unit does not see the matter
    act(world.handler, case, "accept")
    case = fresh(case)
    assert (case.state, case.limit_text, case.due_at) == ("handling", "60天", at(2026, 7, 5, 9, 0))


def test_not_accepted_with_a_reason_closes_the_case(px):
    world = px.world
    case = to_routed(px, petition(world))
    err = error_of(lambda: act(world.handler, case, "decline"))
    assert [(e.field, e.code) for e in err.errors] == [("fields.decline_reason", "required")]
    act(
        world.handler,
        case,
        "decline",
        fields={"decline_reason": "已进入行政复议程序", "proper_channel": "依法参加行政复议"},
    )
    case = fresh(case)
    assert (case.state, case.state_kind, case.due_at, case.closed_at) == ("declined", "closed", None, START)
    assert [t.code for t, _ in available_transitions(world.inspector, case)] == ["flag"]
    err = error_of(lambda: act(world.handler, case, "accept"))
    assert (err.status, err.code) == (409, "transition_not_allowed")


def test_intake_tells_the_petitioner_where_to_go_without_routing(px):
    case = petition(px.world)
    act(px.intake, case, "decline", fields={"decline_reason": "属于人民法院受理范围"})
    assert fresh(case).state == "declined"


# -- 办理: 60 days, extension approved, at most 30 days in total ------------------------------------------


def test_extension_is_approved_by_a_leader_and_capped_at_thirty_days_in_total(px, frozen):
    world = px.world
    case = to_handling(px, petition(world))
    assert case.due_at == at(2026, 6, 19, 10, 0)
    err = error_of(lambda: act(world.handler, case, "extend", params={"extend_by": "31 天"}))
    assert [(e.field, e.code) for e in err.errors] == [("params.extend_by", "extension_too_long")]
    assert "30天" in err.errors[0].message
    # Another unit than the cap's is measured by where it ends: 25 working days reach past 30 days.
    err = error_of(lambda: act(world.handler, case, "extend", params={"extend_by": "25 工作日"}))
    assert err.errors[0].code == "extension_too_long"
    err = error_of(lambda: act(world.handler, case, "extend", params={"extend_by": "20 天"}, opinion=""))
    assert err.errors[0].field == "opinion"
    act(world.handler, case, "extend", params={"extend_by": "20 天"}, opinion="需调取补贴审批档案")
    assert fresh(case).pending["code"] == "extend"
    err = error_of(lambda: do_decide(world.dispatcher, case.pk, True, "同意"))
    assert (err.status, err.code) == (403, "role_not_allowed")  # 经本机关负责人批准
    err = error_of(lambda: do_decide(world.leader, case.pk, True, "同意"))
    assert (err.status, err.code) == (403, "role_not_allowed")  # the district's leader is not the body's
    do_decide(px.bureau_leader, case.pk, True, "同意延期20日")
    case = fresh(case)
    assert case.due_at == at(2026, 7, 9, 10, 0) and case.pending is None
    assert case.transitions.last().changes["extend_by"] == [None, "20天"]
    err = error_of(lambda: act(world.handler, case, "extend", params={"extend_by": "15 天"}))
    assert err.errors[0].code == "extension_too_long" and "已延长20天" in err.errors[0].message
    act(world.handler, case, "extend", params={"extend_by": "10 天"}, opinion="需听取相关部门意见")
    do_decide(px.bureau_leader, case.pk, True, "同意")
    case = fresh(case)
    assert case.due_at == at(2026, 7, 19, 10, 0)
    err = error_of(lambda: act(world.handler, case, "extend", params={"extend_by": "1 小时"}))
    assert err.errors[0].code == "extension_too_long"
    frozen.move_to(at(2026, 7, 19, 10, 1))
    err = error_of(lambda: act(world.handler, case, "extend", params={"extend_by": "1 天"}))
    assert (err.status, err.code) == (409, "deadline_passed")


def test_a_refused_extension_does_not_count_towards_the_cap(px):
    world = px.world
    case = to_handling(px, petition(world))
    act(world.handler, case, "extend", params={"extend_by": "30 天"}, opinion="情况复杂")
    do_decide(px.bureau_leader, case.pk, False, "理由不充分")
    act(world.handler, case, "extend", params={"extend_by": "30 天"}, opinion="已补充理由")
    do_decide(px.bureau_leader, case.pk, True, "同意")
    assert fresh(case).due_at == at(2026, 7, 19, 10, 0)


# -- 听证: the clock stops and resumes with the time that was left ------------------------------------


def test_a_hearing_stops_the_handling_clock(px, frozen):
    world = px.world
    case = to_handling(px, petition(world))
    frozen.move_to(at(2026, 5, 10, 10, 0))  # 20 of the 60 days used
    err = error_of(lambda: act(world.handler, case, "start_hearing", opinion="事实争议较大"))
    assert err.errors[0].field == "fields.hearing_date"
    act(world.handler, case, "start_hearing", opinion="事实争议较大", fields={"hearing_date": "2026-06-10"})
    case = fresh(case)
    assert (case.state, case.state_kind, case.due_at, case.clock_left) == ("hearing", "parked", None, "40天")
    assert timer_events(get_mechanism("petition"), case) == []  # nothing runs out during a hearing
    frozen.move_to(at(2026, 6, 30, 10, 0))  # long after the original 6-19 deadline
    act(world.leader, case, "urge", opinion="请尽快形成听证结论")
    err = error_of(lambda: act(world.handler, case, "reply", fields=REPLY))
    assert err.code == "transition_not_allowed"
    err = error_of(lambda: act(world.handler, case, "end_hearing"))
    assert err.errors[0].field == "fields.hearing_record"
    act(world.handler, case, "end_hearing", fields={"hearing_record": "听证认为补贴应予兑现"})
    case = fresh(case)
    assert (case.state, case.clock_left, case.due_at) == ("handling", "", at(2026, 8, 9, 10, 0))
    assert case.overdue_since is None


def test_a_second_hearing_also_keeps_the_time_left(px, frozen):
    world = px.world
    case = to_handling(px, petition(world))
    frozen.move_to(at(2026, 5, 10, 10, 0))
    act(world.handler, case, "start_hearing", fields={"hearing_date": "2026-05-20"})
    frozen.move_to(at(2026, 5, 30, 10, 0))
    act(world.handler, case, "end_hearing", fields={"hearing_record": "需再次听证"})  # 40 days left
    frozen.move_to(at(2026, 6, 9, 10, 0))  # 10 more used
    act(world.handler, case, "start_hearing", fields={"hearing_date": "2026-06-15"})
    assert fresh(case).clock_left == "30天"


# -- 处理意见书 and the 30-day window for 复查 --------------------------------------------------------


def test_reply_opens_the_petitioners_thirty_day_window(px, frozen):
    world = px.world
    case = to_handling(px, petition(world))
    frozen.move_to(at(2026, 6, 1, 15, 0))
    err = error_of(lambda: act(world.handler, case, "reply"))
    assert {e.field for e in err.errors} == {"fields.decision", "fields.reply"}
    act(world.handler, case, "reply", fields=REPLY)
    case = fresh(case)
    assert (case.state, case.state_kind, case.due_at) == ("replied", "waiting", at(2026, 7, 1, 15, 0))
    err = error_of(lambda: act(px.intake, case, "conclude"))
    assert (err.status, err.code) == (409, "deadline_not_reached")
    err = error_of(lambda: act(px.intake, case, "request_review", fields={"review_request": "不服"}))
    assert (err.status, err.code) == (403, "role_not_allowed")  # only the petitioner asks online
    err = error_of(lambda: act(world.resident, case, "request_review"))
    assert err.errors[0].field == "fields.review_request"
    frozen.move_to(at(2026, 7, 1, 15, 1))
    err = error_of(lambda: act(world.resident, case, "request_review", fields={"review_request": "不服"}))
    assert (err.status, err.code) == (409, "deadline_passed")
    act(px.intake, case, "conclude")
    case = fresh(case)
    assert (case.state, case.state_kind, case.closed_at) == ("concluded", "closed", at(2026, 7, 1, 15, 1))


def test_the_petitioner_may_accept_the_reply_before_the_window_ends(px):
    case = to_replied(px, petition(px.world))
    act(px.world.resident, case, "accept_reply", opinion="对处理意见满意")
    assert fresh(case).state == "concluded"


def test_a_request_by_letter_is_recorded_by_staff_who_judge_its_timeliness(px, frozen):
    case = to_replied(px, petition(px.world))
    frozen.move_to(at(2026, 5, 22, 9, 0))  # two days after the window; the postmark is within it
    err = error_of(lambda: act(px.intake, case, "record_review_request", opinion="", fields={}))
    assert {e.field for e in err.errors} == {"opinion", "fields.review_request"}
    act(
        px.intake,
        case,
        "record_review_request",
        opinion="来信邮戳为5月19日，在复查请求期限内",
        fields={"review_request": "补贴金额计算有误"},
    )
    case = fresh(case)
    assert (case.state, case.due_at) == ("review_requested", at(2026, 6, 21, 9, 0))


# -- 复查: 30 days from the request, by someone other than who replied ---------------------------------


def test_review_is_answered_within_thirty_days_of_the_request(px, frozen):
    world = px.world
    case = to_replied(px, petition(world))
    frozen.move_to(at(2026, 5, 1, 10, 0))
    act(world.resident, case, "request_review", fields={"review_request": "补贴金额计算有误"})
    case = fresh(case)
    assert (case.state, case.due_at) == ("review_requested", at(2026, 5, 31, 10, 0))
    frozen.move_to(at(2026, 5, 6, 10, 0))
    act(world.dispatcher, case, "assign_review", params={"unit": px.review_unit.code}, opinion="转区政府复查")
    case = fresh(case)
    assert (case.state, case.unit, case.due_at) == ("reviewing", px.review_unit, at(2026, 5, 31, 10, 0))
    # The person who gave the 处理意见 may not review it, even when they also serve the reviewing body.
    Membership.objects.create(user=world.handler, role="handler", unit=px.review_unit)
    forget_grants(world.handler)
    review = {"review_result": "uphold", "review_reply": "原处理意见正确"}
    err = error_of(lambda: act(world.handler, case, "review_reply", fields=review))
    assert (err.status, err.code) == (403, "same_person")
    frozen.move_to(at(2026, 5, 20, 16, 0))
    act(px.reviewer, case, "review_reply", fields=review)
    case = fresh(case)
    assert (case.state, case.state_kind, case.due_at) == ("review_replied", "waiting", at(2026, 6, 19, 16, 0))


def test_review_window_lapses_and_staff_conclude(px, frozen):
    case = to_review_replied(px, petition(px.world))
    err = error_of(lambda: act(px.world.dispatcher, case, "conclude_review"))
    assert err.code == "deadline_not_reached"
    frozen.move_to(at(2026, 5, 20, 10, 1))
    err = error_of(
        lambda: act(px.world.resident, case, "request_recheck", fields={"recheck_request": "不服复查意见"})
    )
    assert err.code == "deadline_passed"
    act(px.world.dispatcher, case, "conclude_review")
    assert fresh(case).state == "concluded"


def test_the_petitioner_may_accept_the_review(px):
    case = to_review_replied(px, petition(px.world))
    act(px.world.resident, case, "accept_review", opinion="接受复查意见")
    assert fresh(case).state == "concluded"


def test_a_recheck_request_by_letter_is_recorded_by_staff(px):
    case = to_review_replied(px, petition(px.world))
    act(px.intake, case, "record_recheck_request", opinion="来访提出", fields={"recheck_request": "不服"})
    case = fresh(case)
    assert (case.state, case.due_at) == ("recheck_requested", at(2026, 5, 20, 10, 0))


# -- 复核: 30 days, hearing not counted, then never again ---------------------------------------------


def test_recheck_with_a_hearing_ends_the_matter_for_good(px, frozen):
    world = px.world
    case = to_review_replied(px, petition(world))
    frozen.move_to(at(2026, 5, 4, 10, 0))
    act(world.resident, case, "request_recheck", fields={"recheck_request": "仍认为补贴金额有误"})
    assert fresh(case).due_at == at(2026, 6, 3, 10, 0)
    frozen.move_to(at(2026, 5, 8, 10, 0))
    act(world.dispatcher, case, "assign_recheck", params={"unit": px.recheck_unit.code})
    case = fresh(case)
    assert (case.state, case.unit, case.due_at) == ("rechecking", px.recheck_unit, at(2026, 6, 3, 10, 0))
    frozen.move_to(at(2026, 5, 14, 10, 0))  # 10 days used, 20 left
    act(
        px.rechecker, case, "start_recheck_hearing", opinion="公开听证", fields={"hearing_date": "2026-06-01"}
    )
    case = fresh(case)
    assert (case.state, case.clock_left, case.due_at) == ("recheck_hearing", "20天", None)
    frozen.move_to(at(2026, 6, 10, 10, 0))
    act(px.rechecker, case, "end_recheck_hearing", fields={"hearing_record": "听证维持原意见"})
    case = fresh(case)
    assert (case.state, case.due_at) == ("rechecking", at(2026, 6, 30, 10, 0))
    # Neither who replied nor who reviewed may recheck.
    Membership.objects.create(user=px.reviewer, role="handler", unit=px.recheck_unit)
    forget_grants(px.reviewer)
    err = error_of(lambda: act(px.reviewer, case, "recheck_reply", fields=RECHECK))
    assert err.code == "same_person"
    act(px.rechecker, case, "recheck_reply", fields=RECHECK)
    case = fresh(case)
    assert (case.state, case.state_kind, case.due_at) == ("final", "closed", None)
    # 不再受理: nothing leads out of `final`; only the discipline inspector can still flag it.
    mech = get_mechanism("petition")
    assert not [t for t in mech.transitions_from("final") if t.to is not None]
    assert available_transitions(world.resident, case) == []
    assert [t.code for t, _ in available_transitions(world.inspector, case)] == ["flag"]
    for code in ("request_review", "request_recheck", "accept"):
        assert error_of(lambda code=code: act(world.resident, case, code)).code == "transition_not_allowed"
    # The same matter brought again is a new case (the engine cannot tell it is the same matter yet):
    # staff decline it and cite the earlier number.
    again = petition(world)
    assert again.number == "XF-2026-000002" and again.state == "registered"
    act(
        px.intake,
        again,
        "decline",
        fields={"decline_reason": f"该事项已经复核终结（{case.number}），不再受理"},
    )
    assert fresh(again).state == "declined"


def test_urge_and_flag_keep_the_deadline(px):
    world = px.world
    case = to_handling(px, petition(world))
    due = case.due_at
    act(world.inspector, case, "urge", opinion="请按期办结")
    act(world.inspector, case, "flag", opinion="关注办理时效")
    case = fresh(case)
    assert (case.state, case.due_at) == ("handling", due)
    assert case.transitions.last().public is False
    err = error_of(lambda: act(world.inspector, case, "reply", fields=REPLY))
    assert err.code == "role_not_allowed"


# -- the scheduler: reminders, 超期, 督办 — and the holidays ---------------------------------------------


def test_handling_reminders_and_escalation(px):
    case = to_handling(px, petition(px.world))
    events = [(e.at, e.kind, e.levels) for e in timer_events(get_mechanism("petition"), case)]
    assert events == [
        (at(2026, 6, 9, 10, 0), "remind", 0),
        (at(2026, 6, 16, 10, 0), "remind", 0),
        (at(2026, 6, 19, 10, 0) + PAST_DUE, "overdue", 0),  # just after the deadline: at it, on time
        (at(2026, 6, 19, 10, 0) + PAST_DUE, "escalate", 1),
        (at(2026, 6, 29, 10, 0), "escalate", 2),
    ]


def test_a_window_that_closes_before_national_day_escalates_after_three_working_days(px, frozen):
    world = px.world
    frozen.move_to(at(2026, 7, 20, 10, 0))
    case = to_handling(px, petition(world))
    frozen.move_to(at(2026, 8, 31, 10, 0))
    act(world.handler, case, "reply", fields=REPLY)
    case = fresh(case)
    assert case.due_at == at(2026, 9, 30, 10, 0)
    events = [(e.at, e.kind) for e in timer_events(get_mechanism("petition"), case)]
    # No reminder to the petitioner; 3 工作日 after 9-30 skip 10-1…10-7 and count the 调休 Saturday 10-10.
    assert events == [
        (at(2026, 9, 30, 10, 0) + PAST_DUE, "overdue"),
        (at(2026, 10, 10, 23, 59, 59), "escalate"),
    ]
    assert do_fire_timers(case.pk, at(2026, 10, 9, 12, 0)) == 1
    case = fresh(case)
    assert case.overdue_since == at(2026, 9, 30, 10, 0) and case.supervision_level == 0
    assert do_fire_timers(case.pk, at(2026, 10, 11, 9, 0)) == 1
    case = fresh(case)
    assert case.supervision_level == 1 and case.supervising_division == world.community
    frozen.move_to(at(2026, 10, 12, 9, 0))
    act(px.intake, case, "conclude")
    case = fresh(case)
    assert case.state == "concluded" and not case.is_overdue


def test_the_thirty_day_periods_do_not_stop_for_national_day(px, frozen):
    frozen.move_to(at(2026, 9, 25, 10, 0))  # itself a holiday (中秋)
    case = petition(px.world)
    assert case.due_at == at(2026, 10, 10, 10, 0)


# -- engine support used by this mechanism: extend_max and after_due -----------------------------------


@pytest.mark.parametrize(
    ("edits", "needle", "field", "fragment"),
    [
        (
            [("    deadline: extend\n", "    deadline: extend\n    extend_max: 30\n")],
            "extend_max: 30",
            "transitions[5].extend_max",
            "时限须写明单位",
        ),
        (
            [("    deadline: extend\n", "    deadline: extend\n    extend_max: 三十天\n")],
            "extend_max: 三十天",
            "transitions[5].extend_max",
            "时限无效",
        ),
        (
            [("    deadline: extend\n", "    deadline: extend\n    extend_max: 0 天\n")],
            "extend_max: 0 天",
            "transitions[5].extend_max",
            "须大于零",
        ),
        (
            [("    deadline: resume\n", "    deadline: resume\n    extend_max: 3 天\n")],
            "extend_max: 3 天",
            "transitions[3].extend_max",
            "只有延期",
        ),
        (
            [("    before_due: true\n", "    before_due: true\n    after_due: true\n")],
            "after_due: true",
            "transitions[5].after_due",
            "不能既要求截止前",
        ),
    ],
)
def test_extend_max_and_after_due_are_validated(edits, needle, field, fragment):
    from tests.mechanisms.test_validation import assert_one_problem, broken

    assert_one_problem(broken(*edits), needle, field, fragment)


def test_the_petition_file_uses_both():
    mech = get_mechanism("petition")
    assert mech.transitions["extend"].extend_max == "30 天"
    assert [t.code for t in mech.definition.transitions if t.after_due] == ["conclude", "conclude_review"]
    assert {s.code for s in mech.definition.states if s.clock == "stopped"} == {"hearing", "recheck_hearing"}


def test_a_reminder_is_written_in_the_platforms_language_whoever_is_active(px):
    case = to_handling(px, petition(px.world))
    with translation.override("en"):  # a request in English must not put English into the history
        assert do_fire_timers(case.pk, at(2026, 6, 9, 10, 0)) == 1
    row = fresh(case).transitions.order_by("-seq").first()
    assert row.code == "remind" and row.opinion.startswith("系统催办：剩余") and "left" not in row.opinion

"""The 12345 接诉即办 mechanism: every transition and time limit, with frozen time and holidays."""

from __future__ import annotations

import pytest
import time_machine

from taizhang.cases.approvals import do_decide
from taizhang.cases.create import CaseInput, do_create_case
from taizhang.cases.hashchain import verify_case
from taizhang.cases.models import Case

from .helpers import act, at, error_of, fresh


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(at(2026, 3, 10, 10, 0), tick=False) as traveller:
        yield traveller


def demand(world, user=None, **kw) -> Case:
    data = dict(
        mechanism="demand",
        title="小区路灯不亮",
        division=world.grid.code,
        category="complaint",
        grade="general",
        channel="hotline",
        description="和心社区3号楼前路灯连续一周不亮",
        fields={"caller_name": "张先生", "caller_phone": "13800000000"},
    )
    data.update(kw)
    case, _ = do_create_case(user or world.dispatcher, CaseInput(**data))
    return case


def dispatched(world, case, **params):
    act(world.dispatcher, case, "dispatch", params={"unit": world.safety_bureau.code, **params})
    return fresh(case)


def handling(world, case, **params):
    dispatched(world, case, **params)
    act(world.handler, case, "sign")
    return fresh(case)


@pytest.mark.parametrize(
    ("grade", "due"),
    [
        ("general", at(2026, 3, 10, 12, 0)),  # 2 工作时
        ("emergency", at(2026, 3, 10, 10, 30)),  # half an hour
    ],
)
def test_accepted_must_be_dispatched_in_time(world, grade, due):
    assert demand(world, grade=grade).due_at == due


def test_accepted_across_national_day(world, frozen):
    frozen.move_to(at(2025, 9, 30, 17, 0))  # 0.5 h left that day, then 1–8 October are off
    case = demand(world)
    # 2 工作时 to dispatch would end on 10-09 10:00, but the 7-day total limit from 受理 comes first.
    assert (case.total_due_at, case.due_at, case.limit_text) == (at(2025, 10, 7, 17, 0),) * 2 + ("7天",)
    emergency = demand(world, grade="emergency")  # half an hour, in real time
    assert emergency.due_at == at(2025, 9, 30, 17, 30)


def test_dispatch_signing_limits(world):
    case = dispatched(world, demand(world))
    assert (case.state, case.unit, case.due_at) == ("dispatched", world.safety_bureau, at(2026, 3, 11, 10, 0))
    urgent = dispatched(world, demand(world, grade="emergency"))
    assert urgent.due_at == at(2026, 3, 10, 11, 0)


@pytest.mark.parametrize(
    ("grade", "due"),
    [
        ("general", at(2026, 3, 17, 10, 0)),
        ("emergency", at(2026, 3, 10, 12, 0)),
        ("utilities", at(2026, 3, 11, 10, 0)),
        ("complex", at(2026, 3, 25, 10, 0)),
    ],
)
def test_handling_limit_by_urgency(world, grade, due):
    assert handling(world, demand(world, grade=grade)).due_at == due


def test_dispatcher_may_change_type_and_urgency(world):
    case = demand(world)
    act(
        world.dispatcher,
        case,
        "dispatch",
        params={"unit": world.safety_bureau.code, "grade": "utilities", "category": "help"},
    )
    case = fresh(case)
    assert (case.grade, case.category) == ("utilities", "help")


def test_co_units_see_the_case_and_give_their_part(world):
    case = handling(world, demand(world), co_units=[world.other_unit.code])
    assert list(case.co_units.all()) == [world.other_unit]
    assert Case.objects.for_user(world.other_handler).filter(pk=case.pk).exists()
    err = error_of(lambda: act(world.other_handler, case, "reply", fields={"reply": "已修复"}))
    assert (err.status, err.code) == (403, "role_not_allowed")
    act(world.other_handler, case, "assist", opinion="水务局已配合排查线路")
    row = fresh(case).transitions.last()
    assert (row.code, row.role) == ("assist", "handler@co")


def test_co_units_are_checked(world):
    case = demand(world)
    err = error_of(
        lambda: act(
            world.dispatcher,
            case,
            "dispatch",
            params={"unit": world.safety_bureau.code, "co_units": [world.safety_bureau.code, "NOPE"]},
        )
    )
    assert {e.code for e in err.errors} == {"unknown_unit", "lead_as_co_unit"}


def test_return_is_reviewed_by_the_dispatcher(world, frozen):
    case = dispatched(world, demand(world))
    err = error_of(lambda: act(world.handler, case, "return", opinion="不属于本单位"))
    assert err.errors[0].field == "fields.return_reason"
    frozen.move_to(at(2025, 10, 11, 9, 0))  # a 调休 Saturday: a working day
    act(world.handler, case, "return", opinion="不属于本单位", fields={"return_reason": "路灯归城管局管理"})
    case = fresh(case)
    assert case.state == "return_review" and case.due_at == at(2025, 10, 13, 23, 59, 59)
    act(world.dispatcher, case, "refuse_return", opinion="路灯维护属于应急管理局协调范围")
    assert fresh(case).state == "dispatched"
    act(world.handler, case, "return", opinion="再次申请", fields={"return_reason": "确不属于本单位"})
    act(world.dispatcher, case, "accept_return", opinion="同意改派")
    case = fresh(case)
    assert case.state == "accepted" and case.unit is None
    act(world.dispatcher, case, "dispatch", params={"unit": world.housing_bureau.code})
    assert fresh(case).unit == world.housing_bureau


def test_extension_is_approved(world):
    case = handling(world, demand(world))
    act(world.handler, case, "extend", opinion="需协调供电公司", params={"extend_by": "3 自然日"})
    do_decide(world.dispatcher, case.pk, True, "同意")
    assert fresh(case).due_at == at(2026, 3, 20, 10, 0)


def test_reply_visit_and_evaluation(world):
    case = handling(world, demand(world))
    err = error_of(lambda: act(world.handler, case, "reply"))
    assert err.errors[0].field == "fields.reply"
    act(
        world.handler,
        case,
        "reply",
        opinion="已更换灯泡",
        fields={"reply": "已于3月10日更换路灯灯泡，恢复照明"},
    )
    case = fresh(case)
    assert case.state == "replied" and case.due_at == at(2026, 3, 12, 23, 59, 59)  # 回访 in 2 工作日
    act(world.dispatcher, case, "visit_satisfied")
    case = fresh(case)
    assert case.state == "closed" and case.data["satisfaction"] == "satisfied"
    assert case.transitions.last().changes["fields.satisfaction"] == [None, "satisfied"]


def test_unsatisfied_visit_reopens_the_case(world, frozen):
    case = handling(world, demand(world))
    act(world.handler, case, "reply", fields={"reply": "已处理"})
    frozen.move_to(at(2026, 3, 11, 10, 0))
    err = error_of(lambda: act(world.dispatcher, case, "visit_unsatisfied", opinion="群众反映仍不亮"))
    assert err.errors[0].field == "fields.visit_note"
    act(
        world.dispatcher,
        case,
        "visit_unsatisfied",
        opinion="群众反映仍不亮",
        fields={"visit_note": "仍有两盏不亮"},
    )
    case = fresh(case)
    assert case.state == "handling" and case.data["satisfaction"] == "unsatisfied"
    assert case.due_at == at(2026, 3, 18, 10, 0)  # 重办: a new 7-day limit
    act(world.handler, case, "reply", fields={"reply": "已全部更换"})
    act(world.dispatcher, case, "visit_basic")
    assert fresh(case).data["satisfaction"] == "basic"


def test_unreachable_caller_and_invalid_demands_close(world):
    case = handling(world, demand(world))
    act(world.handler, case, "reply", fields={"reply": "已处理"})
    act(world.dispatcher, case, "close_unreachable", opinion="三次回访未接通")
    assert fresh(case).state == "closed"
    junk = demand(world, title="测试来电")
    act(world.dispatcher, junk, "invalidate", opinion="无实际诉求")
    assert fresh(junk).state_kind == "closed"


def test_consultations_can_be_answered_at_once(world):
    case = demand(world, category="consult", title="咨询社保卡补办")
    act(world.dispatcher, case, "answer_directly", fields={"reply": "携带身份证到社区服务中心办理"})
    assert fresh(case).state == "replied"
    complaint = demand(world)
    err = error_of(lambda: act(world.dispatcher, complaint, "answer_directly", fields={"reply": "x"}))
    assert err.code == "condition_not_met"


def test_merge_keeps_both_histories_and_each_reporter_gets_the_answer(world):
    master = demand(world)
    duplicate = demand(world, user=world.resident, channel="web", title="3号楼路灯坏了")
    err = error_of(lambda: act(world.dispatcher, duplicate, "merge", params={"master": duplicate.number}))
    assert err.errors[0].code == "merge_into_self"
    act(world.dispatcher, duplicate, "merge", opinion="与主诉求为同一问题", params={"master": master.number})
    duplicate, master = fresh(duplicate), fresh(master)
    assert duplicate.state == "merged" and duplicate.merged_into == master
    assert master.transitions.last().code == "merge_in" and master.data["merged_from"] == [duplicate.number]
    handling(world, master)
    act(world.handler, master, "reply", opinion="已修复", fields={"reply": "路灯已修复"})
    copied = fresh(duplicate).transitions.last()
    assert (copied.kind, copied.code) == ("copy", "reply")
    assert copied.changes["fields.reply"] == [None, "路灯已修复"]
    assert verify_case(fresh(duplicate)) is None and verify_case(fresh(master)) is None
    third = demand(world)
    err = error_of(lambda: act(world.dispatcher, third, "merge", params={"master": duplicate.number}))
    assert err.errors[0].code == "master_closed"


def test_inspector_urges_and_flags_only(world):
    case = dispatched(world, demand(world))
    act(world.inspector, case, "urge", opinion="请尽快签收")
    act(world.inspector, case, "flag", opinion="关注")
    err = error_of(lambda: act(world.inspector, case, "sign"))
    assert err.status == 403


def test_consultations_follow_the_local_rule_pack(world):
    case = handling(world, demand(world, category="consult", title="咨询公租房申请条件"))
    assert case.limit_text == "1个工作日" and case.due_at == at(2026, 3, 11, 23, 59, 59)

"""12345 data fixes of issue #13: 转110/119/120 and 引导诉讼/复议/仲裁/信访 as closed outcomes at 受理 (never
counted as 解决), and 退单 only within the window after 派单 (`within`, a local figure a pack overrides)."""

from __future__ import annotations

from datetime import date

import pytest
import time_machine

from taizhang.cases.models import Case
from taizhang.insight.kpi import KpiRequest, kpi_report
from taizhang.intake.portal.progress import public_state
from taizhang.mechanisms.registry import get_mechanism

from .helpers import act, at, error_of, fresh
from .packs import extra_pack
from .test_demand_mechanism import demand as demand_case

RETURN = {"return_reason": "路灯归城管局管理"}


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(at(2026, 3, 10, 10, 0), tick=False) as traveller:  # a Tuesday
        yield traveller


def demand(world, **kw) -> Case:
    """An emergency call by default (a car smoking in a garage): what 转119 is for."""
    fields = {"title": "小区地下车库有车辆冒烟", "category": "help", "grade": "emergency"}
    return demand_case(world, **{**fields, **kw})


# -- 转110/119/120 and 引导法定途径: closed at 受理 with what was done --------------------------------------


def test_refer_to_119_closes_the_demand_with_the_service_and_what_the_caller_was_told(world):
    case = demand(world)
    err = error_of(lambda: act(world.dispatcher, case, "refer_emergency"))
    assert {(e.field, e.code) for e in err.errors} == {
        ("fields.emergency_service", "required"),
        ("fields.caller_told", "required"),
    }
    err = error_of(
        lambda: act(
            world.dispatcher, case, "refer_emergency", fields={"emergency_service": "122", "caller_told": "x"}
        )
    )
    assert err.errors[0].field == "fields.emergency_service"
    act(
        world.dispatcher,
        case,
        "refer_emergency",
        fields={"emergency_service": "fire", "caller_told": "已三方转119，请远离车辆并疏散人员"},
    )
    case = fresh(case)
    assert (case.state, case.state_kind, case.due_at) == ("referred", "closed", None)
    assert case.data["emergency_service"] == "fire" and case.unit is None
    mech = get_mechanism("demand")
    assert mech.states["referred"].public_name == "已转应急联动处置"
    assert mech.transitions["refer_emergency"].public_name == "已转应急联动（110/119/120）处置"


def test_guide_to_a_legal_channel_records_the_channel_and_the_reason(world):
    case = demand(world, title="被公司辞退要求经济补偿", category="complaint", grade="general")
    err = error_of(
        lambda: act(
            world.dispatcher,
            case,
            "guide_legal",
            opinion="",
            fields={"legal_channel": "arbitration", "caller_told": "可向劳动人事争议仲裁委员会申请仲裁"},
        )
    )
    assert [e.field for e in err.errors] == ["opinion"]
    act(
        world.dispatcher,
        case,
        "guide_legal",
        opinion="属于劳动争议，依法应通过仲裁解决",
        fields={"legal_channel": "arbitration", "caller_told": "可向劳动人事争议仲裁委员会申请仲裁"},
    )
    case = fresh(case)
    assert (case.state, case.state_kind) == ("guided", "closed")
    assert get_mechanism("demand").states["guided"].public_name == "已告知通过法定途径解决"


def test_the_outcomes_are_only_for_a_demand_not_yet_dispatched(world):
    case = demand(world)
    act(world.dispatcher, case, "dispatch", params={"unit": world.safety_bureau.code})
    err = error_of(
        lambda: act(
            world.dispatcher,
            case,
            "refer_emergency",
            fields={"emergency_service": "fire", "caller_told": "x"},
        )
    )
    assert (err.status, err.code) == (409, "transition_not_allowed")
    err = error_of(
        lambda: act(world.handler, demand(world), "refer_emergency", fields={"emergency_service": "fire"})
    )
    assert err.status in (403, 404)  # a unit's handler does not take calls


def test_kpis_never_count_a_referral_or_guidance_as_resolved(world, frozen):
    referred = demand(world)
    act(
        world.dispatcher,
        referred,
        "refer_emergency",
        fields={"emergency_service": "ambulance", "caller_told": "已转120"},
    )
    guided = demand(world, category="complaint", grade="general")
    act(
        world.dispatcher,
        guided,
        "guide_legal",
        opinion="已进入诉讼程序",
        fields={"legal_channel": "litigation", "caller_told": "请向人民法院起诉"},
    )
    frozen.move_to(at(2026, 3, 20, 9, 0))
    totals = kpi_report(world.leader, KpiRequest("demand", date(2026, 3, 9), date(2026, 3, 16)))["totals"]
    assert totals["cases"] == 2
    assert (totals["resolution_rate"]["numerator"], totals["resolution_rate"]["denominator"]) == (0, 0)
    assert totals["resolution_rate"]["rate"] is None  # no 回访, so neither is 解决 nor 未解决
    assert totals["response_rate"]["denominator"] == 0  # never dispatched
    assert (totals["close_rate"]["numerator"], totals["close_rate"]["denominator"]) == (
        2,
        2,
    )  # closed, as 无效


def test_the_public_ledger_names_the_outcomes(world):
    case = demand(world, channel="web")
    act(
        world.dispatcher,
        case,
        "refer_emergency",
        fields={"emergency_service": "police", "caller_told": "已转110"},
    )
    assert public_state(get_mechanism("demand"), fresh(case).state) == "已转应急联动处置"


# -- 退单 only within the window after 派单 -------------------------------------------------------------


def dispatched(world, case=None) -> Case:
    case = case or demand(world, title="小区路灯不亮", category="complaint", grade="general")
    act(world.dispatcher, case, "dispatch", params={"unit": world.safety_bureau.code})
    return fresh(case)


def test_return_within_two_working_hours_of_dispatch(world, frozen):
    case = dispatched(world)  # Tuesday 10:00
    frozen.move_to(at(2026, 3, 10, 11, 59))
    act(world.handler, case, "return", opinion="不属于本单位", fields=RETURN)
    assert fresh(case).state == "return_review"


def test_return_after_the_window_is_refused_in_chinese(world, frozen):
    case = dispatched(world)
    frozen.move_to(at(2026, 3, 10, 16, 0))  # later than 2 working hours after 10:00, the lunch break aside
    err = error_of(lambda: act(world.handler, case, "return", opinion="不属于本单位", fields=RETURN))
    assert (err.status, err.code) == (409, "window_passed")
    assert err.message.startswith("「退单」须在「派单」后2个工作时内提出")
    assert fresh(case).state == "dispatched"


def test_the_window_counts_working_hours_only(world, frozen):
    frozen.move_to(at(2026, 3, 13, 17, 0))  # Friday, an hour before closing
    case = dispatched(world)
    frozen.move_to(at(2026, 3, 16, 8, 50))  # Monday morning: the weekend did not count
    act(world.handler, case, "return", opinion="不属于本单位", fields=RETURN)
    assert fresh(case).state == "return_review"


def test_a_reminder_does_not_restart_the_window(world, frozen):
    case = dispatched(world)
    frozen.move_to(at(2026, 3, 10, 11, 0))
    act(world.leader, case, "urge", opinion="请尽快签收")  # stays in 待签收
    frozen.move_to(at(2026, 3, 10, 16, 0))
    err = error_of(lambda: act(world.handler, case, "return", opinion="不属于本单位", fields=RETURN))
    assert err.code == "window_passed"


def test_a_refused_return_opens_the_window_again_from_the_refusal(world, frozen):
    case = dispatched(world)
    act(world.handler, case, "return", opinion="不属于本单位", fields=RETURN)
    frozen.move_to(at(2026, 3, 11, 9, 0))
    act(world.dispatcher, case, "refuse_return", opinion="属于本单位职责")
    frozen.move_to(at(2026, 3, 11, 10, 30))  # 1.5 working hours after the refusal, a day after 派单
    act(world.handler, case, "return", opinion="再次申请", fields={"return_reason": "确不属于本单位"})
    assert fresh(case).state == "return_review"


RETURN_PACK = """\
pack: wmjd_return
name: 五马街道退单时限
divisions: [WMJD]
mechanisms:
  demand:
    transitions:
      return: {within: 1 工作日}
"""


def test_a_rule_pack_sets_its_own_window(world, frozen, tmp_path):
    with extra_pack(tmp_path, RETURN_PACK):
        mech = get_mechanism("demand")
        assert mech.transition_rule(mech.transitions["return"], "within", world.grid.path) == "1 工作日"
        assert mech.transition_rule(mech.transitions["return"], "within", world.other_grid.path) == "2 工作时"
        case = dispatched(world)
        frozen.move_to(at(2026, 3, 11, 17, 0))  # the next working day, within 1 工作日
        act(world.handler, case, "return", opinion="不属于本单位", fields=RETURN)
        assert fresh(case).state == "return_review"

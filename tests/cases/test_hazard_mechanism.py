"""Every transition and rule of the hazard mechanism, with frozen time."""

from __future__ import annotations

from datetime import datetime

import pytest
import time_machine

from taizhang.cases.approvals import do_decide
from taizhang.cases.hashchain import verify_case
from taizhang.org.models import Membership

from .helpers import TZ, act, at, error_of, fresh, report, to_rectifying

TUESDAY = datetime(2026, 3, 10, 10, 0, tzinfo=TZ)  # deadlines stay inside a year the calendar knows


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(TUESDAY, tick=False) as traveller:
        yield traveller


def test_report_sets_channel_from_role_and_first_deadline(world):
    case = report(world)
    assert case.channel == "grid" and case.state == "reported" and case.state_kind == "open"
    assert case.region == "LZQ"
    assert case.due_at == at(2026, 3, 11, 23, 59, 59)  # 1 工作日
    assert case.transitions.get().role == "grid_worker"


def test_register_confirms_grade_and_category(world):
    case = report(world)
    act(world.dispatcher, case, "register", params={"grade": "larger", "category": "gas"})
    case = fresh(case)
    assert (case.state, case.grade, case.category) == ("registered", "larger", "gas")
    assert case.due_at == at(2026, 3, 10, 16, 0)  # 4 工作时 from 10:00: 2 h before lunch, 2 h after
    assert case.transitions.last().changes["grade"] == ["general", "larger"]


def test_reject_needs_opinion_and_closes(world):
    case = report(world)
    err = error_of(lambda: act(world.dispatcher, case, "reject", opinion=""))
    assert err.status == 422 and err.errors[0].field == "opinion"
    act(world.dispatcher, case, "reject", opinion="经核实不属于安全隐患")
    case = fresh(case)
    assert case.state_kind == "closed" and case.closed_at == TUESDAY and case.due_at is None


def test_fix_on_spot_needs_photo_and_only_general(world, photo):
    case = report(world)
    err = error_of(lambda: act(world.grid_worker, case, "fix_on_spot"))
    assert [e.code for e in err.errors] == ["photos_required"]
    act(world.grid_worker, case, "fix_on_spot", attachments=[photo(world.grid_worker)])
    assert fresh(case).state == "closed"
    major = report(world, grade="major")
    err = error_of(
        lambda: act(world.grid_worker, major, "fix_on_spot", attachments=[photo(world.grid_worker)])
    )
    assert (err.status, err.code) == (409, "condition_not_met")


def test_assign_needs_a_known_unit(world):
    case = report(world)
    act(world.dispatcher, case, "register")
    err = error_of(lambda: act(world.dispatcher, case, "assign", params={}))
    assert [(e.field, e.code) for e in err.errors] == [("params.unit", "required")]
    err = error_of(lambda: act(world.dispatcher, case, "assign", params={"unit": "NOPE"}))
    assert err.errors[0].code == "unknown_unit"
    act(world.dispatcher, case, "assign", params={"unit": world.safety_bureau.code})
    case = fresh(case)
    assert case.unit == world.safety_bureau and case.state_kind == "waiting"


def test_only_the_assigned_unit_signs(world):
    case = report(world)
    act(world.dispatcher, case, "register")
    act(world.dispatcher, case, "assign", params={"unit": world.safety_bureau.code})
    err = error_of(lambda: act(world.other_handler, case, "sign"))
    assert err.status == 404  # another unit does not even see the case
    err = error_of(lambda: act(world.grid_worker, case, "sign"))
    assert (err.status, err.code) == (403, "role_not_allowed")
    act(world.handler, case, "sign")
    assert fresh(case).state == "rectifying"


def test_return_to_dispatch_clears_unit(world):
    case = report(world)
    act(world.dispatcher, case, "register")
    act(world.dispatcher, case, "assign", params={"unit": world.safety_bureau.code})
    err = error_of(lambda: act(world.handler, case, "return", opinion=" "))
    assert err.errors[0].field == "opinion"
    act(world.handler, case, "return", opinion="不属于本单位职责，应由住建部门处理")
    case = fresh(case)
    assert case.state == "registered" and case.unit is None
    act(world.dispatcher, case, "assign", params={"unit": world.housing_bureau.code})
    assert fresh(case).unit == world.housing_bureau


def test_major_hazard_needs_the_five_implementations_to_sign(world):
    case = report(world, grade="major")
    act(world.dispatcher, case, "register")
    act(world.dispatcher, case, "assign", params={"unit": world.safety_bureau.code})
    err = error_of(lambda: act(world.handler, case, "sign"))
    assert {e.field for e in err.errors} == {
        "fields.measures",
        "fields.responsible_person",
        "fields.funds",
        "fields.plan_deadline",
        "fields.contingency",
    }
    err = error_of(lambda: act(world.handler, case, "sign", fields={"funds": "很多"}))
    assert ("fields.funds", "invalid") in {(e.field, e.code) for e in err.errors}
    plan = {
        "measures": "更换储罐阀门",
        "responsible_person": "牛志远",
        "funds": "12.5",
        "plan_deadline": "2026-12-20",
        "contingency": "泄漏应急处置预案",
    }
    act(world.handler, case, "sign", fields=plan)
    case = fresh(case)
    assert case.state == "rectifying" and case.data["funds"] == "12.5"
    assert case.limit_text == "30个工作日"  # the 潞州区 rule pack, not the mechanism's 30 自然日


def test_rule_pack_sets_rectification_limit(world):
    case = to_rectifying(world, report(world))
    case = fresh(case)
    assert case.limit_text == "5个工作日"
    assert case.due_at == at(2026, 3, 17, 23, 59, 59)


def test_cordon_keeps_the_deadline(world):
    case = fresh(to_rectifying(world, report(world, category="building")))
    due = case.due_at
    err = error_of(lambda: act(world.handler, case, "cordon", opinion="危房，立即撤离"))
    assert err.errors[0].field == "fields.cordon"
    act(
        world.handler,
        case,
        "cordon",
        opinion="危房，立即撤离",
        fields={"cordon": "拉设警戒线", "evacuated_people": 12},
    )
    case = fresh(case)
    assert case.state_kind == "controlled" and case.due_at == due and case.data["evacuated_people"] == 12
    act(world.handler, case, "lift_cordon")
    case = fresh(case)
    assert case.state == "rectifying" and case.due_at == due


def test_verification_by_someone_else_then_rework(world, photo):
    case = to_rectifying(world, report(world))
    Membership.objects.create(user=world.handler, role="verifier", unit=world.safety_bureau)
    from taizhang.org.scopes import forget_grants

    forget_grants(world.handler)
    err = error_of(lambda: act(world.handler, case, "rectified"))
    assert {e.code for e in err.errors} == {"photos_required"}
    act(world.handler, case, "rectified", attachments=[photo(world.handler)])
    case = fresh(case)
    assert case.state == "verifying"
    handler = type(world.handler).objects.get(pk=world.handler.pk)
    err = error_of(lambda: act(handler, case, "pass"))
    # A verifier of the unit that did the work is not the supervising body's (tests/cases/test_parties.py).
    assert (err.status, err.code) == (403, "role_not_allowed")
    act(world.verifier, case, "rework", opinion="整改不彻底，杂物仍未清除")
    case = fresh(case)
    assert case.state == "rectifying" and case.due_at == at(2026, 3, 17, 23, 59, 59)
    act(world.handler, case, "rectified", attachments=[photo(world.handler)])
    act(world.verifier, case, "pass")
    assert fresh(case).state == "closed"


def test_extension_asked_before_expiry_and_approved(world, frozen):
    case = fresh(to_rectifying(world, report(world)))
    due = case.due_at
    err = error_of(lambda: act(world.handler, case, "extend", params={"extend_by": "三天"}))
    assert err.errors[0].code == "invalid_duration"
    err = error_of(lambda: act(world.handler, case, "extend", params={"extend_by": " "}))
    assert (err.errors[0].code, err.errors[0].message) == ("required", "请填写延期时长，例如“3 工作日”")
    act(world.handler, case, "extend", opinion="需采购配件", params={"extend_by": "3 工作日"})
    case = fresh(case)
    assert case.pending["code"] == "extend" and case.due_at == due
    err = error_of(lambda: act(world.handler, case, "extend", params={"extend_by": "1 工作日"}))
    assert err.code == "approval_pending"
    err = error_of(lambda: do_decide(world.handler, case.pk, True))
    assert err.status == 403
    err = error_of(lambda: do_decide(world.leader, case.pk, False, ""))
    assert err.errors[0].field == "opinion"
    do_decide(world.leader, case.pk, True, "同意延期")
    case = fresh(case)
    assert case.pending is None and case.due_at == at(2026, 3, 20, 23, 59, 59)
    assert [t.kind for t in case.transitions.order_by("seq")][-2:] == ["request", "approve"]
    frozen.move_to(at(2026, 3, 21, 9, 0))
    err = error_of(lambda: act(world.handler, case, "extend", params={"extend_by": "1 工作日"}))
    assert err.code == "deadline_passed"


def test_refused_extension_keeps_deadline(world):
    case = fresh(to_rectifying(world, report(world)))
    due = case.due_at
    act(world.handler, case, "extend", params={"extend_by": "10 工作日"})
    do_decide(world.dispatcher, case.pk, False, "理由不充分")
    case = fresh(case)
    assert case.pending is None and case.due_at == due and case.transitions.last().kind == "refuse"


def test_parking_stops_the_clock_and_resume_restores_it(world, frozen):
    case = fresh(to_rectifying(world, report(world)))
    err = error_of(lambda: act(world.handler, case, "park", opinion="需协调产权单位"))
    assert err.errors[0].field == "fields.park_reason"
    act(world.handler, case, "park", opinion="需协调产权单位", fields={"park_reason": "产权纠纷"})
    do_decide(world.leader, case.pk, True, "同意挂账")
    case = fresh(case)
    assert case.state_kind == "parked" and case.clock_left == "5个工作日"
    frozen.move_to(at(2026, 3, 25, 10, 0))
    act(world.handler, case, "resume", opinion="产权问题已解决")
    case = fresh(case)
    assert case.state == "rectifying" and case.clock_left == ""
    assert case.due_at == at(2026, 4, 1, 23, 59, 59)  # 5 working days counted again from the 25th


def test_refusal_goes_to_joint_enforcement(world, photo):
    case = to_rectifying(world, report(world))
    err = error_of(
        lambda: act(
            world.handler,
            case,
            "refuse",
            opinion="经营者拒不整改",
            params={"unit": world.housing_bureau.code},
        )
    )
    assert err.errors[0].code == "not_enforcement_unit"
    act(
        world.handler,
        case,
        "refuse",
        opinion="经营者拒不整改",
        params={"unit": world.enforcement_bureau.code},
    )
    case = fresh(case)
    # The rectifying unit stays responsible; the enforcement bureau joins as a party.
    assert case.state == "enforcement" and case.unit == world.safety_bureau
    assert case.parties.filter(kind="enforcement", unit=world.enforcement_bureau).exists()


def test_inspector_urges_and_flags_but_does_not_dispatch(world):
    case = report(world)
    act(world.dispatcher, case, "register")
    err = error_of(lambda: act(world.inspector, case, "assign", params={"unit": world.safety_bureau.code}))
    assert (err.status, err.code) == (403, "role_not_allowed")
    act(world.inspector, case, "urge", opinion="请加快办理")
    act(world.inspector, case, "flag", opinion="关注该案件的办理时效")
    case = fresh(case)
    assert case.state == "registered"
    assert [t.role for t in case.transitions.order_by("seq")][-2:] == ["inspector", "inspector"]
    assert case.transitions.last().public is False


def test_stale_version_is_refused_and_writes_nothing(world):
    case = report(world)
    err = error_of(lambda: act(world.dispatcher, case, "register", expected_version=5))
    assert (err.status, err.code) == (409, "stale_version")
    assert fresh(case).transitions.count() == 1


def test_history_cannot_be_edited(world):
    from django.db import connection

    case = to_rectifying(world, report(world))
    row = fresh(case).transitions.first()
    row.opinion = "改写历史"
    with pytest.raises(PermissionError):
        row.save()
    with pytest.raises(PermissionError):
        fresh(case).transitions.update(opinion="x")
    with pytest.raises(PermissionError):
        row.delete()
    with pytest.raises(Exception, match="append-only"), connection.cursor() as cursor:
        cursor.execute("UPDATE cases_transition SET opinion = 'x' WHERE id = %s", [row.pk])


def test_hash_chain_detects_tampering(world):
    from django.db import connection

    case = to_rectifying(world, report(world))
    assert verify_case(fresh(case)) is None
    with connection.cursor() as cursor:  # forge a row the way an attacker with DB access would
        cursor.execute(
            "DROP TRIGGER IF EXISTS cases_transition_append_only"
            + (" ON cases_transition" if connection.vendor == "postgresql" else "")
        )
        cursor.execute(
            "UPDATE cases_transition SET opinion = '伪造' WHERE case_id = %s AND seq = 2", [case.pk]
        )
    broken = verify_case(fresh(case))
    assert broken is not None and broken.seq == 2


def test_deadline_in_an_unknown_year_is_a_clear_error(world, frozen, settings):
    from taizhang.clock.clock import reset_clock

    frozen.move_to(at(2026, 12, 28, 10, 0))  # 5 working days from here reach into 2027
    case = report(world)
    act(world.dispatcher, case, "register")
    act(world.dispatcher, case, "assign", params={"unit": world.safety_bureau.code})
    err = error_of(lambda: act(world.handler, case, "sign"))
    assert (err.status, err.code) == (422, "calendar_year_unknown")
    assert "2027.yaml" in err.message
    case = fresh(case)
    assert case.state == "assigned" and case.transitions.count() == 3  # nothing half-written
    settings.TAIZHANG_CALENDAR_UNKNOWN_YEAR = "weekends"
    reset_clock()
    act(world.handler, case, "sign")
    assert fresh(case).due_at == at(2027, 1, 4, 23, 59, 59)  # Monday to Friday assumed for 2027


def test_enterprise_self_check_is_the_enterprises_case(world, photo):
    case = report(world, user=world.enterprise_officer, division=world.other_grid.code, category="hazchem")
    assert case.channel == "self_check" and case.unit == world.enterprise
    # It may not close its own finding on the spot; the grid worker of the place checks and closes it.
    err = error_of(
        lambda: act(
            world.enterprise_officer, case, "fix_on_spot", attachments=[photo(world.enterprise_officer)]
        )
    )
    assert (err.status, err.code) == (403, "role_not_allowed")
    act(world.outsider, case, "fix_on_spot", attachments=[photo(world.outsider)])
    assert fresh(case).state == "closed"


def test_inspectors_do_not_file_cases(world):
    err = error_of(lambda: report(world, user=world.inspector))
    assert (err.status, err.code) == (403, "role_not_allowed")


def test_resident_sees_no_staff_names(world):
    from taizhang.cases.present import case_detail

    case = to_rectifying(world, report(world, user=world.resident))
    act(world.handler, case, "extend", params={"extend_by": "2 工作日"})
    do_decide(world.leader, case.pk, False, "不予延期")
    act(world.handler, case, "extend", params={"extend_by": "1 工作日"})
    detail = case_detail(world.resident, fresh(case))
    text = str(detail["history"]) + str(detail["pending"])
    assert world.handler.display_name not in text and world.leader.display_name not in text
    assert detail["pending"] == {"name": "申请延期", "approval": "延期审批"}

"""Parties of a case and separation of duties: who verifies, approves and closes, and who keeps seeing.

Each test names the rule it proves (mechanisms.md §0, issue #13).
"""

from __future__ import annotations

import pytest
import time_machine

from taizhang.cases.approvals import do_decide
from taizhang.cases.models import Case
from taizhang.cases.todo import todo_q
from taizhang.org.models import Membership, User
from tests.cases.helpers import act, at, error_of, fresh, report

MAJOR_PLAN = {
    "measures": "更换储罐阀门，增设可燃气体报警",
    "responsible_person": "车间主任",
    "funds": "12.5",
    "plan_deadline": "2026-12-30",
    "contingency": "泄漏时启动厂区应急预案",
}


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(at(2026, 3, 10, 9, 30), tick=False) as traveller:
        yield traveller


def person(username: str, role: str, **node) -> User:
    user = User.objects.create_user(username=username, password="pw", display_name=username)
    Membership.objects.create(user=user, role=role, **node)
    return user


def sees(user, case) -> bool:
    return Case.objects.for_user(user).filter(pk=case.pk).exists()


def waits_for(user, case) -> bool:
    return Case.objects.for_user(user, "act").filter(todo_q(user)).filter(pk=case.pk).exists()


@pytest.fixture
def ent(world):
    """The enterprise's own verifier and leader (安全总监, 总经理), who must never close its hazards."""
    return {
        "verifier": person("qy-hecha", "verifier", unit=world.enterprise),
        "leader": person("qy-zongjingli", "leader", unit=world.enterprise),
    }


def hazard_at_the_enterprise(world, photo, grade="general", **kw):
    """A hazard the street's dispatcher hands to the enterprise, which signs and reports it rectified."""
    case = report(world, grade=grade, **kw)
    act(world.dispatcher, case, "register")
    act(world.dispatcher, case, "assign", params={"unit": world.enterprise.code})
    act(world.enterprise_officer, case, "sign", fields=MAJOR_PLAN if grade == "major" else {})
    return fresh(case)


def test_rule_the_enterprise_never_verifies_or_closes_its_own_hazard(world, photo, ent):
    case = hazard_at_the_enterprise(world, photo)
    assert {(p.kind, p.division_id or p.unit_id) for p in case.parties.all()} >= {
        ("lead", world.enterprise.pk),
        ("supervisor", world.street.pk),  # the street's dispatcher handed it over
    }
    act(world.enterprise_officer, case, "rectified", attachments=[photo(world.enterprise_officer)])
    for own in (ent["verifier"], ent["leader"]):
        assert sees(own, case)
        assert not waits_for(own, case)
        for code in ("pass", "rework"):
            err = error_of(lambda own=own, code=code: act(own, case, code, opinion="已整改"))
            assert (err.status, err.code) == (403, "role_not_allowed")
    assert waits_for(world.verifier, case)
    act(world.verifier, case, "pass", opinion="现场复核已整改到位")
    case = fresh(case)
    assert case.state == "closed"
    assert case.transitions.last().role == "verifier@supervisor"


def test_rule_a_department_located_at_the_supervising_level_is_not_its_body(world, photo):
    """The district's bureaus are units of their own: a hazard the district hands to an enterprise is
    neither shown to nor closed by a bureau's verifier; the district's own verifier closes it."""
    bureau_verifier = person("yjj-hecha", "verifier", unit=world.safety_bureau)
    case = report(world)
    act(world.leader, case, "register")
    act(world.leader, case, "assign", params={"unit": world.enterprise.code})
    act(world.enterprise_officer, case, "sign")
    act(world.enterprise_officer, case, "rectified", attachments=[photo(world.enterprise_officer)])
    assert not sees(bureau_verifier, case)
    district_verifier = person("qu-hecha", "verifier", division=world.district)
    assert waits_for(district_verifier, case)
    act(district_verifier, case, "pass")
    assert fresh(case).state == "closed"


def test_rule_a_department_never_supervises_its_own_work(world, photo):
    """A district bureau that rectifies is not the district's supervising body for that hazard."""
    bureau_verifier = person("yjj-hecha", "verifier", unit=world.safety_bureau)
    case = report(world)
    act(world.leader, case, "register")
    act(world.leader, case, "assign", params={"unit": world.safety_bureau.code})  # supervisor: the district
    act(world.handler, case, "sign")
    act(world.handler, case, "rectified", attachments=[photo(world.handler)])
    assert not waits_for(bureau_verifier, case)
    err = error_of(lambda: act(bureau_verifier, case, "pass"))
    assert (err.status, err.code) == (403, "role_not_allowed")
    district_verifier = person("qu-hecha", "verifier", division=world.district)
    act(district_verifier, case, "pass")
    assert fresh(case).state == "closed"


def test_rule_parking_a_major_hazard_is_approved_by_the_supervising_body(world, photo, ent):
    case = hazard_at_the_enterprise(world, photo, grade="major")
    act(world.enterprise_officer, case, "park", fields={"park_reason": "需停产改造，资金待批"})
    assert fresh(case).pending["code"] == "park"
    assert not waits_for(ent["leader"], case)
    err = error_of(lambda: do_decide(ent["leader"], case.pk, True, "同意"))
    assert (err.status, err.code) == (403, "role_not_allowed")
    assert waits_for(world.leader, case)  # the district's leader: above the supervising street
    do_decide(world.leader, case.pk, True, "同意挂账，按月跟踪")
    case = fresh(case)
    assert case.state == "parked" and case.transitions.last().role == "leader@supervisor"


def test_rule_an_enterprise_leader_does_not_approve_its_own_extension(world, photo, ent):
    case = hazard_at_the_enterprise(world, photo)
    act(world.enterprise_officer, case, "extend", params={"extend_by": "3 工作日"}, opinion="设备到货延迟")
    err = error_of(lambda: do_decide(ent["leader"], case.pk, True, "同意"))
    assert (err.status, err.code) == (403, "role_not_allowed")
    do_decide(world.dispatcher, case.pk, True, "同意延期")
    assert fresh(case).pending is None


def test_rule_joint_enforcement_adds_a_party_and_the_enterprise_stays_responsible(world, photo):
    enforcer = person("zfj-chuzhi", "handler", unit=world.enforcement_bureau)
    case = hazard_at_the_enterprise(world, photo)
    act(
        world.dispatcher,
        case,
        "refuse",
        opinion="企业拒不整改",
        params={"unit": world.enforcement_bureau.code},
    )
    case = fresh(case)
    assert case.state == "enforcement" and case.unit == world.enterprise
    assert case.transitions.last().changes["enforcement_unit"] == [None, world.enforcement_bureau.code]
    assert sees(world.enterprise_officer, case) and sees(enforcer, case)
    assert waits_for(enforcer, case) and not waits_for(world.enterprise_officer, case)
    err = error_of(lambda: act(world.enterprise_officer, case, "enforced"))
    assert (err.status, err.code) == (403, "role_not_allowed")
    act(
        enforcer,
        case,
        "enforced",
        opinion="责令停产整改并立案处罚",
        fields={"enforcement_basis": "《安全生产法》第一百零二条"},
        attachments=[photo(enforcer)],
    )
    act(world.verifier, case, "rework", opinion="复查仍未整改到位")
    case = fresh(case)
    # 返工 goes back to whoever must fix it: the enterprise, not the enforcement bureau.
    assert case.state == "rectifying" and case.unit == world.enterprise
    assert waits_for(world.enterprise_officer, case) and not waits_for(enforcer, case)
    err = error_of(lambda: act(enforcer, case, "rectified", attachments=[photo(enforcer)]))
    assert (err.status, err.code) == (403, "role_not_allowed")
    act(world.enterprise_officer, case, "rectified", attachments=[photo(world.enterprise_officer)])
    assert sees(enforcer, case)  # the bureau keeps sight of the case it joined
    act(world.verifier, case, "pass")
    assert fresh(case).state == "closed" and sees(enforcer, case)


def test_rule_every_earlier_hop_keeps_read_access_and_loses_the_work(world):
    """A hazard handed from unit to unit (退回, then 交办 again): every earlier lead keeps reading it."""
    hops = [world.safety_bureau, world.housing_bureau, world.other_unit]
    handlers = [
        world.handler,
        person("zjj-chuzhi", "handler", unit=world.housing_bureau),
        world.other_handler,
    ]
    case = report(world)
    act(world.dispatcher, case, "register")
    for i, unit in enumerate(hops):
        act(world.dispatcher, case, "assign", params={"unit": unit.code})
        if i < len(hops) - 1:
            act(handlers[i], case, "return", opinion="不属于本单位职责")
    case = fresh(case)
    assert case.unit == world.other_unit
    formers = set(case.parties.filter(kind="former").values_list("unit_id", flat=True))
    assert formers == {world.safety_bureau.pk, world.housing_bureau.pk}
    for earlier in handlers[:2]:
        assert sees(earlier, case) and not waits_for(earlier, case)
        err = error_of(lambda earlier=earlier: act(earlier, case, "sign"))
        assert (err.status, err.code) == (403, "role_not_allowed")
    act(world.other_handler, case, "sign")
    assert fresh(case).state == "rectifying"


def test_rule_a_self_check_report_is_supervised_by_its_street(world):
    case = report(world, user=world.enterprise_officer, division=world.other_grid.code, title="企业自查")
    kinds = {(p.kind, p.division_id or p.unit_id) for p in case.parties.all()}
    assert ("lead", world.enterprise.pk) in kinds and ("supervisor", world.other_street.pk) in kinds


def test_rule_supporting_a_case_is_no_party(world):
    from taizhang.insight.actions import do_metoo

    case = report(world, user=world.resident, title="居民举报")
    supporter = person("fuyi", "resident")
    do_metoo(supporter, case.number)
    assert not sees(supporter, case)
    assert not case.parties.filter(kind__in=["reporter", "supporter"]).exists()


def test_rule_a_request_lapses_when_the_requester_left_the_post(world, photo):
    """An extension asked by the enterprise's 安全员 who has since left the post cannot be approved; it
    can still be refused (with a reason), which closes it."""
    case = hazard_at_the_enterprise(world, photo)
    act(world.enterprise_officer, case, "extend", params={"extend_by": "3 工作日"}, opinion="设备到货延迟")
    Membership.objects.filter(user=world.enterprise_officer).update(active=False)
    err = error_of(lambda: do_decide(world.dispatcher, case.pk, True, "同意"))
    assert (err.status, err.code) == (409, "requester_no_longer_entitled")
    assert fresh(case).pending is not None  # nothing half-written
    do_decide(world.dispatcher, case.pk, False, "申请人已离岗，申请作废")
    assert fresh(case).pending is None

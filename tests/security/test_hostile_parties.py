"""A hostile review of the parties of a case (issue #13): separation of duties and who sees what.

Three kinds of test, kept apart:

- `test_closed_*`: holes the review found and the engine has closed since (each failed before the fix).
- a hole still open is written as the rule it breaks, marked `pytest.mark.xfail(strict=True, reason=…)`
  (none is open now).
- `test_holds_*`: an attack that failed, i.e. a rule that holds.
"""

from __future__ import annotations

import io

import openpyxl
import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from taizhang.cases.approvals import do_decide
from taizhang.cases.create import CaseInput, do_create_case
from taizhang.cases.models import Case
from taizhang.cases.present import is_public_viewer
from taizhang.cases.todo import todo_q
from taizhang.intake.public import public_cases
from taizhang.org.models import Division, Membership, Unit, User
from taizhang.org.scopes import match_spec
from tests.cases.helpers import act, error_of, fresh, report
from tests.cases.test_parties import frozen, person  # noqa: F401 (frozen: an autouse fixture)

pytestmark = pytest.mark.django_db


def again(user: User) -> User:
    """The same person read again (no cached grants or filters)."""
    return User.objects.get(pk=user.pk)


def sees(user, case) -> bool:
    return Case.objects.for_user(again(user)).filter(pk=case.pk).exists()


def waits_for(user, case) -> bool:
    user = again(user)
    return Case.objects.for_user(user, "act").filter(todo_q(user)).filter(pk=case.pk).exists()


def refused(call) -> tuple[int, str]:
    err = error_of(call)
    return err.status, err.code


def self_check(world, grade="general", **kw) -> Case:
    """A self-check hazard the enterprise's 安全员 files at its own street (the enterprise's own case)."""
    return report(
        world,
        user=world.enterprise_officer,
        division=world.other_grid.code,
        title="企业自查",
        grade=grade,
        **kw,
    )


def at_enterprise(world) -> Case:
    """A hazard the street's dispatcher hands to the enterprise, which signs it (整改中)."""
    case = report(world)
    act(world.dispatcher, case, "register")
    act(world.dispatcher, case, "assign", params={"unit": world.enterprise.code})
    act(world.enterprise_officer, case, "sign")
    return fresh(case)


def petition(world, by=None) -> Case:
    case, _ = do_create_case(
        by or world.dispatcher,
        CaseInput(
            mechanism="petition",
            title="加装电梯补贴未兑现",
            division=world.grid.code,
            category="appeal",
            channel="letter",
            fields={
                "petitioner_name": "郝小雨",
                "petitioner_phone": "13912345678",
                "request": "请求兑现加装电梯补贴",
            },
        ),
    )
    return case


def demand(world) -> Case:
    case, _ = do_create_case(
        world.dispatcher,
        CaseInput(
            mechanism="demand",
            title="路灯不亮",
            division=world.grid.code,
            category="complaint",
            grade="general",
            channel="hotline",
            fields={"caller_name": "王先生", "caller_phone": "13800000003"},
        ),
    )
    return case


def kinds(case) -> set[tuple[str, object]]:
    """(kind, node) of every party row (a Division or a Unit: their ids overlap)."""
    return {(p.kind, p.division or p.unit) for p in fresh(case).parties.all()}


# ======================================================================================================
# Holes
# ======================================================================================================


def test_closed_enterprise_leader_rejects_its_own_self_check_hazard(world):
    boss = person("qy-zongjingli", "leader", unit=world.enterprise)
    case = self_check(world, grade="major")
    assert refused(lambda: act(boss, case, "reject", opinion="不构成隐患")) == (403, "role_not_allowed")
    assert fresh(case).state == "reported"


def test_closed_enterprise_leader_registers_and_regrades_its_own_hazard(world):
    boss = person("qy-zongjingli", "leader", unit=world.enterprise)
    case = self_check(world, grade="major")
    assert refused(lambda: act(boss, case, "register", params={"grade": "general"})) == (
        403,
        "role_not_allowed",
    )
    assert fresh(case).grade == "major"


def test_holds_the_enterprise_never_registers_or_hands_over_its_own_finding(world, photo):
    """Intake decisions and hand-overs are the place's (leader@place): the enterprise's 总经理 may neither
    立案 nor 交办 its own self-check report, so it never becomes its own supervising body."""
    boss = person("qy-zongjingli", "leader", unit=world.enterprise)
    case = self_check(world)
    assert refused(lambda: act(boss, case, "register")) == (403, "role_not_allowed")
    xbt = person("xbt-paiqian", "dispatcher", division=world.other_street)
    act(xbt, case, "register")
    assign = {"unit": world.workshop.code}
    assert refused(lambda: act(boss, case, "assign", params=assign)) == (403, "role_not_allowed")
    assert ("supervisor", world.other_street) in kinds(case)


def test_closed_second_membership_in_the_working_unit_still_verifies(world, photo):
    double = person("shuangzhi", "enterprise_officer", unit=world.enterprise)
    Membership.objects.create(user=double, role="verifier", division=world.street)
    case = at_enterprise(world)
    act(world.enterprise_officer, case, "rectified", attachments=[photo(world.enterprise_officer)])
    assert refused(lambda: act(again(double), case, "pass", opinion="已整改")) == (403, "role_not_allowed")
    assert not waits_for(double, case)


def test_closed_second_membership_approves_a_colleagues_request(world):
    double = person("shuangzhi", "enterprise_officer", unit=world.enterprise)
    Membership.objects.create(user=double, role="leader", division=world.street)
    case = at_enterprise(world)
    act(world.enterprise_officer, case, "park", fields={"park_reason": "资金待批"})
    assert refused(lambda: do_decide(again(double), case.pk, True, "同意")) == (403, "role_not_allowed")


def test_closed_enterprise_closes_its_own_hazard_on_the_spot(world, photo):
    case = self_check(world, grade="general")
    pic = photo(world.enterprise_officer)
    assert refused(
        lambda: act(world.enterprise_officer, case, "fix_on_spot", opinion="已当场整改", attachments=[pic])
    ) == (403, "role_not_allowed")


def test_closed_enforcement_unit_still_orders_suspension_after_enforcement_ended(world, photo):
    enforcer = person("zfj-chuzhi", "handler", unit=world.enforcement_bureau)
    case = at_enterprise(world)
    act(world.dispatcher, case, "refuse", opinion="拒不整改", params={"unit": world.enforcement_bureau.code})
    act(
        enforcer,
        case,
        "enforced",
        fields={"enforcement_basis": "《安全生产法》"},
        attachments=[photo(enforcer)],
    )
    act(world.verifier, case, "rework", opinion="仍未整改到位")
    assert fresh(case).state == "rectifying"
    order = {
        "suspension_measure": "suspend_production",
        "suspension_basis": "责令书 2026-01",
        "suspension_scope": "合成车间",
    }
    assert refused(lambda: act(enforcer, case, "suspend", fields=order)) == (403, "role_not_allowed")


def test_closed_petition_readable_by_place_staff_who_never_took_part(world):
    case = petition(world)
    act(world.dispatcher, case, "transfer", params={"unit": world.safety_bureau.code})
    assert sees(world.handler, case)  # the competent body
    assert not sees(world.grid_worker, case)


def test_closed_an_earlier_lead_gets_only_the_public_view(world):
    case = report(world)
    act(world.dispatcher, case, "register")
    act(world.dispatcher, case, "assign", params={"unit": world.safety_bureau.code})
    act(world.handler, case, "return", opinion="不属于本单位职责")
    act(world.dispatcher, case, "assign", params={"unit": world.other_unit.code})
    case = Case.objects.for_user(again(world.handler)).get(pk=case.pk)
    assert not is_public_viewer(again(world.handler), case)


def test_closed_renamed_unit_code_hands_its_cases_to_the_next_unit_with_that_code(world):
    case = at_enterprise(world)
    world.enterprise.code = "QY-JRHG-2026"
    world.enterprise.save()
    newcomer = Unit.objects.create(
        code="QY-JRHG", name="晋瑞物流", kind="enterprise", division=world.other_street
    )
    stranger = person("wl-anquan", "enterprise_officer", unit=newcomer)
    assert (sees(world.enterprise_officer, case), sees(stranger, case)) == (True, False)


def test_closed_reparented_unit_loses_its_own_cases(world):
    case = report(world)
    act(world.dispatcher, case, "register")
    act(world.dispatcher, case, "assign", params={"unit": world.safety_bureau.code})
    government = Unit.objects.create(
        code="LZQ-ZF", name="潞州区人民政府", kind="department", division=world.district
    )
    world.safety_bureau.parent = government
    world.safety_bureau.save()
    assert sees(world.handler, case)
    act(again(world.handler), case, "sign")


def test_closed_sqlite_prefix_ignores_case(world):
    """Codes are unique whatever the case (and a code holds no "/"), so no look-alike node can exist."""
    from django.core.exceptions import ValidationError

    for code in ("czs", "CZS/LZQ", "/x"):
        with pytest.raises(ValidationError):
            Division.objects.create(code=code, name="测试市", level="city")
    assert not Division.objects.filter(name="测试市").exists()


# ======================================================================================================
# Rules that held
# ======================================================================================================


def test_holds_the_requester_never_approves_his_own_request_even_as_leader_at_supervisor(world):
    double = person("shuangzhi", "enterprise_officer", unit=world.enterprise)
    Membership.objects.create(user=double, role="leader", division=world.street)
    case = at_enterprise(world)
    act(again(double), case, "park", fields={"park_reason": "资金待批"})
    # refused twice over: the requester, and a post in the working unit
    assert refused(lambda: do_decide(again(double), case.pk, True, "同意"))[0] == 403
    assert waits_for(world.leader, case)


def test_holds_a_division_holding_the_enterprises_location_is_no_party(world, photo):
    """The enterprise is located in 西白兔镇; a hazard at 五马街道 handed to it is none of 西白兔镇's business."""
    xbt_verifier = person("xbt-hecha", "verifier", division=world.other_street)
    xbt_dispatcher = person("xbt-paiqian", "dispatcher", division=world.other_street)
    case = at_enterprise(world)
    act(world.enterprise_officer, case, "rectified", attachments=[photo(world.enterprise_officer)])
    for who in (xbt_verifier, xbt_dispatcher, world.outsider):
        assert not sees(who, case) and not waits_for(who, case)
        assert refused(lambda who=who: act(who, case, "pass")) == (404, "not_found")


def test_holds_parent_and_child_units_never_verify_the_work(world, photo):
    parent_verifier = person("qy-hecha", "verifier", unit=world.enterprise)
    child_verifier = person("cj-hecha", "verifier", unit=world.workshop)
    foreman = person("cj-anquan", "enterprise_officer", unit=world.workshop)
    case = report(world)
    act(world.dispatcher, case, "register")
    act(world.dispatcher, case, "assign", params={"unit": world.workshop.code})
    act(foreman, case, "sign")
    act(foreman, case, "rectified", attachments=[photo(foreman)])
    for own in (parent_verifier, child_verifier):  # the lead's parent unit, and the lead itself
        assert sees(own, case) and not waits_for(own, case)
        assert refused(lambda own=own: act(own, case, "pass")) == (403, "role_not_allowed")
    act(world.verifier, case, "pass")
    assert fresh(case).state == "closed"


def test_holds_a_unit_below_the_lead_neither_sees_nor_verifies(world, photo):
    child_verifier = person("cj-hecha", "verifier", unit=world.workshop)
    case = at_enterprise(world)
    act(world.enterprise_officer, case, "rectified", attachments=[photo(world.enterprise_officer)])
    assert not sees(child_verifier, case) and not waits_for(child_verifier, case)
    assert refused(lambda: act(child_verifier, case, "pass")) == (404, "not_found")


def test_holds_the_system_role_is_no_post_and_matches_no_spec(world):
    user = User.objects.create_user(username="robot", password="pw")
    with pytest.raises(ValidationError):
        Membership.objects.create(user=user, role="system", division=world.street)
    case = demand(world)
    assert match_spec(world.dispatcher, "system", [], case.reporter_id) is None


def test_holds_the_inspector_reads_everything_but_never_closes(world, photo):
    case = at_enterprise(world)
    act(world.enterprise_officer, case, "rectified", attachments=[photo(world.enterprise_officer)])
    assert sees(world.inspector, case) and not waits_for(world.inspector, case)
    assert refused(lambda: act(world.inspector, case, "pass")) == (403, "role_not_allowed")


def test_holds_a_dropped_co_unit_no_longer_assists(world):
    co_handler = person("zjj-chuzhi", "handler", unit=world.housing_bureau)
    case = demand(world)
    act(
        world.dispatcher,
        case,
        "dispatch",
        params={"unit": world.safety_bureau.code, "co_units": [world.housing_bureau.code]},
    )
    act(world.handler, case, "return", fields={"return_reason": "非本单位职责"})
    act(world.dispatcher, case, "accept_return")
    act(world.dispatcher, case, "dispatch", params={"unit": world.other_unit.code, "co_units": []})
    act(world.other_handler, case, "sign")
    assert ("former", world.housing_bureau) in kinds(case)
    assert sees(co_handler, case)  # keeps sight
    assert refused(lambda: act(co_handler, case, "assist", opinion="已配合")) == (403, "role_not_allowed")


def test_holds_cordon_and_lift_keep_the_parties(world):
    case = at_enterprise(world)
    before = kinds(case)
    act(world.dispatcher, case, "cordon", fields={"cordon": "拉设警戒线"})
    act(world.dispatcher, case, "lift_cordon", opinion="危险解除")
    assert fresh(case).state == "rectifying" and kinds(case) == before
    assert waits_for(world.enterprise_officer, case)


def test_holds_a_merge_never_opens_the_master(world):
    master, duplicate = demand(world), demand(world)
    xbt_dispatcher = person("xbt-paiqian", "dispatcher", division=world.other_street)
    hidden, _ = do_create_case(
        xbt_dispatcher,
        CaseInput(
            mechanism="demand",
            title="路灯不亮",
            division=world.other_grid.code,
            category="complaint",
            grade="general",
            channel="hotline",
        ),
    )
    err = error_of(lambda: act(world.dispatcher, duplicate, "merge", params={"master": hidden.number}))
    assert err.status == 422 and err.errors[0].code == "unknown_case"
    act(world.dispatcher, duplicate, "merge", params={"master": master.number})
    assert not sees(xbt_dispatcher, master) and not sees(xbt_dispatcher, duplicate)


def test_holds_petitions_are_closed_to_bodies_that_never_took_part(world):
    case = petition(world)
    act(world.dispatcher, case, "transfer", params={"unit": world.safety_bureau.code})
    act(world.handler, case, "return_route", opinion="非本机关职权")
    act(world.dispatcher, case, "transfer", params={"unit": world.housing_bureau.code})
    assert sees(world.handler, case)  # an earlier lead keeps read access
    for who in (world.other_handler, world.outsider, world.enterprise_officer, world.resident):
        assert not sees(who, case)
    assert case not in public_cases()


def test_holds_the_public_ledger_leaves_out_self_checks(world):
    case = self_check(world)
    assert not public_cases().filter(pk=case.pk).exists()
    resident_case = report(world, user=world.resident)
    assert public_cases().filter(pk=resident_case.pk).exists()


def test_holds_the_case_list_export_and_api_show_nothing_to_a_non_party(world):
    case = at_enterprise(world)
    client = Client()
    client.force_login(world.other_handler)
    for url in ("/cases/", "/api/v1/cases", "/dashboard/", "/workbench/"):
        response = client.get(url)
        assert response.status_code in (200, 403), url
        assert case.number.encode() not in response.content, url
    export = client.get("/cases/export.xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(b"".join(export.streaming_content))).active
    assert case.number not in {c.value for row in sheet.iter_rows() for c in row}
    assert client.get(f"/cases/{case.number}/").status_code == 404
    client.force_login(world.enterprise_officer)
    assert case.number.encode() in client.get("/cases/").content


def test_holds_intake_paths_write_party_rows(world, tmp_path):
    from taizhang.intake.importer.mapping import load_mapping
    from taizhang.intake.importer.run import run_import
    from tests.intake.test_import import MAPPING, record, write_csv

    Membership.objects.create(
        user=User.objects.create_user(username="daoru", password="pw"), role="intake", division=world.district
    )
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text(MAPPING.format(encoding="utf-8"), encoding="utf-8")
    source = write_csv(tmp_path / "orders.csv", [record(3, 来电时间="2026-03-01 10:00:00", 所属街道="五马")])
    assert run_import(source, load_mapping(mapping)).imported == 1
    imported = Case.objects.get(external_id="GD20260000003")
    assert ("place", world.street) in kinds(imported)
    assert sees(world.dispatcher, imported) and not sees(world.outsider, imported)
    assert not Case.objects.exclude(parties__kind="place").exists()


def test_holds_todo_follows_the_supervising_body(world, photo):
    """A hazard handed over by the district: the district's verifier has it, the street's does not."""
    district_verifier = person("qu-hecha", "verifier", division=world.district)
    case = report(world)
    act(world.leader, case, "register")
    act(world.leader, case, "assign", params={"unit": world.safety_bureau.code})
    act(world.handler, case, "sign")
    act(world.handler, case, "rectified", attachments=[photo(world.handler)])
    assert waits_for(district_verifier, case)
    assert not waits_for(world.verifier, case)
    assert refused(lambda: act(world.verifier, case, "pass")) == (403, "role_not_allowed")
    assert not waits_for(world.handler, case)

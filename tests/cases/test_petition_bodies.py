"""信访工作条例: 复查 by the body one level above the one that gave the 处理意见, 复核 by the body above that;
an extension approved by the deciding body's own 负责人; every earlier body keeps read access."""

from __future__ import annotations

from taizhang.cases.approvals import do_decide
from taizhang.cases.models import Case
from tests.cases import test_petition_mechanism as petition_tests
from tests.cases.test_petition_mechanism import (
    act,
    error_of,
    fresh,
    petition,
    to_handling,
    to_replied,
    to_review_replied,
)

px = petition_tests.px
frozen = petition_tests.frozen


def sees(user, case) -> bool:
    return Case.objects.for_user(user).filter(pk=case.pk).exists()


def test_rule_review_goes_to_the_body_one_level_above_the_deciding_one(px):
    world = px.world
    case = to_replied(px, petition(world))
    act(world.resident, case, "request_review", fields={"review_request": "补贴金额计算有误"})
    for wrong in (world.housing_bureau, px.recheck_unit, world.safety_bureau):
        # a sibling of the deciding bureau, two levels up, the deciding bureau itself
        err = error_of(
            lambda wrong=wrong: act(world.dispatcher, case, "assign_review", params={"unit": wrong.code})
        )
        assert [(e.field, e.code) for e in err.errors] == [("params.unit", "not_level_above")]
    assert fresh(case).state == "review_requested"  # nothing half-written
    act(world.dispatcher, case, "assign_review", params={"unit": px.review_unit.code})
    case = fresh(case)
    assert case.state == "reviewing" and case.unit == px.review_unit
    # The body that gave the 处理意见 keeps reading the case but does not decide the 复查.
    assert sees(world.handler, case)
    err = error_of(
        lambda: act(
            world.handler, case, "review_reply", fields={"review_result": "uphold", "review_reply": "维持"}
        )
    )
    assert (err.status, err.code) == (403, "role_not_allowed")


def test_rule_recheck_goes_to_the_body_above_the_review_body(px):
    world = px.world
    case = to_review_replied(px, petition(world))
    act(world.resident, case, "request_recheck", fields={"recheck_request": "仍认为金额有误"})
    err = error_of(
        lambda: act(world.dispatcher, case, "assign_recheck", params={"unit": px.review_unit.code})
    )
    assert err.errors[0].code == "not_level_above"
    act(world.dispatcher, case, "assign_recheck", params={"unit": px.recheck_unit.code})
    case = fresh(case)
    assert case.unit == px.recheck_unit
    act(
        px.rechecker,
        case,
        "recheck_reply",
        fields={"recheck_result": "uphold", "recheck_reply": "维持复查意见"},
    )
    case = fresh(case)
    assert case.state == "final"
    # Every earlier hop of the chain (区应急管理局 → 区政府 → 市政府) keeps read access.
    assert sees(world.handler, case) and sees(px.reviewer, case) and sees(px.rechecker, case)
    assert set(case.parties.filter(kind="former").values_list("unit_id", flat=True)) == {
        world.safety_bureau.pk,
        px.review_unit.pk,
    }


def test_rule_an_extension_is_approved_by_the_deciding_bodys_own_leader(px):
    world = px.world
    case = to_handling(px, petition(world))
    act(world.handler, case, "extend", params={"extend_by": "10 天"}, opinion="需调取档案")
    for not_the_body in (world.leader, world.dispatcher):
        err = error_of(lambda u=not_the_body: do_decide(u, case.pk, True, "同意"))
        assert (err.status, err.code) == (403, "role_not_allowed")
    do_decide(px.bureau_leader, case.pk, True, "同意")
    case = fresh(case)
    assert case.pending is None and case.transitions.last().role == "leader@lead"

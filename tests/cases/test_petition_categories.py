"""Petition data fixes of issue #13: 复查/复核 only for 申诉求决类 (建议意见类 and 检举控告类 are concluded by
their 处理意见), and 检举控告类 transferred to a 纪检监察机关 only (`assign: discipline_unit`)."""

# ruff: noqa: F811  (the fixtures imported from the petition module are parameters of the tests)

from __future__ import annotations

import pytest

from taizhang.cases.actions import available_transitions
from taizhang.org.models import Membership, Unit, User

from .test_petition_mechanism import (  # noqa: F401
    REPLY,
    act,
    error_of,
    fresh,
    frozen,
    petition,
    px,
    to_handling,
)


@pytest.fixture
def discipline(world):
    """潞州区纪委监委 (flagged 纪检监察机关) and its handler."""
    unit = Unit.objects.create(
        code="LZQ-JW", name="潞州区纪委监委", kind="department", division=world.district, discipline=True
    )
    user = User.objects.create_user(username="jijian", password="pw", display_name="纪检干部")
    Membership.objects.create(user=user, role="handler", unit=unit)
    return unit, user


def codes(user, case) -> set[str]:
    return {t.code for t, _ in available_transitions(user, fresh(case))}


# -- 复查/复核 only for 申诉求决类 ------------------------------------------------------------------------


def test_an_appeal_gets_the_review_window(px):
    case = to_handling(px, petition(px.world))
    assert "reply" in codes(px.world.handler, case) and "reply_final" not in codes(px.world.handler, case)
    act(px.world.handler, case, "reply", fields=REPLY)
    assert fresh(case).state == "replied"


def test_a_suggestions_answer_concludes_it_without_review(px):
    world = px.world
    case = petition(world, category="suggestion", title="关于增设公交站点的建议")
    to_handling(px, case)
    assert "reply" not in codes(world.handler, case)
    err = error_of(lambda: act(world.handler, case, "reply", fields=REPLY))
    assert (err.status, err.code) == (409, "condition_not_met")
    assert "仅限类别为申诉求决类" in err.message
    act(world.handler, case, "reply_final", fields=REPLY)
    case = fresh(case)
    assert (case.state, case.state_kind, case.due_at) == ("concluded", "closed", None)
    assert codes(world.resident, case) == set()  # no 复查 for the petitioner
    err = error_of(lambda: act(world.resident, case, "request_review", fields={"review_request": "不服"}))
    assert err.code == "transition_not_allowed"


def test_review_requests_are_limited_to_appeals_even_in_the_window():
    from taizhang.mechanisms.registry import get_mechanism

    mech = get_mechanism("petition")
    for code in ("request_review", "record_review_request", "request_recheck", "record_recheck_request"):
        assert mech.transitions[code].only_if.category == ["appeal"], code
    assert mech.transitions["reply_final"].only_if.category == ["suggestion", "accusation"]
    assert mech.transitions["reply_final"].to == "concluded"


# -- 检举控告类 to a 纪检监察机关 only ---------------------------------------------------------------------


def test_an_accusation_is_transferred_to_a_discipline_body_only(px, discipline):
    world = px.world
    unit, cadre = discipline
    case = petition(world, category="accusation", title="反映村干部违规办理低保")
    err = error_of(lambda: act(px.intake, case, "transfer", params={"unit": world.safety_bureau.code}))
    assert (err.status, err.code) == (409, "condition_not_met")
    err = error_of(lambda: act(world.dispatcher, case, "assign", params={"unit": world.safety_bureau.code}))
    assert err.code == "condition_not_met"
    err = error_of(
        lambda: act(px.intake, case, "transfer_discipline", params={"unit": world.safety_bureau.code})
    )
    assert [(e.field, e.code) for e in err.errors] == [("params.unit", "not_discipline_unit")]
    assert "潞州区应急管理局不是纪检监察机关" in err.errors[0].message
    act(px.intake, case, "transfer_discipline", params={"unit": unit.code}, opinion="转区纪委监委处理")
    case = fresh(case)
    assert (case.state, case.unit, case.data["route"]) == ("routed", unit, "transfer")
    act(cadre, case, "accept")
    act(cadre, case, "reply_final", fields={"decision": "explain", "reply": "经核查，已依规依纪处理"})
    assert fresh(case).state == "concluded"


def test_reclassifying_as_an_accusation_on_an_ordinary_transfer_is_refused(px, discipline):
    world = px.world
    unit, _ = discipline
    case = petition(world)  # registered as 申诉求决类
    err = error_of(
        lambda: act(
            px.intake, case, "transfer", params={"unit": world.safety_bureau.code, "category": "accusation"}
        )
    )
    assert err.code == "condition_not_met"
    assert fresh(case).state == "registered"
    # …and goes to the 纪检监察机关 instead, reclassified on the way.
    act(px.intake, case, "transfer_discipline", params={"unit": unit.code, "category": "accusation"})
    case = fresh(case)
    assert (case.category, case.unit) == ("accusation", unit)


def test_a_discipline_transfer_of_anything_else_is_refused(px, discipline):
    unit, _ = discipline
    case = petition(px.world)
    err = error_of(lambda: act(px.intake, case, "transfer_discipline", params={"unit": unit.code}))
    assert err.code == "condition_not_met" and "仅限类别为检举控告类" in err.message


def test_the_unit_form_offers_discipline_bodies_only(px, discipline):
    from taizhang.mechanisms.registry import get_mechanism
    from taizhang.web.casepage.forms import Choices, build_form

    unit, _ = discipline
    case = petition(px.world, category="accusation")
    mech = get_mechanism("petition")
    t = mech.transitions["transfer_discipline"]
    form = build_form(mech, case, t, "intake", Choices.for_case(case, [t]))
    widget = next(w for w in form.widgets if w.name == "params.unit")
    offered = [code for _, units in widget.groups for code, _ in units]
    assert offered == [unit.code] and widget.label == "纪检监察机关"

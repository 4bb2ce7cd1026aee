"""`spawn` and `children_closed` on a transition that needs an approval: the request is checked as it
stands, and the cases are opened (the guard checked again) when the approval is granted.

The test mechanism is `campaign.yaml` with its 部署 and 整治结束 approved by a leader.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import time_machine
from django.core.management import call_command

from taizhang.cases.approvals import do_decide
from taizhang.cases.models import Case, CaseLink

from .helpers import act, at, error_of, fresh
from .packs import extra_mechanism
from .test_links import campaign, children, close_hazard

CAMPAIGN = (Path(__file__).parent / "mechanisms" / "campaign.yaml").read_text(encoding="utf-8")
APPROVED = CAMPAIGN.replace(
    "    roles: [dispatcher]\n    spawn:\n      - mechanism: hazard\n",
    "    roles: [dispatcher]\n    approval: {roles: [leader], name: 领导审批}\n    spawn:\n      - mechanism: hazard\n",
).replace(
    "    children_closed: true\n",
    "    children_closed: true\n    approval: {roles: [leader], name: 领导审批}\n",
)


@pytest.fixture(autouse=True)
def approved_campaign(tmp_path):
    assert APPROVED.count("approval:") == 2
    with (
        time_machine.travel(at(2026, 4, 20, 10, 0), tick=False),
        extra_mechanism(tmp_path, APPROVED, "campaign.yaml"),
    ):
        yield


def request_launch(world, case, *units):
    return act(world.dispatcher, case, "launch", params={"units": [u.code for u in units]})


def test_the_cases_are_opened_when_the_launch_is_approved(world, capsys):
    parent = campaign(world)
    request_launch(world, parent, world.safety_bureau, world.other_unit)
    assert fresh(parent).pending["code"] == "launch" and not children(parent)
    do_decide(world.leader, parent.pk, True, "同意部署")
    parent = fresh(parent)
    kids = children(parent)
    assert parent.state == "running" and [k.unit for k in kids] == [world.safety_bureau, world.other_unit]
    row = parent.transitions.order_by("-seq").first()
    assert row.kind == "approve" and row.changes["spawned"] == [None, [k.number for k in kids]]
    for kid in kids:
        (create,) = kid.transitions.all()
        assert create.changes["spawned_from"] == [None, parent.number]
        assert kid.reporter == world.dispatcher and create.actor == world.dispatcher  # the requester
        assert create.changes["supervisor"] == [None, world.street.code]  # the body the request came from
    call_command("audit", "verify")
    assert "3 个案件" in capsys.readouterr().out


def test_a_refused_launch_opens_nothing(world):
    parent = campaign(world)
    request_launch(world, parent, world.safety_bureau)
    do_decide(world.leader, parent.pk, False, "暂缓部署")
    assert not CaseLink.objects.exists() and fresh(parent).state == "planned"


def test_a_request_naming_no_unit_is_refused_to_the_person_asking(world):
    parent = campaign(world)
    err = error_of(lambda: act(world.dispatcher, parent, "launch", params={}))
    assert err.status == 422 and err.errors[0].field == "params.units"
    assert fresh(parent).pending is None and Case.objects.count() == 1


def test_finishing_waits_for_the_children_at_the_request_and_at_the_approval(world, photo):
    parent = campaign(world)
    request_launch(world, parent, world.safety_bureau)
    do_decide(world.leader, parent.pk, True, "同意")
    (kid,) = children(parent)
    assert error_of(lambda: act(world.dispatcher, parent, "finish")).code == "children_open"
    close_hazard(world, kid, photo)
    act(world.dispatcher, parent, "finish")  # filed: every child is closed now
    assert fresh(parent).pending["code"] == "finish"
    do_decide(world.leader, parent.pk, True, "同意结束")
    assert fresh(parent).state == "closed"


def test_a_child_opened_after_the_request_holds_the_approval(world, photo):
    parent = campaign(world)
    request_launch(world, parent, world.safety_bureau)
    do_decide(world.leader, parent.pk, True, "同意")
    close_hazard(world, children(parent)[0], photo)
    act(world.dispatcher, parent, "finish")
    act(world.dispatcher, parent, "derive")  # a new child while 整治结束 waits for its approval
    err = error_of(lambda: do_decide(world.leader, parent.pk, True, "同意结束"))
    assert err.code == "children_open" and fresh(parent).state == "running"

"""The 待办 list (SQL, `todo_q`) and the actions a case page offers (Python, `match_spec`) agree on who a
case waits for, across parties: lead, 协办, supervising body, enforcement, earlier leads and approvals."""

from __future__ import annotations

import pytest
import time_machine

from taizhang.cases.actions import available_transitions, pick_role
from taizhang.cases.models import Case
from taizhang.cases.todo import todo_q
from taizhang.mechanisms.registry import get_mechanism
from taizhang.org.models import Membership, User
from tests.cases.helpers import act, at, report
from tests.cases.test_demand_mechanism import demand, handling


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(at(2026, 3, 10, 9, 30), tick=False) as traveller:
        yield traveller


def person(username: str, role: str, **node) -> User:
    user = User.objects.create_user(username=username, password="pw")
    Membership.objects.create(user=user, role=role, **node)
    return user


def waits_in_python(user, case) -> bool:
    """What the case page offers that the state waits for from the person, or an approval they may give."""
    mech = get_mechanism(case.mechanism)
    for t, spec in available_transitions(user, case):
        waiting = t.roles if t.waiting_for is None else t.waiting_for
        if t.moves and spec in waiting:
            return True
    pending = case.pending
    if pending and pending["by"] != user.pk:
        t = mech.transitions[pending["code"]]
        return pick_role(user, case, t.approval.roles) is not None
    return False


def test_the_work_list_and_the_case_page_agree(world, photo):
    enforcer = person("zfj", "handler", unit=world.enforcement_bureau)
    ent_verifier = person("qy-hc", "verifier", unit=world.enterprise)
    ent_leader = person("qy-ld", "leader", unit=world.enterprise)
    district_verifier = person("qu-hc", "verifier", division=world.district)
    people = [
        *world.personas().values(),
        world.other_handler,
        enforcer,
        ent_verifier,
        ent_leader,
        district_verifier,
    ]

    def handed(title, by=world.dispatcher, unit=world.enterprise):
        case = report(world, title=title)
        act(by, case, "register")
        act(by, case, "assign", params={"unit": unit.code})
        return case

    officer = world.enterprise_officer
    cases = [report(world, title="待立案"), handed("交办企业")]
    cases.append(handed("企业整改完成"))
    act(officer, cases[-1], "sign")
    act(officer, cases[-1], "rectified", attachments=[photo(officer)])
    cases.append(handed("联合执法", by=world.leader))
    act(officer, cases[-1], "sign")
    act(world.leader, cases[-1], "refuse", params={"unit": world.enforcement_bureau.code})
    cases.append(handed("申请延期"))
    act(officer, cases[-1], "sign")
    act(officer, cases[-1], "extend", params={"extend_by": "2 工作日"})
    cases.append(handed("退回后改交", unit=world.safety_bureau))
    act(world.handler, cases[-1], "return")
    act(world.dispatcher, cases[-1], "assign", params={"unit": world.other_unit.code})
    cases.append(handling(world, demand(world), co_units=[world.other_unit.code]))
    for user in people:
        user = User.objects.get(pk=user.pk)  # a fresh object: no cached roles
        listed = set(Case.objects.for_user(user, "act").filter(todo_q(user)).values_list("pk", flat=True))
        for case in cases:
            case = Case.objects.get(pk=case.pk)
            visible = Case.objects.for_user(user).filter(pk=case.pk).exists()
            expected = visible and waits_in_python(user, case)
            assert (case.pk in listed) == expected, (user.username, case.title)

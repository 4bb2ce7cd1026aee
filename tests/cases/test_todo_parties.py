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
    cases = []
    a = report(world, title="待立案")
    cases.append(a)
    b = report(world, title="交办企业")
    act(world.dispatcher, b, "register")
    act(world.dispatcher, b, "assign", params={"unit": world.enterprise.code})
    cases.append(b)
    c = report(world, title="企业整改完成")
    act(world.dispatcher, c, "register")
    act(world.dispatcher, c, "assign", params={"unit": world.enterprise.code})
    act(world.enterprise_officer, c, "sign")
    act(world.enterprise_officer, c, "rectified", attachments=[photo(world.enterprise_officer)])
    cases.append(c)
    d = report(world, title="联合执法")
    act(world.leader, d, "register")
    act(world.leader, d, "assign", params={"unit": world.enterprise.code})
    act(world.enterprise_officer, d, "sign")
    act(world.leader, d, "refuse", params={"unit": world.enforcement_bureau.code})
    cases.append(d)
    e = report(world, title="申请延期")
    act(world.dispatcher, e, "register")
    act(world.dispatcher, e, "assign", params={"unit": world.enterprise.code})
    act(world.enterprise_officer, e, "sign")
    act(world.enterprise_officer, e, "extend", params={"extend_by": "2 工作日"})
    cases.append(e)
    f = report(world, title="退回后改交")
    act(world.dispatcher, f, "register")
    act(world.dispatcher, f, "assign", params={"unit": world.safety_bureau.code})
    act(world.handler, f, "return")
    act(world.dispatcher, f, "assign", params={"unit": world.other_unit.code})
    cases.append(f)
    cases.append(handling(world, demand(world), co_units=[world.other_unit.code]))
    for user in people:
        user = User.objects.get(pk=user.pk)  # a fresh object: no cached roles
        listed = set(Case.objects.for_user(user, "act").filter(todo_q(user)).values_list("pk", flat=True))
        for case in cases:
            case = Case.objects.get(pk=case.pk)
            visible = Case.objects.for_user(user).filter(pk=case.pk).exists()
            expected = visible and waits_in_python(user, case)
            assert (case.pk in listed) == expected, (user.username, case.title)

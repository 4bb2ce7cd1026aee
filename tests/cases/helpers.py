"""Helpers to drive a hazard case through its loop in tests."""

from __future__ import annotations

from taizhang.cases.actions import TransitionRequest, do_transition
from taizhang.cases.create import CaseInput, do_create_case


def report(world, user=None, **kw):
    data = dict(
        mechanism="hazard",
        title="楼道堆放杂物堵塞消防通道",
        division=world.grid.code,
        category="fire",
        grade="general",
        address="和心社区3号楼2单元",
    )
    data.update(kw)
    case, _ = do_create_case(user or world.grid_worker, CaseInput(**data))
    return case


def act(user, case, code, **kw):
    kw.setdefault("opinion", "同意")
    return do_transition(user, case.pk, TransitionRequest(code=code, **kw))


def to_rectifying(world, case):
    act(world.dispatcher, case, "register")
    act(world.dispatcher, case, "assign", params={"unit": world.safety_bureau.code})
    return act(world.handler, case, "sign")

"""Helpers to drive a hazard case through its loop in tests."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from taizhang.cases.actions import TransitionRequest, do_transition
from taizhang.cases.create import CaseInput, do_create_case
from taizhang.cases.models import Case
from taizhang.errors import ActionError

TZ = ZoneInfo("Asia/Shanghai")


def at(*args) -> datetime:
    """A moment in local (Beijing) time."""
    return datetime(*args, tzinfo=TZ)


def fresh(case) -> Case:
    """The case as stored now."""
    return Case.objects.get(pk=case.pk)


def error_of(call) -> ActionError:
    """The ActionError a call raises (fails the test if it raises none)."""
    with pytest.raises(ActionError) as info:
        call()
    return info.value


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

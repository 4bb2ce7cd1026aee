"""Property: random sequences of allowed and disallowed transitions by random roles never break a case."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from taizhang.cases.actions import TransitionRequest, available_transitions, do_transition
from taizhang.cases.approvals import do_decide
from taizhang.cases.hashchain import verify_case
from taizhang.cases.models import Case
from taizhang.errors import ActionError
from taizhang.mechanisms.registry import get_mechanism

from .helpers import report

START = datetime(2026, 3, 2, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
MECH = get_mechanism("hazard")
# Decisions on a pending request get names no mechanism transition can have (codes are lower-case).
APPROVE, REFUSE = "DECIDE:approve", "DECIDE:refuse"
CODES = sorted(MECH.transitions) + [APPROVE, REFUSE, "nonsense"]
PERSONAS = [
    "grid_worker",
    "dispatcher",
    "handler",
    "verifier",
    "leader",
    "inspector",
    "resident",
    "outsider",
    "enterprise_officer",
    "other_handler",
]
FULL = {
    "opinion": "已处理",
    "fields": {
        "measures": "更换设备",
        "responsible_person": "某某",
        "funds": "3",
        "plan_deadline": "2026-06-01",
        "contingency": "预案",
        "cordon": "警戒线",
        "park_reason": "资金未到位",
        "enforcement_basis": "安全生产法",
        "suspension_measure": "stop_use",
        "suspension_basis": "安全生产法第七十条",
        "suspension_scope": "储罐区",
    },
}


def draw_step(data, world, case: Case) -> tuple[str, str, bool, str, int]:
    """Mostly a transition someone may take now (as the engine itself lists them); sometimes anything
    by anyone, so refusals are exercised too."""
    pairs = [
        (t.code, name) for name in PERSONAS for t, _ in available_transitions(getattr(world, name), case)
    ]
    onward = [
        (c, p)
        for c, p in pairs
        if (MECH.transitions[c].to is None or MECH.states[MECH.transitions[c].to].kind != "closed")
    ]
    if onward and data.draw(st.integers(0, 9), label="onward") < 8:
        pairs = onward  # closing early would leave the later states untested
    if case.pending and data.draw(st.booleans(), label="decide"):
        pairs = [(APPROVE, "leader"), (REFUSE, "dispatcher"), (APPROVE, "handler")]
    if pairs and data.draw(st.integers(0, 9), label="directed") < 8:
        # Code first, then who: otherwise transitions many personas may take (催办) crowd out the rest.
        code = data.draw(st.sampled_from(sorted({c for c, _ in pairs})), label="code")
        persona = data.draw(st.sampled_from(sorted(p for c, p in pairs if c == code)), label="persona")
    else:
        code = data.draw(st.sampled_from(CODES), label="code")
        persona = data.draw(st.sampled_from(PERSONAS), label="persona")
    complete = data.draw(st.integers(0, 9), label="complete") < 8
    # Mostly a unit the transition accepts and whose handler can go on; sometimes a wrong one.
    fitting = "LZQ-ZFJ" if code == "refuse" else "LZQ-YJJ"
    unit = data.draw(st.sampled_from([fitting] * 4 + ["LZQ-ZFJ", "LZQ-ZJJ"]), label="unit")
    hours = data.draw(st.integers(0, 24), label="hours")
    return persona, code, complete, unit, hours


def valid_path(case: Case) -> None:
    """Every row continues from where the previous one left the case, along a declared edge."""
    rows = list(case.transitions.order_by("seq"))
    assert rows[0].kind == "create" and rows[0].to_state == MECH.definition.intake.initial
    came_from: dict[str, str] = {}  # state -> the state the case was in before it last entered it
    for prev, row in zip(rows, rows[1:], strict=False):
        assert row.from_state == prev.to_state, (prev.seq, row.seq)
        if row.kind in ("transition", "approve"):
            t = MECH.transitions[row.code]
            # to_previous (解除封控, 解除停产停业): back to where the case was before it entered the state.
            target = came_from.get(row.from_state) if t.to_previous else (t.to or row.from_state)
            assert row.from_state in t.from_ and row.to_state == target, (row.seq, row.code)
            if row.to_state != row.from_state:
                came_from[row.to_state] = row.from_state
        else:
            assert row.to_state == row.from_state
    assert rows[-1].to_state == case.state


@pytest.fixture(autouse=True)
def _photos_beyond_a_persons_quota(settings):
    """Every example uploads as the same few people at the same frozen moment: thousands of photos."""
    settings.TAIZHANG_UPLOAD_QUOTA_COUNT = 10**6


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data(), length=st.integers(1, 40), grade=st.sampled_from(["general", "larger", "major"]))
def test_random_walks_keep_cases_valid(world, photo, data, length, grade):
    with time_machine.travel(START, tick=False) as clock:
        case = report(world, grade=grade)
        for _ in range(length):
            persona, code, complete, unit, hours = draw_step(data, world, case)
            clock.shift(timedelta(hours=hours))
            user = getattr(world, persona)
            try:
                if code in (APPROVE, REFUSE):
                    do_decide(user, case.pk, code == APPROVE, "审批意见")
                elif complete:
                    req = TransitionRequest(
                        code=code,
                        params={"unit": unit, "extend_by": "2 工作日"},
                        attachments=[photo(user)],
                        **FULL,
                    )
                    do_transition(user, case.pk, req)
                else:
                    do_transition(user, case.pk, TransitionRequest(code=code))
            except ActionError as exc:
                assert exc.status in (403, 404, 409, 422), exc
            case = Case.objects.get(pk=case.pk)
            assert case.state in MECH.states
            assert case.state_kind == MECH.states[case.state].kind
            assert (case.due_at is None) == (case.state_kind == "closed" or not case.limit_text)
        valid_path(case)
        assert verify_case(case) is None

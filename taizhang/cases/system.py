"""Transitions the platform takes by itself (automatic dispatch at intake), through the same engine.

The system acts only where the mechanism says it may: the transition must list the `system`
pseudo-role, and everything else a person's transition must satisfy holds too (state, conditions,
deadlines, opinion, fields, the unit it assigns). Approvals, 并单 and attachments stay with people.
The history row is written like a timer's: no actor, role `system`, shown as 系统.
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction

from taizhang.clock.calendar import ClockError
from taizhang.clock.now import now as clock_now
from taizhang.errors import ActionError, FieldError, conflict, forbidden, invalid
from taizhang.mechanisms.registry import get_mechanism
from taizhang.org.roles import SYSTEM

from .actions import TransitionPlan, TransitionRequest, check_content, execute, finish_effects
from .models import Case
from .recording import Recorder
from .rules import check_condition_met, check_window


def check_system_transition(case: Case, req: TransitionRequest, now: datetime) -> TransitionPlan:
    """Everything that must hold for the system to take the transition now; raises ActionError."""
    mech = get_mechanism(case.mechanism)
    t = mech.transitions.get(req.code)
    if t is None:
        raise invalid([FieldError("code", "unknown_transition", f"没有名为 {req.code} 的操作")])
    if case.state not in t.from_:
        raise conflict(
            "transition_not_allowed", f"案件当前为「{mech.state_name(case.state)}」，不能执行「{t.name}」"
        )
    if SYSTEM not in t.roles:
        raise forbidden("role_not_allowed", f"机制未允许系统执行「{t.name}」")
    if t.approval or t.merge or req.attachments:
        raise forbidden("role_not_allowed", f"「{t.name}」须由人员办理")
    check_condition_met(mech, case, t, req.params, req.fields)
    if case.pending:
        raise conflict("approval_pending", f"已有待审批的申请「{case.pending.get('name', '')}」，请等待审批")
    if t.before_due and case.due_at is not None and now > case.due_at:
        raise conflict("deadline_passed", f"「{t.name}」须在截止时间前提出，现已超期")
    if t.after_due and case.due_at is not None and now <= case.due_at:
        raise conflict("deadline_not_reached", f"「{t.name}」须在期限届满后办理，现未届满")
    check_window(mech, case, t, now)
    return check_content(mech, case, t, SYSTEM, req, None)


def do_system_transition(case: Case, req: TransitionRequest, now: datetime | None = None) -> Case:
    """Take a transition as the system, in one transaction (a savepoint inside a caller's)."""
    now = now or clock_now()
    with transaction.atomic():
        plan = check_system_transition(case, req, now)
        recorder = Recorder(case)
        try:
            execute(plan, None, SYSTEM, now, recorder)
        except ClockError as exc:
            raise ActionError(exc.code, exc.message, 422) from None
        recorder.commit()
        finish_effects(plan, None, SYSTEM, now)
    return case

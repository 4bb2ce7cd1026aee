"""Deadlines and timer events of a case, all computed through the one clock service."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from taizhang.clock.clock import Duration, get_clock
from taizhang.mechanisms.conditions import Facts
from taizhang.mechanisms.registry import Mechanism

from .models import Case


@dataclass(frozen=True)
class TimerEvent:
    """Something the scheduler does at a moment: 催办 before the deadline, 超期 at it, 督办 after it."""

    at: datetime
    kind: str  # remind, overdue, escalate
    levels: int = 0


def limit_of(mech: Mechanism, case: Case, state: str) -> Duration | None:
    if not mech.timing_reads_values:
        return mech.limit_for(state, case.grade, case.category, case.channel, case.division.path)
    return mech.limit_for(state, case.grade, case.category, case.channel, case.division.path, case.data)


def facts_of(case: Case) -> Facts:
    """What a `when` of a time limit or a supervision rule reads of the case."""
    return Facts({"grade": case.grade, "category": case.category, "channel": case.channel}, case.data or {})


def apply_deadline(
    mech: Mechanism, case: Case, new_state: str, mode: str, now: datetime, extend_by: Duration | None = None
) -> None:
    """Set the case's clock fields for entering `new_state` by a transition whose deadline mode is `mode`.

    restart: the new state's limit counts from now; keep: the deadline stays; extend: the deadline moves
    by `extend_by`; resume: the time saved when the clock stopped counts again from now.
    """
    clock = get_clock()
    old_state = mech.states.get(case.state)
    target = mech.states[new_state]
    if target.kind == "closed":
        case.due_at, case.limit_text, case.clock_left = None, "", ""
    elif mode == "keep":
        pass
    elif mode == "extend":
        assert extend_by is not None and case.due_at is not None
        case.due_at = clock.add(case.due_at, extend_by)
    else:
        saved = case.clock_left
        entering_stopped = target.clock == "stopped" and (old_state is None or old_state.clock != "stopped")
        if entering_stopped and case.due_at and case.limit_text:
            unit = Duration.parse(case.limit_text).unit
            case.clock_left = str(clock.remaining(now, case.due_at, unit))
        if mode == "resume" and saved:
            case.due_at = clock.add(now, Duration.parse(saved))
            case.clock_left = ""
            # The resumed state's limit again names the unit, so a later stop saves its time left.
            limit = limit_of(mech, case, new_state)
            case.limit_text = str(limit) if limit else case.limit_text
        else:
            limit = limit_of(mech, case, new_state)
            case.due_at = clock.add(now, limit) if limit else None
            case.limit_text = str(limit) if limit else ""
        if mode == "restart":
            case.supervision_level = 0
            case.supervising_division = None
    if mode != "keep" or target.kind == "closed":
        case.overdue_since = None
        case.timers_done_until = now  # reminders that would have fallen before now are not sent
    case.state = new_state
    case.state_kind = target.kind
    case.state_entered_at = now
    case.next_timer_at = next_timer(mech, case)


def timer_events(mech: Mechanism, case: Case) -> list[TimerEvent]:
    """Every timer event of the current deadline, in time order."""
    if case.due_at is None or case.state_kind == "closed":
        return []
    clock = get_clock()
    if mech.timing_reads_values:
        plan = mech.supervision_for(case.state, case.division.path, facts_of(case))
    else:
        plan = mech.supervision_for(case.state, case.division.path)
    events = [TimerEvent(clock.subtract(case.due_at, d), "remind") for d in plan.remind_before]
    events.append(TimerEvent(case.due_at, "overdue"))
    events += [
        TimerEvent(clock.add(case.due_at, after), "escalate", levels) for after, levels in plan.escalate
    ]
    return sorted(events, key=lambda e: (e.at, e.kind != "overdue"))


def due_events(mech: Mechanism, case: Case, until: datetime | None = None) -> list[TimerEvent]:
    """Events after `timers_done_until` (and not later than `until`, when given)."""
    done = case.timers_done_until
    return [
        e
        for e in timer_events(mech, case)
        if (done is None or e.at > done) and (until is None or e.at <= until)
    ]


def next_timer(mech: Mechanism, case: Case) -> datetime | None:
    pending = due_events(mech, case)
    return pending[0].at if pending else None

"""Deadlines and timer events of a case, all computed through the one clock service.

A case's deadline (`due_at`) is the earlier of its state's limit and its total limit (`total_due_at`:
from creation, whatever the steps). A limit counts from the moment of the transition, from a date field
of the case (`from_field`), or ends on one (`until_field`). The supervision level only rises while the
case stays in a round: `restart` starts a new one (down to the 挂牌督办 level, if listed), `renew` (返工,
重办) gives a fresh limit but keeps the level and the overdue record.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from taizhang.clock.clock import END_OF_DAY, Duration, get_clock
from taizhang.mechanisms.conditions import Facts
from taizhang.mechanisms.registry import Mechanism
from taizhang.mechanisms.schema import Limit, StateDef, TotalLimit, TransitionDef

from .escalation import escalation_target
from .models import Case

# The one rule of "on time": a step taken at or before `due_at` is on time; a case is overdue only after
# it. The 超期 timer falls at the first instant after the deadline (timestamps count microseconds), so a
# case closed at the deadline itself gets no 超期 row and counts as closed on time (insight/kpi.py).
PAST_DUE = timedelta(microseconds=1)


def past_due(due: datetime | None, moment: datetime) -> bool:
    """Whether `moment` is after the deadline `due` (never, without a deadline)."""
    return due is not None and moment > due


@dataclass(frozen=True)
class TimerEvent:
    """Something the scheduler does at a moment: 催办 before the deadline, 超期 just after it, 督办 later."""

    at: datetime
    kind: str  # remind, overdue, escalate
    levels: int = 0


@dataclass(frozen=True)
class Deadline:
    """A computed limit: when it falls and the text the case shows (`3个工作日`, `至2026-09-30`)."""

    at: datetime
    text: str


def limit_of(mech: Mechanism, case: Case, state: str) -> Duration | None:
    if not mech.timing_reads_values:
        return mech.limit_for(state, case.grade, case.category, case.channel, case.division.path)
    return mech.limit_for(state, case.grade, case.category, case.channel, case.division.path, case.data)


def facts_of(case: Case) -> Facts:
    """What a `when` of a time limit or a supervision rule reads of the case."""
    return Facts({"grade": case.grade, "category": case.category, "channel": case.channel}, case.data or {})


def field_moment(case: Case, name: str, *, end_of_day: bool) -> datetime | None:
    """A date or datetime form field of the case as a moment: a date at the end of that day (the day
    itself is not counted when a limit counts from it, 民法典第二百零一条); None when empty."""
    raw = (case.data or {}).get(name)
    if not raw:
        return None
    clock = get_clock()
    text = str(raw)
    if len(text) == 10:
        day = date.fromisoformat(text)
        return datetime.combine(day, END_OF_DAY if end_of_day else time(0), tzinfo=clock.tz)
    moment = datetime.fromisoformat(text)
    return moment.replace(tzinfo=clock.tz) if moment.tzinfo is None else moment.astimezone(clock.tz)


def deadline_of(rule: Limit | TotalLimit, case: Case, start: datetime) -> Deadline | None:
    """When a limit entry falls for the case, counted from `start` unless the entry names a date field.
    An `until_field` left empty gives no deadline; an empty `from_field` counts from `start`."""
    clock = get_clock()
    if rule.until_field:
        due = field_moment(case, rule.until_field, end_of_day=True)
        return Deadline(due, f"至{due:%Y-%m-%d}") if due else None
    duration = Duration.parse(rule.limit)
    origin = field_moment(case, rule.from_field, end_of_day=True) if rule.from_field else None
    if origin is None:
        return Deadline(clock.add(start, duration), str(duration))
    return Deadline(clock.add(origin, duration), f"{duration}（自{origin:%Y-%m-%d}起）")


def state_deadline(mech: Mechanism, case: Case, state: str, start: datetime) -> Deadline | None:
    """The limit of `state` for the case, from `start`: a listed case's acceptance limit (挂牌督办) first,
    else the time-limit entry of the state (the deepest rule pack first)."""
    listed = mech.transitions.get(case.listed_by) if case.listed_by else None
    if listed is not None and listed.supervise and state in listed.supervise.accept_in:
        duration = Duration.parse(mech.transition_rule(listed, "accept_within", case.division.path))
        return Deadline(get_clock().add(start, duration), str(duration))
    rule = mech.limit_rule_for(state, case.grade, case.category, case.channel, case.division.path, case.data)
    return deadline_of(rule, case, start) if rule is not None else None


def refresh_total(mech: Mechanism, case: Case, now: datetime, *, renew: bool = False) -> None:
    """Set the total deadline when the rule that applies changed (a new case, a 派单 that reclassified it, a
    new date): counted from the case's creation; `renew` counts it again from now (重办). An unchanged rule
    keeps its deadline with the extensions granted on it."""
    rule = mech.total_limit_for(case.grade, case.category, case.channel, case.division.path)
    if rule is None:
        case.total_due_at, case.total_limit = None, ""
        return
    fresh = deadline_of(rule, case, now if renew else case.created_at)
    if fresh is None:
        case.total_due_at, case.total_limit = None, ""
    elif renew or fresh.text != case.total_limit or case.total_due_at is None:
        case.total_due_at, case.total_limit = fresh.at, fresh.text


def follow_dates(mech: Mechanism, case: Case, state: StateDef, now: datetime, changed: set[str]) -> None:
    """A step that keeps the deadline still follows a date field a limit counts from or until when the
    step changed that date (a corrected loss date, a task moved to another day): both limits are counted
    again as at `recount` (the moved date replaces the old one and the extensions made on it)."""
    if not changed or state.clock == "stopped":
        return
    facts = (case.grade, case.category, case.channel, case.division.path)
    rules = [mech.limit_rule_for(case.state, *facts, case.data), mech.total_limit_for(*facts)]
    named = {r.from_field for r in rules if r is not None} | {r.until_field for r in rules if r is not None}
    if named & changed:
        refresh_total(mech, case, now)
        set_due(case, state_deadline(mech, case, case.state, case.state_entered_at))


def set_due(case: Case, state: Deadline | None) -> None:
    """The case's deadline: the earlier of the state's and the total one, with the text of the one that binds."""
    total = Deadline(case.total_due_at, case.total_limit) if case.total_due_at else None
    chosen = min((d for d in (state, total) if d is not None), key=lambda d: d.at, default=None)
    case.due_at = chosen.at if chosen else None
    case.limit_text = chosen.text if chosen else ""


def listed_level(mech: Mechanism, case: Case) -> int:
    """The level a 挂牌督办 put the case under (0: not listed): a new round never goes below it."""
    listed = mech.transitions.get(case.listed_by) if case.listed_by else None
    return listed.supervise.levels if listed is not None and listed.supervise else 0


def raise_supervision(mech: Mechanism, case: Case, levels: int) -> bool:
    """Put the case under the body `levels` above its division (capped by `escalate_up_to`); never lowers.
    Whether the level rose."""
    target, reached = escalation_target(case, levels, mech.definition.escalate_up_to)
    if reached <= case.supervision_level:
        return False
    case.supervision_level, case.supervising_division = reached, target
    return True


def apply_deadline(
    mech: Mechanism,
    case: Case,
    new_state: str,
    mode: str,
    now: datetime,
    extend_by: Duration | None = None,
    transition: TransitionDef | None = None,
    changed: set[str] | None = None,
) -> None:
    """Set the case's clock fields for entering `new_state` by a transition whose deadline mode is `mode`.

    restart: the new state's limit counts from now; renew: the same, keeping the supervision level and the
    overdue record (返工, 重办); recount: the current state's limit for the case's new values, from when it
    entered the state; keep: the deadline stays; extend: the deadline (and the total one) move by
    `extend_by`; resume: the time saved when the clock stopped counts again from now. `transition`: the
    step taken, for 挂牌督办 (`supervise`); `changed`: the form fields it changed (a moved date field that a
    limit counts from or until moves a kept deadline).
    """
    clock = get_clock()
    old_state = mech.states.get(case.state)
    target = mech.states[new_state]
    entering = new_state != case.state or mode in ("restart", "renew", "resume")
    if transition is not None and transition.supervise is not None:
        case.listed_by = transition.code
        raise_supervision(mech, case, transition.supervise.levels)
    if target.kind == "closed":
        case.due_at, case.limit_text, case.clock_left = None, "", ""
        case.total_due_at, case.total_limit = None, ""
    elif mode == "keep":
        follow_dates(mech, case, target, now, changed or set())
    elif mode == "extend":
        assert extend_by is not None and case.due_at is not None
        case.due_at = clock.add(case.due_at, extend_by)
        if case.total_due_at is not None:
            case.total_due_at = clock.add(case.total_due_at, extend_by)
    elif mode == "recount":
        refresh_total(mech, case, now)
        set_due(case, state_deadline(mech, case, new_state, case.state_entered_at))
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
            refresh_total(mech, case, now, renew=mode == "renew")
            set_due(case, state_deadline(mech, case, new_state, now))
        if mode == "restart":
            # A new round: down to the level a 挂牌督办 set (the list stays), else none.
            case.supervision_level, case.supervising_division = 0, None
            if listed_level(mech, case):
                raise_supervision(mech, case, listed_level(mech, case))
    if target.kind == "closed" or mode in ("restart", "resume", "extend"):
        case.overdue_since = None  # renew and recount keep the record that the case was overdue
    if mode != "keep" or target.kind == "closed":
        case.timers_done_until = now  # reminders that would have fallen before now are not sent
    case.state = new_state
    case.state_kind = target.kind
    if entering:
        case.state_entered_at = now
    case.next_timer_at = next_timer(mech, case)


def timer_events(mech: Mechanism, case: Case) -> list[TimerEvent]:
    """Every timer event of the current deadline, in time order."""
    if case.due_at is None or case.state_kind == "closed":
        return []
    clock = get_clock()
    plan = mech.supervision_for(case.state, case.division.path, facts_of(case))
    events = [TimerEvent(clock.subtract(case.due_at, d), "remind") for d in plan.remind_before]
    events.append(TimerEvent(case.due_at + PAST_DUE, "overdue"))
    events += [
        # An escalation `after: 0` falls with the 超期, not at the deadline itself (still on time then).
        TimerEvent(max(clock.add(case.due_at, after), case.due_at + PAST_DUE), "escalate", levels)
        for after, levels in plan.escalate
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

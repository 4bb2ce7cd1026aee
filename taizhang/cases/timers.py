"""What the scheduler does to a case when its time comes: 催办, 超期, 督办 up the org tree."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation

from taizhang.clock.clock import Duration, get_clock
from taizhang.errors import ActionError
from taizhang.mechanisms.registry import Mechanism, get_mechanism
from taizhang.org.roles import SYSTEM

from .models import Case
from .recording import Recorder, diff, snapshot
from .schedule import TimerEvent, due_events, next_timer, raise_supervision


def local(value: datetime | None) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else "—"


def apply_event(mech: Mechanism, case: Case, event: TimerEvent, now: datetime, recorder: Recorder) -> None:
    """Record one timer event on the case (an escalation to a level already reached is skipped)."""
    before = snapshot(case)
    if event.kind == "remind":
        unit = Duration.parse(case.limit_text).unit if case.limit_text else "hours"
        with translation.override(settings.LANGUAGE_CODE):  # history is written in the platform's language
            left = get_clock().describe_left(now, case.due_at, unit)
        name, opinion = "催办", f"系统催办：{left}，截止 {local(case.due_at)}，请按时办结"
    elif event.kind == "overdue":
        case.overdue_since = case.overdue_since or case.due_at
        name, opinion = "超期", f"已超过办理时限（{case.limit_text}），截止时间 {local(case.due_at)}"
    else:
        if not raise_supervision(mech, case, event.levels):
            return  # a level already reached, or above the mechanism's cap (escalate_up_to)
        target = case.supervising_division
        name, opinion = "督办", f"超期未办结，升级由{target.name}督办（第 {case.supervision_level} 级）"
    changes = diff(before, snapshot(case))
    if event.kind == "escalate":
        changes["supervising_division"] = [None, case.supervising_division.name]
    recorder.add(
        kind="timer",
        code=event.kind,
        name=name,
        actor=None,
        role=SYSTEM,
        from_state=case.state,
        to_state=case.state,
        at=now,
        opinion=opinion,
        changes=changes,
        public=event.kind != "remind",
    )


def do_fire_timers(case_id: int, now: datetime) -> int:
    """Record every timer event of a case that is due by `now`; returns how many rows were written.

    Safe with several workers: the write is a compare-and-swap on the case's version, so a worker
    that lost the race writes nothing (the winner recorded the events).
    """
    with transaction.atomic():
        case = Case.objects.select_related("division").filter(pk=case_id).first()
        if case is None or case.next_timer_at is None or case.next_timer_at > now:
            return 0
        mech = get_mechanism(case.mechanism)
        recorder = Recorder(case)
        for event in due_events(mech, case, until=now):
            apply_event(mech, case, event, now, recorder)
        written = len(recorder.rows)
        case.timers_done_until = now
        case.next_timer_at = next_timer(mech, case)
        try:
            recorder.commit()
        except ActionError:
            return 0
    return written

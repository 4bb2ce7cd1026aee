"""Building the demo district: org tree, people, then every case's history replayed in time order.

Stories and scheduler runs share one timeline: the earliest pending step runs next, with the
platform's clock pinned to its moment, so each case's history (and the worker's 催办/超期/督办 rows)
is written in chronological order by the ordinary actions layer.
"""

from __future__ import annotations

import heapq
import random
import time as timer
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from datetime import time as clock_time

from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from taizhang.cases.models import Case, Transition
from taizhang.clock.calendar import CalendarYearUnknown
from taizhang.clock.clock import get_clock
from taizhang.clock.now import pinned
from taizhang.clock.worker import run_once
from taizhang.errors import ActionError

from .casting import cast_story
from .org import build_org
from .people import Cast, build_people
from .stories import Story, play

WORKER_TIMES = (clock_time(8, 0), clock_time(12, 30), clock_time(18, 0))


class DemoError(Exception):
    """The demo cannot be built here (e.g. the calendar does not know a year the demo reaches)."""


@dataclass
class Result:
    cases: int
    seconds: float
    cast: Cast
    states: dict[str, int] = field(default_factory=dict)
    events: dict[str, int] = field(default_factory=dict)
    overdue: int = 0
    escalated: int = 0
    failures: list[str] = field(default_factory=list)


def check_calendar(end: datetime) -> None:
    """Deadlines reach months past `end`: every year they touch must be countable."""
    calendar = get_clock().calendar
    for year in range((end - timedelta(days=120)).year, (end + timedelta(days=240)).year + 1):
        try:
            calendar.is_workday(date(year, 6, 1))
        except CalendarYearUnknown as exc:
            raise DemoError(exc.message) from None


def worker_moments(begin: datetime, end: datetime) -> list[datetime]:
    """When the scheduler runs during the replay: three times a day."""
    tz = timezone.get_current_timezone()
    day, out = timezone.localtime(begin).date(), []
    while day <= timezone.localtime(end).date():
        out += [m for t in WORKER_TIMES if begin <= (m := datetime.combine(day, t, tzinfo=tz)) < end]
        day += timedelta(days=1)
    return out


def replay(stories: list[Story], end: datetime) -> list[str]:
    """Run every story and the scheduler in time order up to `end`; returns failed steps (expected none)."""
    heap: list[tuple[datetime, int, int, object]] = []
    for i, story in enumerate(stories):
        heap.append((story.start, 1, i, play(story)))
    begin = min((s.start for s in stories), default=end)
    heap += [(moment, 0, k, None) for k, moment in enumerate(worker_moments(begin, end))]
    heapq.heapify(heap)
    failures: list[str] = []
    while heap:
        at, kind, i, steps = heapq.heappop(heap)
        with pinned(at):
            if steps is None:
                run_once(now=at)
                continue
            try:
                following = next(steps)
            except StopIteration:
                continue
            except ActionError as exc:
                story = stories[i]
                failures.append(
                    f"{story.case.number if story.case else i} ({story.plot}): {exc.code} {exc.message}"
                )
                continue
        following = max(following, at + timedelta(minutes=1))
        if following < end:
            heapq.heappush(heap, (following, kind, i, steps))
    return failures


def build_demo(cases: int = 300, seed: int = 2026, end: datetime | None = None) -> Result:
    """Build everything in one transaction: nothing is left behind if any step fails."""
    started = timer.monotonic()
    real = end is None
    end = end or timezone.now()
    check_calendar(end)
    with transaction.atomic():
        org = build_org()
        cast = build_people(org)
        stories = [cast_story(i, random.Random(f"{seed}-{i}"), org, cast, end) for i in range(cases)]
        failures = replay(stories, end)
        final = timezone.now() if real else end
        with pinned(final):
            run_once(now=final)  # the scheduler at the current time: overdue states are current
    result = Result(cases=cases, seconds=timer.monotonic() - started, cast=cast, failures=failures)
    summarise(result)
    return result


def summarise(result: Result) -> None:
    rows = Case.objects.order_by().values_list("state").annotate(n=Count("id"))
    result.states = dict(rows)
    result.overdue = Case.objects.filter(overdue_since__isnull=False).exclude(state_kind="closed").count()
    result.escalated = Case.objects.filter(supervision_level__gt=0).count()
    codes = Counter(
        dict(Transition.objects.values_list("code").annotate(n=Count("case_id", distinct=True)).order_by())
    )
    result.events = {
        name: codes.get(code, 0)
        for code, name in (
            ("fix_on_spot", "即查即改"),
            ("return", "退回"),
            ("rework", "返工"),
            ("extend", "延期申请"),
            ("cordon", "封控撤离"),
            ("refuse", "转联合执法"),
            ("park", "挂账"),
            ("remind", "系统催办"),
            ("overdue", "曾超期"),
            ("escalate", "曾督办"),
            ("urge", "人工催办"),
            ("flag", "纪委监督标记"),
        )
    }

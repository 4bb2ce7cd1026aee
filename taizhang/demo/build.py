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
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from datetime import time as clock_time
from typing import Protocol

from django.db import connection, transaction
from django.db.models import Count
from django.utils import timezone

from taizhang.cases.models import Case, Transition
from taizhang.clock.calendar import CalendarYearUnknown
from taizhang.clock.clock import get_clock
from taizhang.clock.now import pinned
from taizhang.clock.worker import run_once
from taizhang.errors import ActionError

from .bodies import plan_body_accounts
from .casting import cast_story
from .demand_casting import cast_demands
from .demand_org import build_hotline_units, plan_hotline_accounts
from .org import build_org
from .people import Cast, build_people, plan_accounts
from .petition_stories import cast_petitions
from .registers import build_registers

WORKER_TIMES = (clock_time(8, 0), clock_time(12, 30), clock_time(18, 0))


class DemoError(Exception):
    """The demo cannot be built here (e.g. the calendar does not know a year the demo reaches)."""


class Story(Protocol):
    """A case's history: when it starts, what it is to show, its case once filed, and its steps."""

    start: datetime
    plot: str
    case: Case | None

    def steps(self) -> Iterator[datetime]: ...


@dataclass
class Result:
    cases: int
    seconds: float
    cast: Cast
    demands: int = 0
    petitions: int = 0
    states: dict[str, dict[str, int]] = field(default_factory=dict)  # mechanism -> state -> cases
    events: dict[str, dict[str, int]] = field(default_factory=dict)  # mechanism -> event -> cases
    overdue: dict[str, int] = field(default_factory=dict)  # mechanism -> open cases past their deadline
    escalated: dict[str, int] = field(default_factory=dict)
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
        heap.append((story.start, 1, i, story.steps()))
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


def refresh_planner_statistics() -> None:
    """ANALYZE on PostgreSQL: right after the load autovacuum may not have run yet, and statistics taken
    while the tables were empty can steer the dashboard's KPI query into a plan that runs for minutes."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute("ANALYZE")


def build_demo(
    cases: int = 300,
    seed: int = 2026,
    end: datetime | None = None,
    demands: int = 200,
    petitions: int = 12,
) -> Result:
    """Build everything in one transaction: nothing is left behind if any step fails.

    `cases` hazard cases, `demands` 12345 demands (repeat calls included) and `petitions` 信访事项.
    """
    started = timer.monotonic()
    real = end is None
    end = end or timezone.now()
    check_calendar(end)
    with transaction.atomic():
        org = build_org()
        build_hotline_units(org)
        plan = plan_accounts(org)
        plan += plan_hotline_accounts(org, plan)
        cast = build_people(org, plan + plan_body_accounts(org, plan))
        stories: list[Story] = [
            cast_story(i, random.Random(f"{seed}-{i}"), org, cast, end) for i in range(cases)
        ]
        stories += cast_demands(demands, seed, org, cast, end)
        stories += cast_petitions(petitions, seed, org, cast, end)
        failures = replay(stories, end)
        build_registers(org, cast, end)  # 企业台账 (registers are no cases)
        final = timezone.now() if real else end
        with pinned(final):
            run_once(now=final)  # the scheduler at the current time: overdue states are current
        refresh_planner_statistics()
    result = Result(
        cases=cases,
        demands=demands,
        petitions=petitions,
        seconds=timer.monotonic() - started,
        cast=cast,
        failures=failures,
    )
    summarise(result)
    return result


EVENTS = {
    "hazard": (
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
    ),
    "demand": (
        ("answer_directly", "直接答复"),
        ("return", "退单"),
        ("accept_return", "改派"),
        ("refuse_return", "驳回退单"),
        ("extend", "延期申请"),
        ("assist", "协办反馈"),
        ("merge", "并单"),
        ("invalidate", "无效诉求"),
        ("visit_unsatisfied", "回访不满意重办"),
        ("close_unreachable", "回访未接通"),
        ("overdue", "曾超期"),
        ("escalate", "曾督办"),
        ("urge", "催办"),
        ("flag", "纪委监督标记"),
    ),
    "petition": (
        ("decline", "不予受理"),
        ("extend", "延期"),
        ("start_hearing", "听证"),
        ("record_review_request", "复查请求（来信）"),
        ("request_review", "复查请求（网上）"),
        ("recheck_reply", "复核终结"),
    ),
}


def summarise(result: Result) -> None:
    """Cases per mechanism and state, open overdue and escalated cases, and cases that saw each event."""
    for mech, state, n in Case.objects.order_by().values_list("mechanism", "state").annotate(n=Count("id")):
        result.states.setdefault(mech, {})[state] = n
    open_cases = Case.objects.exclude(state_kind="closed").order_by()
    for mech, n in (
        open_cases.filter(overdue_since__isnull=False).values_list("mechanism").annotate(n=Count("id"))
    ):
        result.overdue[mech] = n
    for mech, n in (
        Case.objects.filter(supervision_level__gt=0)
        .order_by()
        .values_list("mechanism")
        .annotate(n=Count("id"))
    ):
        result.escalated[mech] = n
    rows = (
        Transition.objects.values_list("case__mechanism", "code")
        .annotate(n=Count("case_id", distinct=True))
        .order_by()
    )
    codes = Counter({(mech, code): n for mech, code, n in rows})
    result.events = {
        mech: {name: codes.get((mech, code), 0) for code, name in events} for mech, events in EVENTS.items()
    }

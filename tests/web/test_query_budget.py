"""No page of the demo over 30 queries (issue #13, query diet).

A small demo district (hazard cases, 12345 demands, 信访事项 walked through their stories by the demo
builder) is visited as the main personas: the workbench (待办), the case list and its export, the case
page of every mechanism in several states, the dashboard with its 考核 table, the hot spots, the reply
quality page and the monthly report. Every visit, allowed or refused, must stay within the budget.
"""

from __future__ import annotations

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from taizhang.cases.models import Case
from taizhang.org.models import Membership, User
from tests.cases.helpers import at

NOW = at(2026, 11, 20, 10)
BUDGET = 30
ROLES = ("grid_worker", "intake", "dispatcher", "handler", "verifier", "leader", "inspector", "resident")
PAGES = (
    "/",
    "/workbench/",
    "/cases/",
    "/cases/?mechanism=hazard&state_kind=open",
    "/cases/?overdue=true",
    "/cases/export.xlsx",
    "/dashboard/",
    "/dashboard/?period=all",
    "/hotspots/",
    "/replies/",
    "/reports/monthly/",
    "/registers/",
    "/registers/enterprise/",
    "/registers/enterprise/map/",
    "/registers/enterprise/export.xlsx",
)
STATES_PER_MECHANISM = 4


def personas() -> dict[str, User]:
    """The first person (by username) of each main role in the demo."""
    found = {}
    for role in ROLES:
        m = (
            Membership.objects.filter(role=role, active=True)
            .select_related("user")
            .order_by("user__username")
        )
        if m.exists():
            found[role] = m.first().user
    return found


def case_pages(user: User) -> list[str]:
    """Case pages the person may open: each mechanism in up to STATES_PER_MECHANISM of its states."""
    urls = []
    visible = Case.objects.for_user(user).order_by("mechanism", "state", "pk")
    seen: dict[str, set[str]] = {}
    for mechanism, state, number in visible.values_list("mechanism", "state", "number"):
        states = seen.setdefault(mechanism, set())
        if state in states or len(states) >= STATES_PER_MECHANISM:
            continue
        states.add(state)
        urls.append(f"/cases/{number}/")
    return urls


def item_pages(user: User) -> list[str]:
    """Register item pages the person may open (the 企业台账 of the demo)."""
    from taizhang.registers.models import RegisterItem

    numbers = RegisterItem.objects.for_user(user).order_by("pk").values_list("number", flat=True)[:3]
    return [f"/registers/items/{n}/" for n in numbers]


@pytest.mark.django_db
def test_no_demo_page_over_the_budget(client, settings):
    from taizhang.clock.clock import reset_clock
    from taizhang.demo.build import build_demo

    settings.TAIZHANG_CALENDAR_UNKNOWN_YEAR = "weekends"
    reset_clock()
    build_demo(cases=60, demands=50, petitions=8, end=NOW)
    people = personas()
    assert {"dispatcher", "handler", "verifier", "leader", "inspector"} <= set(people)
    over, visits, statuses = [], 0, set()
    with time_machine.travel(NOW, tick=False):
        for role, user in people.items():
            client.force_login(user)
            urls = [*PAGES, *case_pages(user), *item_pages(user)]
            assert role == "resident" or any(u.startswith("/cases/") and u.count("/") == 3 for u in urls)
            for url in urls:
                with CaptureQueriesContext(connection) as ctx:
                    response = client.get(url)
                visits += 1
                statuses.add(response.status_code)
                assert response.status_code in (200, 302, 403, 404), (role, url, response.status_code)
                if len(ctx.captured_queries) > BUDGET:
                    over.append(f"{role} {user.username} {url}: {len(ctx.captured_queries)} queries")
    assert visits > 60 and 200 in statuses
    assert not over, f"over the budget of {BUDGET} queries:\n" + "\n".join(over)


@pytest.mark.django_db
def test_the_budget_check_can_fail(client, world):
    """The capture counts what a page runs (a check that could never fail would prove nothing)."""
    client.force_login(world.dispatcher)
    with CaptureQueriesContext(connection) as ctx:
        client.get("/workbench/")
    assert len(ctx.captured_queries) > 2

"""Registers never count as cases: the case lists, 待办, overdue lists, KPIs, the dashboard and the monthly
report read the case tables only. Each page or endpoint is asked before and after a register full of
items, with as many cases; the register list's queries do not grow with its items."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from tests.cases.helpers import report

from .helpers import ours, theirs

CASE_PAGES = [
    "/api/v1/cases?limit=200",
    "/cases/",
    "/cases/?overdue=1",
    "/workbench/",
    "/dashboard/",
    "/api/v1/kpis?from=2026-01-01&to=2027-01-01",
]


def snapshot(client) -> dict[str, bytes]:
    out = {}
    for url in CASE_PAGES:
        response = client.get(url)
        assert response.status_code == 200, url
        out[url] = response.content
    return out


def test_items_appear_in_no_case_page(world):
    report(world)
    client = Client()
    client.force_login(world.leader)
    before = snapshot(client)
    items = [ours(world), theirs(world)]
    after = snapshot(client)
    for url in CASE_PAGES:
        for item in items:
            assert item.number.encode() not in after[url], url
    assert before["/api/v1/cases?limit=200"] == after["/api/v1/cases?limit=200"]
    assert (
        before["/api/v1/kpis?from=2026-01-01&to=2027-01-01"]
        == after["/api/v1/kpis?from=2026-01-01&to=2027-01-01"]
    )


def test_the_register_list_costs_the_same_queries_however_many_items(world):
    client = Client()
    client.force_login(world.dispatcher)
    ours(world)
    client.get("/registers/enterprise/")  # warm the session and the registry
    with CaptureQueriesContext(connection) as one:
        assert client.get("/registers/enterprise/").status_code == 200
    for i in range(6):
        ours(world, name=f"企业{i}", user=world.leader, unit=world.housing_bureau.code)
    with CaptureQueriesContext(connection) as seven:
        response = client.get("/registers/enterprise/")
    assert response.content.decode().count("QY-0000") >= 7
    assert len(seven) == len(one)
    assert len(seven) <= 12


@pytest.mark.parametrize("url", ["/registers/", "/registers/items/QY-000001/", "/registers/enterprise/map/"])
def test_register_pages_stay_small(world, url):
    ours(world)
    client = Client()
    client.force_login(world.dispatcher)
    client.get(url)
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    assert len(queries) <= 15, [q["sql"] for q in queries.captured_queries]

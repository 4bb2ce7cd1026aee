"""/hotspots/ (热点排行): who may open it, the ranking in heat order with each group's figures and the
link to exactly its demands, filters in the URL with errors in place, and the link from the dashboard."""

from __future__ import annotations

import pytest
import time_machine

from tests.api.conftest import ApiClient
from tests.cases.helpers import at
from tests.web.test_dashboard import NOISE, file_demands, file_noise

NOW = at(2026, 11, 20, 10)
LAMPS = [
    ("和平街路灯不亮", "和平街南段路灯已经坏了一个星期，晚上很黑。"),
    ("和平街南段路灯坏了", "和平街南段一排路灯都不亮，夜里走路不安全。"),
]


def file_lamps(world) -> None:
    """Two demands about the same lamps, a month earlier: a colder hot spot than the noise."""
    file_demands(world, LAMPS, at(2026, 10, 20, 9))


@pytest.fixture
def spots(world):
    file_lamps(world)
    file_noise(world)
    with time_machine.travel(NOW, tick=False):
        yield


def get(client, user, query: str = "", **headers):
    if user is not None:
        client.force_login(user)
    return client.get(f"/hotspots/{query}", headers=headers)


@pytest.mark.parametrize(
    "persona, status",
    [
        ("leader", 200),
        ("dispatcher", 200),
        ("inspector", 200),
        ("handler", 200),
        ("grid_worker", 200),
        ("verifier", 200),
        ("outsider", 200),
        ("resident", 403),
    ],
)
def test_who_may_open_the_ranking(client, world, spots, persona, status, django_assert_max_num_queries):
    with django_assert_max_num_queries(30):
        response = get(client, getattr(world, persona))
    assert response.status_code == status
    if status == 403:
        assert "热点分析仅供工作人员查看" in response.content.decode()
        assert "hotspot-table" not in response.content.decode()


def test_anonymous_goes_to_login(client, db):
    response = client.get("/hotspots/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_the_ranking_is_in_heat_order_and_links_to_exactly_the_demands(client, world, spots):
    response = get(client, world.leader)
    rows = response.context["spots"]
    assert [r["rank"] for r in rows] == [1, 2]
    noise, lamps = rows[0]["spot"], rows[1]["spot"]
    assert "金桂苑" in noise.name and "路灯" in lamps.name and noise.heat > lamps.heat
    assert (noise.count, lamps.count) == (3, 2)
    body = response.content.decode()
    assert body.index(noise.name) < body.index(lamps.name) and "热度 =" in body
    listed = client.get(rows[0]["url"]).context["page"].paginator
    assert listed.count == 3 and {c.title for c in listed.object_list} == {t for t, _ in NOISE}
    assert client.get(rows[1]["url"]).context["page"].paginator.count == 2


def test_filters_narrow_the_ranking(client, world, spots):
    assert len(get(client, world.leader, "?days=7").context["spots"]) == 1  # the lamps are a month old
    assert len(get(client, world.leader, "?limit=20&mechanism=demand").context["spots"]) == 2
    assert get(client, world.leader, "?mechanism=petition").context["spots"] == []
    street = world.grid.parent.code
    rows = get(client, world.leader, f"?division={street}").context["spots"]
    assert len(rows) == 2 and f"division={street}" in rows[0]["url"]
    assert client.get(rows[0]["url"]).context["page"].paginator.count == 3
    assert get(client, world.leader, "?division=XBTZ").context["spots"] == []  # another street
    # A grid worker of another street sees none of these demands, so no hot spot.
    assert get(client, world.outsider).context["spots"] == []


@pytest.mark.parametrize(
    "query, field, code",
    [
        ("?days=0", "days", "out_of_range"),
        ("?days=abc", "days", "invalid_number"),
        ("?limit=1000", "limit", "out_of_range"),
        ("?mechanism=hazard", "mechanism", "unknown_mechanism"),
        ("?division=NOWHERE", "division", "unknown_division"),
    ],
)
def test_bad_filters_are_said_in_place(client, world, spots, query, field, code):
    response = get(client, world.leader, query)
    assert response.status_code == 400
    body = response.content.decode()
    assert f'data-field="{field}" data-code="{code}"' in body and "筛选条件有误" in body
    assert 'aria-invalid="true"' in body and response.context["spots"] == []


def test_a_division_outside_ones_area_is_not_found(client, world, spots):
    street = world.grid.parent.code
    response = get(client, world.outsider, f"?division={street}")
    assert response.status_code == 400 and 'data-code="unknown_division"' in response.content.decode()


def test_a_period_typed_into_the_url_shows_as_chosen(client, world, spots):
    body = get(client, world.leader, "?days=45&limit=7").content.decode()
    assert '<option value="45" selected>近45天</option>' in body
    assert '<option value="7" selected>7</option>' in body


def test_the_api_takes_the_same_filters(client, world, spots):
    street = world.grid.parent.code
    api = ApiClient()
    api.client.force_login(world.leader)
    body = api.get("/hotspots", {"division": street, "limit": 100}).json()
    assert [b["count"] for b in body] == [3, 2]
    bad = api.get("/hotspots", {"division": "NOWHERE", "limit": 101, "mechanism": "hazard"})
    assert bad.status_code == 422
    assert {e["field"]: e["code"] for e in bad.json()["errors"]} == {
        "division": "unknown_division",
        "limit": "out_of_range",
        "mechanism": "unknown_mechanism",
    }
    api.client.force_login(world.outsider)  # a division outside one's area is not found
    assert api.get("/hotspots", {"division": street}).status_code == 422


def test_htmx_gets_only_the_results(client, world, spots):
    response = get(client, world.leader, "?days=30", **{"HX-Request": "true", "HX-Target": "results"})
    body = response.content.decode()
    assert response.status_code == 200 and "hotspot-table" in body and "<h1>" not in body


def test_the_dashboard_links_to_the_ranking_of_its_period(client, world, spots):
    client.force_login(world.leader)
    street = world.grid.parent.code
    context = client.get(f"/dashboard/?period=30&division={street}").context
    assert context["hotspots_url"] == f"/hotspots/?days=30&division={street}"
    assert client.get(context["hotspots_url"]).status_code == 200
    assert client.get("/dashboard/?period=all").context["hotspots_url"] == "/hotspots/"
    nav = [item.key for item in client.get("/workbench/").context["nav"]]
    assert "hotspots" in nav

"""The leader dashboard: who may open it, every figure on a small world, every figure's link listing
exactly the cases counted, drill-down and periods, the 考核 table, the map's data and outlines, and
the query count on the demo district.

The world's cases (now = 2026-11-20 10:00; 近90天 starts 2026-08-23):
A  五马 grid, 一般, 11-02, left 待立案, with coordinates
B  五马 grid, 较大, 11-02, 整改中 at 应急局 (due after now)
C  白兔村 grid (outsider), 重大, 11-05, left 待立案, with coordinates
D  五马 grid, 一般, 11-03, 不予立案 the same day (closed)
E  五马 grid, 一般, 11-04, 整改中 at 应急局, its timers fired on 11-20: 超期 and 督办
F  12345 demand, 五马 grid, 11-06, 派单 to 应急局 and signed (办理中)
O  五马 grid, 一般, 2026-06-01, left 待立案 (before the 90 days)
"""

from __future__ import annotations

import io

import pytest
import time_machine
from openpyxl import load_workbook

from taizhang.cases.create import CaseInput, do_create_case
from taizhang.cases.models import Case
from taizhang.cases.timers import do_fire_timers
from taizhang.org.models import Membership, User
from tests.cases.helpers import act, at, report, to_rectifying

NOW = at(2026, 11, 20, 10)


@pytest.fixture
def cases(world):
    built = {}
    with time_machine.travel(at(2026, 6, 1, 9), tick=False):
        built["O"] = report(world, title="旧隐患")
    with time_machine.travel(at(2026, 11, 2, 9), tick=False) as clock:
        built["A"] = report(world, title="消防通道堵塞", lat="36.168000", lon="113.137000")
        built["B"] = to_rectifying(world, report(world, title="配电箱破损", grade="larger"))
        clock.move_to(at(2026, 11, 3, 9))
        built["D"] = report(world, title="楼道杂物")
        clock.move_to(at(2026, 11, 3, 10))
        act(world.dispatcher, built["D"], "reject", opinion="已自行清理")
        clock.move_to(at(2026, 11, 4, 9))
        built["E"] = to_rectifying(world, report(world, title="燃气管老化"))
        clock.move_to(at(2026, 11, 5, 9))
        built["C"] = report(
            world,
            world.outsider,
            title="白兔村油库隐患",
            grade="major",
            division=world.other_grid.code,
            lat="36.118000",
            lon="113.046000",
        )
        clock.move_to(at(2026, 11, 6, 9))
        built["F"], _ = do_create_case(
            world.dispatcher,
            CaseInput(
                mechanism="demand",
                title="小区路灯不亮",
                division=world.grid.code,
                category="complaint",
                grade="general",
                channel="hotline",
            ),
        )
        act(world.dispatcher, built["F"], "dispatch", params={"unit": world.safety_bureau.code})
        clock.move_to(at(2026, 11, 6, 10))
        act(world.handler, built["F"], "sign")
        clock.move_to(at(2026, 11, 20, 9))
        assert do_fire_timers(built["E"].pk, at(2026, 11, 20, 9)) >= 2  # 超期 and 督办
    return {key: Case.objects.get(pk=c.pk) for key, c in built.items()}


@pytest.fixture
def now():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def page(client, user, query=""):
    client.force_login(user)
    response = client.get(f"/dashboard/{query}")
    assert response.status_code == 200, response.content.decode()[:500]
    return response


def figures(response) -> dict[str, int]:
    return {f.label: f.count for f in response.context["figures"]}


def listed(client, url: str) -> set[str]:
    response = client.get(url)
    assert response.status_code == 200, url
    paginator = response.context["page"].paginator
    return {c.number for c in paginator.object_list}


# -- who may see it --------------------------------------------------------------------------------


def test_anonymous_is_sent_to_login(client, db):
    for url in ("/dashboard/", "/dashboard/outlines.geojson"):
        assert client.get(url)["Location"].startswith("/login/")


@pytest.mark.parametrize("persona", ["leader", "dispatcher", "inspector"])
def test_leaders_dispatchers_and_inspectors_may_open_it(client, world, persona, now):
    response = page(client, getattr(world, persona))
    assert "驾驶舱" in response.content.decode()
    assert response.context["nav_active"] == "dashboard"


def test_intake_staff_and_administrators_may_open_it(client, world, now):
    intake = User.objects.create_user("shouli", password="pw")
    Membership.objects.create(user=intake, role="intake", division=world.district)
    page(client, intake)
    admin = User.objects.create_superuser("root", password="pw")
    response = page(client, admin)
    assert response.context["scope"].division is None  # no post: every top-level division


@pytest.mark.parametrize(
    "persona", ["grid_worker", "handler", "verifier", "resident", "outsider", "enterprise_officer"]
)
def test_other_roles_are_refused(client, world, persona, now):
    client.force_login(getattr(world, persona))
    response = client.get("/dashboard/")
    assert response.status_code == 403
    body = response.content.decode()
    assert 'role="alert"' in body and "驾驶舱仅供" in body
    assert client.get("/dashboard/outlines.geojson").status_code == 403


# -- the figures -------------------------------------------------------------------------------------


def test_figures_on_the_small_world(client, world, cases, now):
    response = page(client, world.leader)
    assert figures(response) == {
        "案件总数": 6,
        "超期": 1,
        "督办中": 1,
        "办理中": 5,
        "待处理": 0,
        "管控中": 0,
        "挂起": 0,
        "已办结": 1,
    }
    mechs = {m.code: m for m in response.context["mechanisms"]}
    assert [m.code for m in response.context["mechanisms"]] == ["demand", "hazard"] or set(mechs) == {
        "demand",
        "hazard",
    }
    hazard = mechs["hazard"]
    assert hazard.total.count == 5
    states = {f.label: f.count for f in hazard.states}
    assert (
        states["待立案"] == 2 and states["整改中"] == 2 and states["不予立案"] == 1 and states["已销号"] == 0
    )
    assert {f.label: f.count for f in hazard.grades} == {"一般隐患": 3, "较大隐患": 1, "重大隐患": 1}
    assert mechs["demand"].total.count == 1
    rows = {d["division"].code: d for d in response.context["divisions"]}
    assert set(rows) == {"WMJD", "XBTZ"}
    assert (rows["WMJD"]["total"].count, rows["WMJD"]["overdue"].count) == (5, 1)
    assert (rows["WMJD"]["escalated"].count, rows["WMJD"]["closed"].count) == (1, 1)
    assert (rows["XBTZ"]["total"].count, rows["XBTZ"]["overdue"].count) == (1, 0)
    assert [(f.label, f.count) for f in response.context["top_units"]] == [("潞州区应急管理局", 1)]
    overdue, escalated = response.context["panels"]
    assert [r.case.title for r in overdue["rows"]] == ["燃气管老化"]
    assert [r.case.title for r in escalated["rows"]] == ["燃气管老化"]
    points = {p["label"]: (p["created"], p["closed"]) for p in response.context["trend"]["points"]}
    assert len(points) == 90 and response.context["trend"]["weekly"] is False
    assert points["11-02"] == (2, 0) and points["11-03"] == (1, 1) and points["11-06"] == (1, 0)
    assert sum(c for c, _ in points.values()) == 6
    body = response.content.decode()
    assert 'id="trend-data"' in body and 'id="map-data"' in body and "vendor/echarts.min.js" in body


def test_each_person_counts_only_what_they_may_see(client, world, cases, now):
    assert figures(page(client, world.dispatcher))["案件总数"] == 5  # not 白兔村
    assert figures(page(client, world.inspector))["案件总数"] == 6
    divisions = page(client, world.dispatcher).context["divisions"]
    assert [d["division"].code for d in divisions] == ["WMJD-HX"]  # the dispatcher's street's communities


def test_periods(client, world, cases, now):
    assert figures(page(client, world.leader, "?period=all"))["案件总数"] == 7
    assert figures(page(client, world.leader, "?period=365"))["案件总数"] == 7
    assert figures(page(client, world.leader, "?period=30"))["案件总数"] == 6
    weekly = page(client, world.leader, "?period=365").context["trend"]
    assert weekly["weekly"] is True and sum(p["created"] for p in weekly["points"]) == 7
    assert weekly["points"][0]["first"] == "2025-11-21"
    everything = page(client, world.leader, "?period=all").context
    assert everything["trend"]["points"][0]["first"] == "2026-06-01"
    assert "created_from" not in everything["figures"][0].url
    assert page(client, world.leader, "?period=bogus").context["scope"].period == "90"


def test_drill_down_into_a_street(client, world, cases, now):
    response = page(client, world.leader, "?division=WMJD")
    assert figures(response)["案件总数"] == 5
    assert [node.code for node, _ in response.context["breadcrumb"]] == ["LZQ", "WMJD"]
    assert [d["division"].code for d in response.context["divisions"]] == ["WMJD-HX"]
    assert all("division=WMJD" in f.url for f in response.context["figures"])
    drill = {d["division"].code: d["drill"] for d in page(client, world.leader).context["divisions"]}
    assert drill["XBTZ"] == "/dashboard/?period=90&division=XBTZ"
    client.force_login(world.dispatcher)
    assert client.get("/dashboard/?division=XBTZ").status_code == 404  # outside the dispatcher's street
    assert client.get("/dashboard/?division=NOPE").status_code == 404


def all_figures(context) -> list:
    """(count, url) of every linked number on the page."""
    out = [(f.count, f.url) for f in context["figures"]]
    for m in context["mechanisms"]:
        out += [(f.count, f.url) for f in [m.total, *m.states, *m.grades]]
    for d in context["divisions"]:
        out += [(d[k].count, d[k].url) for k in ("total", "overdue", "escalated", "closed")]
    out += [(f.count, f.url) for f in context["top_units"]]
    out += [(p["figure"].count, p["figure"].url) for p in context["panels"]]
    for p in context["trend"]["points"]:
        if p["created"] or p["closed"]:
            out += [(p["created"], p["created_url"]), (p["closed"], p["closed_url"])]
    out += [(h["demands"].count, h["demands"].url) for h in context["hot_spots"]]
    for k in context["kpis"]:
        out.append((k["total"].count, k["total"].url))
        out += [(r["cases"].count, r["cases"].url) for r in k["rows"] if r["cases"].url]
    return out


@pytest.mark.parametrize(
    "persona, query",
    [
        ("leader", ""),
        ("leader", "?period=all"),
        ("leader", "?period=365&division=WMJD"),
        ("dispatcher", ""),
        ("inspector", "?period=30"),
    ],
)
def test_every_number_links_to_exactly_the_cases_counted(client, world, cases, now, persona, query):
    context = page(client, getattr(world, persona), query).context
    checked = all_figures(context)
    assert len(checked) > 30
    for count, url in checked:
        response = client.get(url)
        assert response.status_code == 200, url
        assert response.context["page"].paginator.count == count, url


def test_links_name_the_list_filters(client, world, cases, now):
    context = page(client, world.leader).context
    by_label = {f.label: f.url for f in context["figures"]}
    assert by_label["超期"] == "/cases/?division=LZQ&created_from=2026-08-23&overdue=1"
    assert by_label["督办中"].endswith("&escalated=1")
    assert listed(client, by_label["督办中"]) == {cases["E"].number}
    closed = next(p for p in context["trend"]["points"] if p["label"] == "11-03")["closed_url"]
    assert closed == "/cases/?division=LZQ&closed_from=2026-11-03&closed_to=2026-11-03"
    assert listed(client, closed) == {cases["D"].number}


def test_kpi_table_and_its_export(client, world, cases, now):
    context = page(client, world.leader).context
    [table] = context["kpis"]  # the 12345 loop has 考核 rules, the hazard loop none
    assert table["code"] == "demand" and table["total"].count == 1
    [row] = table["rows"]
    assert row["name"] == "潞州区应急管理局" and row["cases"].count == 1
    assert row["rates"][0] == "100.0%"  # signed within 24 h
    assert "from=2026-08-23" in table["export_url"] and "division=LZQ" in table["export_url"]
    export = client.get(table["export_url"])
    assert export.status_code == 200
    sheet = load_workbook(io.BytesIO(export.content)).active
    assert any("潞州区应急管理局" in str(c.value) for row in sheet.iter_rows() for c in row)


def test_hazard_only_scope_shows_no_kpi(client, world, now):
    with time_machine.travel(at(2026, 11, 2, 9), tick=False):
        report(world)
    assert page(client, world.leader).context["kpis"] == []


NOISE = [
    ("金桂苑小区工地夜间施工噪音扰民", "金桂苑小区北侧工地每天夜里施工到凌晨，噪音很大，无法入睡。"),
    ("金桂苑小区旁工地夜里施工太吵", "金桂苑小区旁边的工地夜间施工，电钻噪音扰民。"),
    ("投诉金桂苑小区附近夜间施工噪音", "晚上十一点以后金桂苑小区附近工地还在施工，噪音严重。"),
]


def file_noise(world) -> None:
    """Three demands about the same noise at the same estate: one hot spot."""
    file_demands(world, NOISE, at(2026, 11, 16, 9))


def file_demands(world, texts: list[tuple[str, str]], moment) -> None:
    """12345 demands (title, text) filed by the dispatcher in the world's grid from `moment` on."""
    with time_machine.travel(moment, tick=True):
        for title, text in texts:
            do_create_case(
                world.dispatcher,
                CaseInput(
                    mechanism="demand",
                    title=title,
                    description=text,
                    division=world.grid.code,
                    category="complaint",
                    channel="hotline",
                ),
            )


@pytest.mark.parametrize("persona", ["leader", "dispatcher", "inspector"])
def test_hot_spots_link_to_their_demands(client, world, persona):
    file_noise(world)
    with time_machine.travel(NOW, tick=False):
        context = page(client, getattr(world, persona)).context
        [spot] = context["hot_spots"]
        assert spot["demands"].count == 3 and "金桂苑" in spot["name"]
        listed_cases = client.get(spot["demands"].url).context["page"].paginator
        assert listed_cases.count == 3
        assert {c.title for c in listed_cases.object_list} == {t for t, _ in NOISE}
        api = client.get("/api/v1/cases?" + spot["demands"].url.split("?", 1)[1]).json()
        assert len(api["items"]) == 3  # the API shares the filter
        assert "热点" in client.get("/dashboard/").content.decode()
        client.force_login(world.outsider)  # another street's grid worker sees none of them
        assert client.get(spot["demands"].url).context["page"].paginator.count == 0


def test_hot_spots_follow_the_drill_down(client, world):
    file_noise(world)
    with time_machine.travel(NOW, tick=False):
        street = world.grid.parent.code
        [spot] = page(client, world.leader, f"?division={street}").context["hot_spots"]
        assert spot["demands"].count == 3 and f"division={street}" in spot["demands"].url
        assert client.get(spot["demands"].url).context["page"].paginator.count == 3
        assert "/XBTZ/" not in world.grid.path  # another street of the district
        assert page(client, world.leader, "?division=XBTZ").context["hot_spots"] == []


# -- the map -----------------------------------------------------------------------------------------


def test_map_points_are_the_open_cases_with_coordinates(client, world, cases, now):
    data = page(client, world.leader).context["map"]
    assert data["tiles"] == "" and data["crs"] == "wgs84"
    points = {p["number"]: p for p in data["points"]}
    assert set(points) == {cases["A"].number, cases["C"].number}
    a = points[cases["A"].number]
    assert (a["lat"], a["lon"]) == (36.168, 113.137) and a["grade"] == "一般隐患"
    assert points[cases["C"].number]["colour"] != a["colour"]
    assert a["url"] == f"/cases/{cases['A'].number}/"
    [legend] = data["legend"]  # only the hazard loop has open cases with coordinates
    assert legend["name"] == "安全隐患闭环"
    assert [item["name"] for item in legend["items"]] == ["一般隐患", "重大隐患"]
    assert a["mechanism"] == "hazard"
    assert data["outlines"] == "/dashboard/outlines.geojson?division=LZQ"


def test_gcj02_basemap_shifts_points(client, world, cases, now, settings):
    settings.TAIZHANG_MAP_CRS = "gcj02"
    settings.TAIZHANG_MAP_TILES = "https://tiles.example.cn/{z}/{x}/{y}.png"
    settings.TAIZHANG_MAP_ATTRIBUTION = "© 示例地图"
    data = page(client, world.leader).context["map"]
    a = next(p for p in data["points"] if p["number"] == cases["A"].number)
    assert a["lat"] == pytest.approx(36.168137, abs=1e-5) and a["lon"] == pytest.approx(113.143639, abs=1e-5)
    assert data["tiles"].startswith("https://") and data["attribution"] == "© 示例地图"
    outline = client.get("/dashboard/outlines.geojson").json()
    wmjd = next(f for f in outline["features"] if f["properties"]["code"] == "WMJD")
    first = wmjd["geometry"]["coordinates"][0][0]
    settings.TAIZHANG_MAP_CRS = "wgs84"
    plain = client.get("/dashboard/outlines.geojson").json()
    raw = next(f for f in plain["features"] if f["properties"]["code"] == "WMJD")["geometry"]["coordinates"][
        0
    ][0]
    assert first[0] - raw[0] == pytest.approx(0.0066, abs=0.001)  # ~600 m east, as GCJ-02 is here


def test_outlines_of_the_division_and_its_children(client, world, now):
    client.force_login(world.leader)
    response = client.get("/dashboard/outlines.geojson")
    assert response["Content-Type"] == "application/geo+json"
    doc = response.json()
    assert doc["type"] == "FeatureCollection"
    features = {f["properties"]["code"]: f for f in doc["features"]}
    assert set(features) == {"LZQ", "WMJD", "XBTZ"}  # the demo's shapes, matched by code
    assert features["LZQ"]["properties"]["current"] is True
    assert features["WMJD"]["properties"]["current"] is False
    assert features["WMJD"]["geometry"]["type"] == "Polygon"
    # An outline set in the admin wins over the demo's.
    world.street.geometry = {
        "type": "Polygon",
        "coordinates": [[[113.1, 36.1], [113.2, 36.1], [113.2, 36.2], [113.1, 36.1]]],
    }
    world.street.save()
    doc = client.get("/dashboard/outlines.geojson?division=WMJD").json()
    assert [f["properties"]["code"] for f in doc["features"]] == ["WMJD"]  # its community has no outline
    assert doc["features"][0]["geometry"]["coordinates"][0][1] == [113.2, 36.1]
    client.force_login(world.dispatcher)
    assert client.get("/dashboard/outlines.geojson?division=XBTZ").status_code == 404


# -- the list's new filters (shared with the API) ----------------------------------------------------


def test_escalated_and_closed_date_filters_in_list_and_api(client, world, cases, now):
    client.force_login(world.leader)
    assert listed(client, "/cases/?escalated=1") == {cases["E"].number}
    assert cases["E"].number not in listed(client, "/cases/?escalated=0")
    assert listed(client, "/cases/?closed_from=2026-11-01&closed_to=2026-11-30") == {cases["D"].number}
    assert listed(client, "/cases/?closed_from=2026-11-04") == set()
    bad = client.get("/cases/?closed_from=2026-11-05&closed_to=2026-11-01")
    assert bad.status_code == 400 and 'data-field="closed_from"' in bad.content.decode()
    api = client.get("/api/v1/cases?escalated=true").json()
    assert [c["number"] for c in api["items"]] == [cases["E"].number]
    api = client.get("/api/v1/cases?closed_from=2026-11-03&closed_to=2026-11-03").json()
    assert [c["number"] for c in api["items"]] == [cases["D"].number]


# -- speed -------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_query_count_on_the_demo_district(client, settings, django_assert_max_num_queries):
    from taizhang.clock.clock import reset_clock
    from taizhang.demo.build import build_demo

    settings.TAIZHANG_CALENDAR_UNKNOWN_YEAR = "weekends"
    reset_clock()
    build_demo(end=NOW)
    assert Case.objects.count() >= 300
    with time_machine.travel(NOW, tick=False):
        for username in ("lingdao_lzq", "paiqian_wmjd", "jiwei_lzq", "shouli_lzq"):
            client.force_login(User.objects.get(username=username))
            for url in ("/dashboard/", "/dashboard/?period=all", "/dashboard/?division=WMJD"):
                with django_assert_max_num_queries(30):
                    response = client.get(url)
                assert response.status_code == 200, (username, url)
            with django_assert_max_num_queries(10):
                assert client.get("/dashboard/outlines.geojson").status_code == 200
        client.force_login(User.objects.get(username="lingdao_lzq"))
        context = client.get("/dashboard/").context
        assert context["map"]["points"] and context["trend"]["points"]
        for count, url in all_figures(context)[:12]:
            assert client.get(url).context["page"].paginator.count == count, url

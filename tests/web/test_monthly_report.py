"""The monthly report (月度报告): who may read it, every figure on a small world, the links behind the
numbers, the month's hot spots and weakest answers, the PDF and the workbook, the scheduler's command,
bad input and the query count.

The world's cases (now = 2026-11-20 10:00; the default month is 2026-10, the month before 2026-09):
P  五马 grid, 09-15, left 待立案                      received in September
Q  五马 grid, 09-16, 不予立案 the same day             received and closed (on time) in September
S  五马 grid, 09-20, 不予立案 on 10-09                 received in September, closed on time in October
A  五马 grid, 10-09, left 待立案                      received in October
B  五马 grid, 10-12, 不予立案 the same day             received and closed on time in October
L  五马 grid, 10-13, 超期 on 10-15, 不予立案 10-15     received and closed late in October
C  五马 grid, 10-14, 整改中 at 应急局, 超期 on 10-26   received in October, overdue now
X  白兔村 grid (outsider), 10-15, left 待立案          received in October, outside the dispatcher's street
F  12345 demand, 五马 grid, 10-16, 派单 to 应急局 and answered (a perfunctory answer)
N  五马 grid, 11-02, left 待立案                      received in November (outside the month)
"""

from __future__ import annotations

import io

import pytest
import time_machine
from django.core.management import call_command
from django.core.management.base import CommandError
from openpyxl import load_workbook

from taizhang.cases.create import CaseInput, do_create_case
from taizhang.cases.models import Case
from taizhang.cases.timers import do_fire_timers
from taizhang.org.models import Membership, User
from tests.cases.helpers import act, at, report, to_rectifying

NOW = at(2026, 11, 20, 10)
PERSONAS_ALLOWED = ["leader", "dispatcher", "inspector"]
PERSONAS_REFUSED = ["grid_worker", "handler", "verifier", "resident", "outsider", "enterprise_officer"]
FORWARD = "网友您好！您的留言已收悉，已转相关单位调查处理，如有相关情况将及时反馈。感谢您的留言！"
NOISE = [
    ("金桂苑小区工地夜间施工噪音扰民", "金桂苑小区北侧工地每天夜里施工到凌晨，噪音很大，无法入睡。"),
    ("金桂苑小区旁工地夜里施工太吵", "金桂苑小区旁边的工地夜间施工，电钻噪音扰民。"),
    ("投诉金桂苑小区附近夜间施工噪音", "晚上十一点以后金桂苑小区附近工地还在施工，噪音严重。"),
    ("金桂苑小区工地半夜施工噪音太大", "金桂苑小区工地半夜还在打桩施工，噪音扰民严重。"),
    ("金桂苑小区附近工地夜间施工扰民", "金桂苑小区附近的工地夜里施工，吵得睡不着。"),
]


def demand(world, title: str, description: str = "", division=None, user=None):
    case, _ = do_create_case(
        user or world.dispatcher,
        CaseInput(
            mechanism="demand",
            title=title,
            description=description,
            division=(division or world.grid).code,
            category="complaint",
            grade="general",
            channel="hotline",
        ),
    )
    return case


@pytest.fixture
def cases(world):
    built = {}
    with time_machine.travel(at(2026, 9, 15, 9), tick=False) as clock:
        built["P"] = report(world, title="九月隐患")
        clock.move_to(at(2026, 9, 16, 9))
        built["Q"] = report(world, title="九月已处理")
        clock.move_to(at(2026, 9, 16, 10))
        act(world.dispatcher, built["Q"], "reject", opinion="已自行清理")
        clock.move_to(at(2026, 9, 20, 9))
        built["S"] = report(world, title="跨月办结")
        clock.move_to(at(2026, 10, 9, 9))
        act(world.dispatcher, built["S"], "reject", opinion="已自行清理")
        built["A"] = report(world, title="消防通道堵塞")
        clock.move_to(at(2026, 10, 12, 9))
        built["B"] = report(world, title="楼道杂物")
        clock.move_to(at(2026, 10, 12, 10))
        act(world.dispatcher, built["B"], "reject", opinion="已自行清理")
        clock.move_to(at(2026, 10, 13, 9))
        built["L"] = report(world, title="迟办隐患")
        clock.move_to(at(2026, 10, 15, 9))
        assert do_fire_timers(built["L"].pk, at(2026, 10, 15, 9)) >= 1  # 超期
        act(world.dispatcher, Case.objects.get(pk=built["L"].pk), "reject", opinion="核实无隐患")
        clock.move_to(at(2026, 10, 14, 9))
        built["C"] = to_rectifying(world, report(world, title="燃气管老化"))
        clock.move_to(at(2026, 10, 15, 9))
        built["X"] = report(
            world, world.outsider, title="白兔村油库隐患", grade="major", division=world.other_grid.code
        )
        clock.move_to(at(2026, 10, 16, 9))
        built["F"] = demand(world, "小区路灯不亮", "和心社区3号楼门前路灯坏了一周，晚上看不见路。")
        act(world.dispatcher, built["F"], "dispatch", params={"unit": world.safety_bureau.code})
        clock.move_to(at(2026, 10, 16, 10))
        act(world.handler, built["F"], "sign")
        clock.move_to(at(2026, 10, 17, 10))
        act(world.handler, built["F"], "reply", fields={"reply": FORWARD}, opinion="已答复")
        clock.move_to(at(2026, 10, 26, 9))
        assert do_fire_timers(built["C"].pk, at(2026, 10, 26, 9)) >= 1  # 超期 (7 days from 10-14)
        clock.move_to(at(2026, 11, 2, 9))
        built["N"] = report(world, title="十一月隐患")
    return {key: Case.objects.get(pk=c.pk) for key, c in built.items()}


@pytest.fixture
def now():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def get(client, user, url="/reports/monthly/", status=200):
    client.force_login(user)
    response = client.get(url)
    assert response.status_code == status, response.content.decode()[:500]
    return response


def headline(context) -> dict[str, tuple]:
    """label -> (this month, the month before); rates as their text."""
    out = {}
    for item in context["headline"]:
        if hasattr(item, "text"):
            out[item.label] = (item.text, item.before_text)
        else:
            out[item.label] = (item.current.count, item.before.count)
    return out


def listed(client, url: str) -> set[str]:
    response = client.get(url)
    assert response.status_code == 200, url
    return {c.number for c in response.context["page"].paginator.object_list}


def linked_numbers(context) -> list[tuple[int, str]]:
    """(count, url) of every linked number in the report."""
    out = []
    items = list(context["headline"])
    for m in context["mechanisms"]:
        items += m["figures"]
    for item in items:
        if hasattr(item, "current") and hasattr(item.current, "url"):
            out += [(f.count, f.url) for f in (item.current, item.before) if f.url]
    for row in context["divisions"] + context["units"]:
        out += [(row[k].count, row[k].url) for k in ("received", "closed", "overdue")]
    for p in context["points"]:
        if p["received"] or p["closed"]:
            out += [(p["received"], p["received_url"]), (p["closed"], p["closed_url"])]
    for k in context["kpis"]:
        out.append((k["total"].count, k["total"].url))
        out += [(r["cases"].count, r["cases"].url) for r in k["rows"] if r["cases"].url]
    out += [(h["demands"].count, h["demands"].url) for h in context["hot_spots"]]
    return out


# -- who may read it ---------------------------------------------------------------------------------

URLS = ("/reports/monthly/", "/reports/monthly.pdf", "/reports/monthly.xlsx")


def test_anonymous_is_sent_to_login(client, db):
    for url in URLS:
        assert client.get(url)["Location"].startswith("/login/")


@pytest.mark.parametrize("persona", PERSONAS_ALLOWED)
def test_leaders_dispatchers_and_inspectors_may_read_it(client, world, persona, now):
    response = get(client, getattr(world, persona))
    body = response.content.decode()
    assert "月度报告" in body and "2026年10月" in body
    assert response.context["nav_active"] == "monthly"
    assert any(item.key == "monthly" and item.url == "/reports/monthly/" for item in response.context["nav"])
    assert get(client, getattr(world, persona), "/reports/monthly.xlsx").status_code == 200


def test_intake_staff_and_administrators_may_read_it(client, world, now):
    intake = User.objects.create_user("shouli", password="pw")
    Membership.objects.create(user=intake, role="intake", division=world.district)
    context = get(client, intake).context
    assert context["replies"] is None  # 受理员 may not read answer scores
    admin = User.objects.create_superuser("root", password="pw")
    context = get(client, admin).context
    assert context["scope"].division is None and context["area"] == "全部区划"
    assert context["replies"] is not None


@pytest.mark.parametrize("persona", PERSONAS_REFUSED)
def test_other_roles_are_refused(client, world, persona, now):
    client.force_login(getattr(world, persona))
    for url in URLS:
        response = client.get(url)
        assert response.status_code == 403, url
        assert "驾驶舱仅供" in response.content.decode() and 'role="alert"' in response.content.decode()
    assert all(item.key != "monthly" for item in response.context["nav"])


def test_the_dashboard_links_to_the_report(client, world, now):
    body = get(client, world.leader, "/dashboard/").content.decode()
    assert 'id="monthly-link" href="/reports/monthly/"' in body
    body = get(client, world.leader, "/dashboard/?division=WMJD").content.decode()
    assert 'href="/reports/monthly/?division=WMJD"' in body


# -- the figures -------------------------------------------------------------------------------------


def test_figures_on_the_small_world(client, world, cases, now):
    context = get(client, world.leader).context
    assert context["month"].code == "2026-10"  # the month before now, in Beijing time
    assert headline(context) == {
        "受理": (6, 3),  # A B L C X F; P Q S
        "办结": (3, 1),  # S B L; Q
        "按期办结": (2, 1),  # L went overdue first
        "超期未办结": (1, 0),  # C
        "按期办结率": ("66.7%", "100.0%"),
    }
    received, closed, on_time, overdue, rate = context["headline"]
    assert (received.delta_text, closed.tone, overdue.tone, rate.delta_text, rate.tone) == (
        "+3",
        "good",
        "bad",
        "−33.3",
        "bad",
    )
    mechs = {m["code"]: {i.label: i.current for i in m["figures"]} for m in context["mechanisms"]}
    assert mechs["hazard"]["受理"].count == 5 and mechs["demand"]["受理"].count == 1
    assert mechs["hazard"]["办结"].count == 3 and mechs["hazard"]["按期办结率"] == pytest.approx(2 / 3)
    rows = {d["division"].code: d for d in context["divisions"]}
    assert set(rows) == {"WMJD", "XBTZ"}
    assert (rows["WMJD"]["received"].count, rows["WMJD"]["closed"].count) == (5, 3)
    assert (rows["WMJD"]["overdue"].count, rows["WMJD"]["rate"]) == (1, "66.7%")
    assert (rows["XBTZ"]["received"].count, rows["XBTZ"]["rate"]) == (1, "—")
    [unit] = context["units"]
    assert (unit["name"], unit["received"].count, unit["overdue"].count) == ("潞州区应急管理局", 2, 1)
    points = {p["day"].isoformat(): (p["received"], p["closed"]) for p in context["points"]}
    assert len(points) == 31 and points["2026-10-12"] == (1, 1) and points["2026-10-09"] == (1, 1)
    assert sum(r for r, _ in points.values()) == 6 and sum(c for _, c in points.values()) == 3
    assert "<svg" in str(context["chart"]) and "10-12 受理 1" in str(context["chart"])
    [kpi] = context["kpis"]  # the 12345 loop has 考核 rules
    assert (
        kpi["code"] == "demand" and kpi["total"].count == 1 and kpi["rows"][0]["name"] == "潞州区应急管理局"
    )
    assert "from=2026-10-01" in kpi["export_url"] and "to=2026-11-01" in kpi["export_url"]


def test_each_person_counts_only_what_they_may_see(client, world, cases, now):
    context = get(client, world.dispatcher).context
    assert headline(context)["受理"] == (5, 3)  # not 白兔村
    assert [d["division"].code for d in context["divisions"]] == ["WMJD-HX"]
    assert headline(get(client, world.inspector).context)["受理"] == (6, 3)


def test_other_months_and_a_division(client, world, cases, now):
    september = get(client, world.leader, "/reports/monthly/?month=2026-09").context
    assert headline(september)["受理"] == (3, 0) and headline(september)["办结"] == (1, 0)
    assert september["next_url"] == "/reports/monthly/?month=2026-10"
    november = get(client, world.leader, "/reports/monthly/?month=2026-11").context
    assert november["scope"].partial and november["next_url"] == ""  # up to now
    assert headline(november)["受理"] == (1, 6) and len(november["points"]) == 30
    street = get(client, world.leader, "/reports/monthly/?month=2026-10&division=XBTZ").context
    assert headline(street)["受理"] == (1, 0) and street["area"] == "西白兔镇"
    assert [node.code for node, _ in street["breadcrumb"]] == ["LZQ", "XBTZ"]
    assert all("division=XBTZ" in url for _, url in linked_numbers(street))
    assert street["pdf_url"] == "/reports/monthly.pdf?month=2026-10&division=XBTZ"


@pytest.mark.parametrize(
    "persona, query",
    [("leader", ""), ("leader", "?month=2026-09"), ("leader", "?division=WMJD"), ("dispatcher", "")],
)
def test_every_linked_number_lists_exactly_the_cases_counted(client, world, cases, now, persona, query):
    context = get(client, getattr(world, persona), "/reports/monthly/" + query).context
    checked = linked_numbers(context)
    assert len(checked) > 20
    for count, url in checked:
        response = client.get(url)
        assert response.status_code == 200, url
        assert response.context["page"].paginator.count == count, url


def test_links_name_the_list_filters(client, world, cases, now):
    context = get(client, world.leader).context
    received, closed, _, overdue, _ = context["headline"]
    assert received.current.url == "/cases/?division=LZQ&created_from=2026-10-01&created_to=2026-10-31"
    assert received.before.url == "/cases/?division=LZQ&created_from=2026-09-01&created_to=2026-09-30"
    assert listed(client, closed.current.url) == {cases[k].number for k in "SBL"}
    assert overdue.current.url.endswith("&overdue=1")
    assert listed(client, overdue.current.url) == {cases["C"].number}


# -- hot spots and answers ---------------------------------------------------------------------------


@pytest.fixture
def noise(world):
    """The same complaint about 金桂苑 in September (1), October (3) and November (1)."""
    moments = [
        at(2026, 9, 28, 9),
        at(2026, 10, 20, 9),
        at(2026, 10, 22, 9),
        at(2026, 10, 24, 20),
        at(2026, 11, 5, 9),
    ]
    out = []
    for moment, (title, text) in zip(moments, NOISE, strict=True):
        with time_machine.travel(moment, tick=False):
            out.append(demand(world, title, text))
    return out


@pytest.mark.parametrize("persona", PERSONAS_ALLOWED)
def test_hot_spots_of_the_month_link_to_their_demands(client, world, noise, now, persona):
    context = get(client, getattr(world, persona)).context
    [spot] = context["hot_spots"]
    assert "金桂苑" in spot["name"] and spot["demands"].count == 3  # October's demands only
    assert spot["reporters"] >= 1 and spot["heat"] > 0 and spot["span_days"] == pytest.approx(4.5, abs=0.1)
    assert spot["first_at"] == noise[1].created_at and spot["last_at"] == noise[3].created_at
    url = spot["demands"].url
    assert f"hotspot={spot['id']}" in url and "created_from=2026-10-01" in url
    assert listed(client, url) == {c.number for c in noise[1:4]}
    body = client.get("/reports/monthly/").content.decode()
    assert f'href="{url.replace("&", "&amp;")}"' in body
    september = get(client, getattr(world, persona), "/reports/monthly/?month=2026-09").context
    assert september["hot_spots"] == []  # one demand in September is not a hot spot
    november = get(client, getattr(world, persona), "/reports/monthly/?month=2026-11").context
    assert november["hot_spots"] == []
    # The same hot spot on the dashboard counts all its demands.
    [dash] = get(client, getattr(world, persona), "/dashboard/").context["hot_spots"]
    assert dash["demands"].count == 5


def test_hot_spots_follow_the_division(client, world, noise, now):
    assert get(client, world.leader, "/reports/monthly/?division=XBTZ").context["hot_spots"] == []
    [spot] = get(client, world.leader, "/reports/monthly/?division=WMJD").context["hot_spots"]
    assert spot["demands"].count == 3 and "division=WMJD" in spot["demands"].url


LAMP = [
    ("幸福路路灯不亮晚上出行不便", "幸福路东段路灯坏了一周，晚上一片漆黑。"),
    ("幸福路东段路灯坏了没人修", "幸福路东段好几盏路灯不亮，行人摔倒。"),
]


def test_the_month_window_scan_is_exact_whatever_the_page(world, noise, monkeypatch, now):
    import taizhang.insight.hotspot_queries as queries
    from taizhang.web.monthly.scope import Month

    with time_machine.travel(at(2026, 10, 27, 9), tick=False):
        lamps = [demand(world, t, d) for t, d in LAMP]
    with time_machine.travel(at(2026, 10, 25, 9), tick=False):  # another street: the leader's only
        demand(world, *NOISE[0], division=world.other_grid, user=world.leader)
    october = Month(at(2026, 10, 1).date())
    window = (october.start, october.end)
    found = {}
    for persona in ("leader", "grid_worker", "dispatcher"):
        user = getattr(world, persona)
        found[persona] = [
            (v.id, v.count, v.heat, v.case_ids) for v in queries.top_hotspots(user, window=window)
        ]
    monkeypatch.setattr(queries, "PAGE", 1)
    for persona, expected in found.items():
        user = getattr(world, persona)
        assert [
            (v.id, v.count, v.heat, v.case_ids) for v in queries.top_hotspots(user, window=window)
        ] == expected
    assert sorted(count for _, count, _, _ in found["leader"]) == [2, 4]  # 幸福路 lamps, 金桂苑 noise
    assert sorted(count for _, count, _, _ in found["dispatcher"]) == [2, 3]  # not 西白兔镇's call
    lamp = next(v for v in found["leader"] if v[1] == 2)
    assert lamp[3] == [c.pk for c in lamps]
    [top] = queries.top_hotspots(world.leader, window=window, limit=1)
    assert (top.id, top.count) == found["leader"][0][:2] and top.count == 4  # more demands, more people


def test_weakest_answers_for_who_may_read_scores(client, world, cases, now):
    for persona in ("leader", "dispatcher", "inspector"):
        replies = get(client, getattr(world, persona)).context["replies"]
        assert replies["summary"]["answers"] == 1 and replies["summary"]["weak"] == 1
        [item] = replies["items"]
        assert item["number"] == cases["F"].number and item["url"] == f"/cases/{cases['F'].number}/"
        assert item["reasons"]
    assert get(client, world.leader, "/reports/monthly/?month=2026-09").context["replies"]["items"] == []
    assert get(client, world.leader, f"/reports/monthly/?division={world.grid.code}").context["replies"][
        "items"
    ]
    assert (
        get(client, world.leader, f"/reports/monthly/?division={world.other_grid.code}").context["replies"][
            "items"
        ]
        == []
    )  # the report's division
    body = client.get("/reports/monthly/").content.decode()
    assert 'id="weak-replies"' in body and cases["F"].number in body


# -- documents ---------------------------------------------------------------------------------------


def pango_missing() -> bool:
    try:
        import weasyprint  # noqa: F401
    except OSError:
        return True
    return False


@pytest.mark.skipif(pango_missing(), reason="the system's Pango is not installed")
def test_pdf_is_a_pdf_with_chinese_text(client, world, cases, now):
    response = get(client, world.leader, "/reports/monthly.pdf?month=2026-10")
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'inline; filename="monthly-2026-10-LZQ.pdf"'
    assert response.content.startswith(b"%PDF-")
    from tests.cases.test_notices import pdf_objects

    inflated = pdf_objects(response.content)
    assert b"NotoSansCJK" in inflated or b"NotoSerifCJK" in inflated
    assert b"http://testserver/cases/?division=LZQ" in inflated  # the numbers link to their lists


def test_pdf_without_pango_is_a_503_page(client, world, now, monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_pango(name, *args, **kwargs):
        if name == "weasyprint":
            raise OSError("cannot load library 'libpango-1.0-0'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_pango)
    response = get(client, world.leader, "/reports/monthly.pdf", status=503)
    body = response.content.decode()
    assert 'data-code="pdf_unavailable"' in body and "Pango" in body


def test_workbook_has_a_sheet_per_section(client, world, cases, noise, now):
    response = get(client, world.leader, "/reports/monthly.xlsx?month=2026-10")
    assert response["Content-Disposition"] == 'attachment; filename="monthly-2026-10-LZQ.xlsx"'
    wb = load_workbook(io.BytesIO(response.content))
    assert wb.sheetnames == ["概况", "按机制", "每日", "按区划", "按责任单位", "考核指标", "热点", "弱答复"]
    summary = {row[0]: row[1:] for row in wb["概况"].iter_rows(min_row=6, values_only=True)}
    assert summary["受理"] == (9, 4, 5)  # with the three October and one September noise demands
    assert summary["按期办结率"][0] == pytest.approx(2 / 3)
    assert wb["概况"]["B6"].hyperlink.target.startswith("http://testserver/cases/?division=LZQ")
    hot = list(wb["热点"].iter_rows(min_row=2, values_only=True))
    assert len(hot) == 1 and "金桂苑" in hot[0][0] and hot[0][2] == 3
    kpi = list(wb["考核指标"].iter_rows(min_row=2, values_only=True))
    assert [row[1] for row in kpi] == ["潞州区应急管理局", "未派单", "合计"] and kpi[-1][2] == 4
    assert kpi[0][3] == 1.0 and wb["考核指标"].cell(row=2, column=4).number_format == "0.0%"
    units = list(wb["按责任单位"].iter_rows(min_row=2, values_only=True))
    assert units[0][:3] == ("LZQ-YJJ", "潞州区应急管理局", 2)
    intake = User.objects.create_user("shouli", password="pw")
    Membership.objects.create(user=intake, role="intake", division=world.district)
    wb = load_workbook(io.BytesIO(get(client, intake, "/reports/monthly.xlsx").content))
    assert "弱答复" not in wb.sheetnames


def test_command_writes_the_file(world, cases, now, tmp_path):
    out = tmp_path / "october.xlsx"
    stdout = io.StringIO()
    call_command("report", "monthly", "--month", "2026-10", "--output", str(out), stdout=stdout)
    assert "2026年10月" in stdout.getvalue()
    wb = load_workbook(out)
    summary = {row[0]: row[1:] for row in wb["概况"].iter_rows(min_row=6, values_only=True)}
    assert summary["受理"][:2] == (6, 3) and "弱答复" in wb.sheetnames
    assert wb["概况"]["B6"].hyperlink is None  # no site address given
    street = tmp_path / "street.xlsx"
    call_command(
        "report", "monthly", "--month", "2026-10", "--division", "XBTZ", "--format", "xlsx",
        "--output", str(street), "--base-url", "https://tz.example.cn/", stdout=io.StringIO(),
    )  # fmt: skip
    wb = load_workbook(street)
    summary = {row[0]: row[1:] for row in wb["概况"].iter_rows(min_row=6, values_only=True)}
    assert summary["受理"][:2] == (1, 0)  # the division's subtree only
    assert wb["概况"]["B6"].hyperlink.target.startswith("https://tz.example.cn/cases/?division=XBTZ")
    assert wb["弱答复"].max_row == 1  # no answers in 西白兔镇
    call_command("report", "monthly", "--output", str(tmp_path / "default.xlsx"), stdout=io.StringIO())
    assert load_workbook(tmp_path / "default.xlsx")["概况"]["B1"].value == "全部区划 · 2026年10月"


@pytest.mark.skipif(pango_missing(), reason="the system's Pango is not installed")
def test_command_writes_a_pdf(world, now, tmp_path):
    out = tmp_path / "report.pdf"
    call_command("report", "monthly", "--month", "2026-10", "--output", str(out), stdout=io.StringIO())
    assert out.read_bytes().startswith(b"%PDF-")


@pytest.mark.parametrize(
    "args, message",
    [
        (["--month", "2026-13"], "01 到 12"),
        (["--month", "2026/10"], "YYYY-MM"),
        (["--month", "2027-01"], "尚未开始"),
        (["--division", "NOPE"], "NOPE"),
        (["--format", "xlsx", "--output", "/nonexistent/dir/x.xlsx"], "输出目录不存在"),
        (["--output", "report.docx"], "--format"),
    ],
)
def test_command_refuses_bad_input(world, now, tmp_path, args, message):
    if "--output" not in args:
        args = [*args, "--output", str(tmp_path / "x.xlsx")]
    with pytest.raises(CommandError, match=message):
        call_command("report", "monthly", *args, stdout=io.StringIO())


# -- bad input on the page ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "query, message",
    [
        ("?month=2026-13", "月份应在 01 到 12 之间"),
        ("?month=10-2026", "月份格式应为 YYYY-MM"),
        ("?month=2026-12", "尚未开始"),
        ("?month=1999-12", "不能早于 2000 年"),
        ("?division=NOPE", "找不到编码为 NOPE 的区划"),
    ],
)
def test_bad_month_or_division_is_a_400_in_chinese(client, world, now, query, message):
    for url in URLS:
        response = get(client, world.leader, url + query, status=400)
        body = response.content.decode()
        assert message in body and 'role="alert"' in body, url


def test_a_division_outside_the_persons_area_is_refused(client, world, now):
    response = get(client, world.dispatcher, "/reports/monthly/?division=XBTZ", status=400)
    assert "不在您的范围内" in response.content.decode()


# -- speed -------------------------------------------------------------------------------------------


def test_query_count_does_not_grow_with_the_cases(
    client, world, cases, noise, now, django_assert_max_num_queries
):
    client.force_login(world.leader)
    with django_assert_max_num_queries(30):
        assert client.get("/reports/monthly/").status_code == 200
    with time_machine.travel(at(2026, 10, 21, 9), tick=False):
        for i in range(15):
            if i % 2:
                report(world, title=f"新增隐患{i}")
            else:
                report(world, world.outsider, title=f"新增隐患{i}", division=world.other_grid.code)
        to_rectifying(world, report(world, title="再交办"))
    with django_assert_max_num_queries(30):
        response = client.get("/reports/monthly/")
    assert headline(response.context)["受理"][0] == 6 + 3 + 16

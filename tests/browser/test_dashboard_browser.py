"""The dashboard and a mechanism diagram in a real browser: the ECharts canvas and the Leaflet map with
the division outlines render, a number opens the list with that many cases, drill-down works."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone
from playwright.sync_api import expect

from taizhang.cases.timers import do_fire_timers
from taizhang.clock.clock import reset_clock
from taizhang.mechanisms.registry import get_mechanism
from tests.cases.helpers import act, report, to_rectifying


@pytest.fixture
def district(world, settings):
    """A handful of cases of the last weeks; one 整改 is overdue and escalated by now."""
    settings.TAIZHANG_CALENDAR_UNKNOWN_YEAR = "weekends"  # whatever year the test runs in
    reset_clock()
    now = timezone.now()
    with time_machine.travel(now - timedelta(days=20), tick=False) as clock:
        late = to_rectifying(world, report(world, title="燃气管老化", lat="36.1690", lon="113.1380"))
        clock.move_to(now - timedelta(days=10))
        report(world, title="消防通道堵塞", lat="36.1670", lon="113.1350")
        report(world, title="配电箱破损", grade="larger", lat="36.1660", lon="113.1360")
        report(
            world,
            world.outsider,
            title="白兔村油库隐患",
            grade="major",
            division=world.other_grid.code,
            lat="36.1180",
            lon="113.0460",
        )
        rejected = report(world, title="楼道杂物")
        act(world.dispatcher, rejected, "reject", opinion="已自行清理")
    assert do_fire_timers(late.pk, now) >= 2
    return world


def test_leader_dashboard_charts_map_and_links(district, live_server, login, new_page, screenshot):
    page = login(new_page(), district.leader)
    page.get_by_role("link", name="驾驶舱").click()
    expect(page).to_have_url(re.compile(r"/dashboard/$"))
    expect(page.get_by_role("heading", name="驾驶舱", exact=True)).to_be_visible()
    expect(page.locator("#trend-chart canvas")).to_have_count(1)
    case_map = page.locator("#case-map")
    expect(case_map).to_have_attribute("data-outlines", "3")  # 潞州区 and its two streets
    expect(case_map).to_have_attribute("data-points", "4")  # the open cases with coordinates
    expect(case_map.locator("path.leaflet-interactive")).to_have_count(3 + 4)
    expect(case_map.locator(".leaflet-tile")).to_have_count(0)  # no tile URL: outlines only, offline
    total = page.locator("a.stat").first.locator(".n")
    expect(total).to_have_text("5")
    screenshot(page, "dashboard-leader")

    overdue = page.locator("a.stat", has_text="超期")
    expect(overdue.locator(".n")).to_have_text("1")
    overdue.click()
    expect(page).to_have_url(re.compile(r"/cases/\?.*overdue=1"))
    expect(page.get_by_text("共 1 件")).to_be_visible()
    expect(page.get_by_role("cell", name="燃气管老化")).to_be_visible()

    page.go_back()
    page.locator("#division-table").get_by_role("link", name="五马街道").click()
    expect(page).to_have_url(re.compile(r"division=WMJD"))
    expect(page.locator("nav.crumbs")).to_contain_text("潞州区")
    expect(page.locator("a.stat").first.locator(".n")).to_have_text("4")
    expect(page.locator("#case-map")).to_have_attribute("data-outlines", "1")  # its community has none
    closed = page.locator("#division-table tbody tr").first.locator("td").nth(3).get_by_role("link")
    expect(closed).to_have_text("1")
    closed.click()
    expect(page.get_by_text("共 1 件")).to_be_visible()
    expect(page.get_by_role("cell", name="楼道杂物")).to_be_visible()


def test_trend_point_opens_the_cases_of_that_day(district, live_server, login, new_page):
    page = login(new_page(), district.leader)
    page.goto(f"{live_server.url}/dashboard/")
    page.get_by_text("趋势数据表").click()
    row = page.locator("#trend-table tbody tr").filter(has=page.locator("td a", has_text=re.compile(r"^4$")))
    expect(row).to_have_count(1)  # four reports ten days ago
    row.locator("td a").first.click()
    expect(page).to_have_url(re.compile(r"created_from=.*created_to="))
    expect(page.get_by_text("共 4 件")).to_be_visible()


def test_dashboard_on_a_phone_and_refused_for_a_handler(district, live_server, login, new_page, screenshot):
    page = login(new_page(phone=True), district.dispatcher)
    page.goto(f"{live_server.url}/dashboard/")
    expect(page.locator("#trend-chart canvas")).to_have_count(1)
    expect(page.locator("#case-map")).to_have_attribute("data-outlines", "1")  # the dispatcher's street
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, width  # nothing overflows the phone's width
    screenshot(page, "dashboard-phone")
    handler = login(new_page(), district.handler)
    response = handler.goto(f"{live_server.url}/dashboard/")
    assert response.status == 403
    expect(handler.get_by_role("alert")).to_contain_text("驾驶舱仅供")
    expect(handler.get_by_role("link", name="驾驶舱")).to_have_count(0)


def test_mechanism_diagram(world, live_server, login, new_page, screenshot):
    page = login(new_page(), world.grid_worker)
    page.get_by_role("link", name="机制").click()
    expect(page).to_have_url(re.compile(r"/mechanisms/$"))
    page.get_by_role("link", name="安全隐患闭环", exact=True).click()
    expect(page).to_have_url(re.compile(r"/mechanisms/hazard/$"))
    svg = page.locator("svg.flow")
    expect(svg).to_be_visible()
    expect(svg.locator("g.node")).to_have_count(len(get_mechanism("hazard").states))
    expect(svg.locator("g.node[data-state=reported] text")).to_have_text("待立案")
    box = svg.locator("g.node[data-state=reported] rect").bounding_box()
    assert box and box["width"] > 60 and box["height"] > 30  # drawn, not collapsed
    expect(page.locator("#transitions tr[data-transition=sign]")).to_contain_text("处置人")
    screenshot(page, "mechanism-hazard")
    page.goto(f"{live_server.url}/mechanisms/demand/")
    expect(page.locator("svg.flow g.node")).to_have_count(len(get_mechanism("demand").states))
    screenshot(page, "mechanism-demand")

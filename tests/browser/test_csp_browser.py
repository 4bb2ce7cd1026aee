"""The Content-Security-Policy and the maps in a real browser: markup filed through the API and the portal is
shown as text on the case page's tooltip and the dashboard's popup and never runs; the policy refuses an
injected inline script, an inline handler and a javascript: link (eval is refused by the header's lack
of 'unsafe-eval', tests/security/test_xss_csp.py: code run through the browser's debugging protocol, as
here, is exempt from the policy's eval check); the dashboard, the case page, the admin and the API
docs run under it without a single violation."""

from __future__ import annotations

import json

import pytest
from django.test import Client
from playwright.sync_api import expect

from taizhang.cases.models import Case
from taizhang.org.models import User
from taizhang.web.api.auth import issue_token
from tests.cases.helpers import act
from tests.web.test_portal import demand_form

XSS_SCRIPT = "<script>window.__xss=1</script>"
XSS_IMG = "<img src=x onerror=window.__xss=1>"
# Every violation the page reports, from before its own scripts run (init scripts are not subject to it).
WATCH = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__violations.push(e.effectiveDirective + " " + e.blockedURI);
});
"""


@pytest.fixture(autouse=True)
def _known_calendar(settings):
    settings.TAIZHANG_CALENDAR_UNKNOWN_YEAR = "weekends"  # the live server runs at the real date


@pytest.fixture
def marked(world):
    """A hazard filed through the API and a demand through the portal, their text being markup."""
    api = Client(HTTP_AUTHORIZATION=f"Bearer {issue_token(world.grid_worker, '测试')}")
    body = {
        "mechanism": "hazard",
        "title": XSS_SCRIPT,
        "division": world.grid.code,
        "category": "fire",
        "grade": "general",
        "address": XSS_IMG,
        "lat": "36.1955",
        "lon": "113.1168",
    }
    response = api.post("/api/v1/cases", json.dumps(body), content_type="application/json")
    assert response.status_code == 201, response.content
    hazard = Case.objects.get(number=response.json()["number"])
    act(world.dispatcher, hazard, "register")
    portal = Client().post(
        "/portal/new/", demand_form(world, title=XSS_IMG, address="", lat="36.1201", lon="113.0502")
    )
    assert portal.status_code == 302, portal.content.decode()[:2000]
    demand = Case.objects.get(mechanism="demand")
    assert demand.title == XSS_IMG and demand.address == ""
    return hazard, demand


def watched(new_page):
    page = new_page()
    page.add_init_script(WATCH)
    console = []
    page.on("console", lambda m: console.append(m.text) if "Content Security Policy" in m.text else None)
    page.csp_console = console
    return page


def violations(page) -> list[str]:
    page.wait_for_timeout(300)  # violation events are queued
    return page.evaluate("window.__violations") + page.csp_console


def not_run(page) -> bool:
    page.wait_for_timeout(300)  # an <img onerror> fires once the image fails to load
    return page.evaluate("typeof window.__xss") == "undefined"


def test_markup_in_a_case_is_shown_as_text_on_the_maps(world, marked, live_server, login, new_page):
    hazard, demand = marked
    page = login(watched(new_page), world.leader)
    for case, label in ((hazard, XSS_IMG), (demand, XSS_IMG)):
        response = page.goto(f"{live_server.url}/cases/{case.number}/")
        assert "script-src 'self'" in response.headers["content-security-policy"]
        expect(page.locator("#case-page h1")).to_contain_text(case.title)
        page.locator("#case-map path.leaflet-interactive").hover()
        tooltip = page.locator(".leaflet-tooltip")
        expect(tooltip).to_have_text(label)
        assert tooltip.locator("img, script").count() == 0
        assert not_run(page)
        assert violations(page) == []

    page.goto(f"{live_server.url}/dashboard/")
    case_map = page.locator("#case-map")
    expect(case_map).to_have_attribute("data-points", "2")
    shown = set()
    for point in case_map.locator('path.leaflet-interactive[stroke="#fff"]').all():
        point.click(force=True)
        popup = page.locator(".leaflet-popup-content").last
        expect(popup).to_be_visible()
        assert popup.locator("img, script").count() == 0
        assert popup.get_by_role("link").count() == 1
        shown |= {title for title in (XSS_SCRIPT, XSS_IMG) if title in popup.inner_text()}
    assert shown == {XSS_SCRIPT, XSS_IMG}
    assert not_run(page)
    assert violations(page) == []


def test_the_policy_refuses_injected_script(world, live_server, new_page):
    page = watched(new_page)
    page.goto(f"{live_server.url}/portal/")
    page.evaluate(
        """() => {
      const s = document.createElement("script");
      s.textContent = "window.__injected = 'script'";
      document.body.appendChild(s);
      const b = document.createElement("button");
      b.setAttribute("onclick", "window.__injected = 'handler'");
      document.body.appendChild(b);
      b.click();
      const a = document.createElement("a");
      a.href = "javascript:window.__injected='url'";
      document.body.appendChild(a);
      a.click();
    }"""
    )
    page.wait_for_timeout(300)
    assert page.evaluate("typeof window.__injected") == "undefined"
    seen = violations(page)
    assert any(v.startswith("script-src-elem inline") for v in seen), seen
    assert any(v.startswith("script-src-attr inline") for v in seen), seen
    assert sum(v.startswith("script-src-elem inline") for v in seen) >= 2, seen  # the javascript: link


def test_dashboard_and_case_page_run_without_violations(world, marked, live_server, login, new_page):
    hazard, _ = marked
    page = login(watched(new_page), world.leader)
    page.goto(f"{live_server.url}/dashboard/")
    expect(page.locator("#trend-chart canvas")).to_have_count(1)
    page.locator("#trend-chart canvas").hover(position={"x": 200, "y": 100})  # the tooltip (markup + styles)
    expect(page.locator("#case-map")).to_have_attribute("data-points", "2")
    page.get_by_label("语言").select_option("en")  # the language switch, without its inline handler now
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.get_by_label("Language").select_option("zh-hans")
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    assert violations(page) == []

    page.goto(f"{live_server.url}/cases/{hazard.number}/")
    expect(page.locator("#case-map .leaflet-interactive")).to_have_count(1)
    details = page.locator("#details-assign")  # an action through htmx: swaps the page section
    details.locator("summary").click()
    page.locator("#action-assign button[type=submit]").first.click()
    expect(page.locator("#case-page [role=alert]").first).to_be_visible()
    assert violations(page) == []


def test_admin_and_api_docs_run_under_the_policy(world, live_server, login, new_page):
    User.objects.create_superuser("root", password="pw-root")
    page = watched(new_page)
    page.goto(f"{live_server.url}/admin/login/")
    page.locator("#id_username").fill("root")
    page.locator("#id_password").fill("pw-root")
    page.locator("input[type=submit]").click()
    page.goto(f"{live_server.url}/admin/org/membership/add/")
    expect(page.locator("#membership_form")).to_be_visible()
    page.goto(f"{live_server.url}/admin/org/user/{world.grid_worker.pk}/change/")
    expect(page.locator("#user_form")).to_be_visible()
    assert violations(page) == []

    page.goto(f"{live_server.url}/api/v1/docs")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("台账")
    expect(page.locator(".opblock").first).to_be_visible()
    assert violations(page) == []

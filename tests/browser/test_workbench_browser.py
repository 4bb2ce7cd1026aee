"""The 工作台 and the case list in a real browser: counts link to lists, filters land in the URL."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.cases.helpers import report


def test_workbench_counts_link_to_filtered_list(world, live_server, login, new_page, screenshot):
    report(world, title="消防通道被杂物堵塞")
    report(world, title="配电箱门锁损坏")
    page = login(new_page(), world.dispatcher)
    expect(page).to_have_url(re.compile(r"/workbench/$"))
    expect(page.get_by_role("heading", name="工作台", exact=True)).to_be_visible()
    todo = page.locator("a[data-section=todo]")
    expect(todo.locator(".n")).to_have_text("2")
    screenshot(page, "workbench-dispatcher")
    todo.click()
    expect(page).to_have_url(re.compile(r"/cases/\?view=todo"))
    expect(page.get_by_role("cell", name="消防通道被杂物堵塞")).to_be_visible()
    page.get_by_label("关键词").fill("配电箱")
    page.get_by_role("button", name="筛选").click()
    expect(page).to_have_url(re.compile(r"q=%E9%85%8D"))
    expect(page.get_by_role("cell", name="配电箱门锁损坏")).to_be_visible()
    expect(page.get_by_role("cell", name="消防通道被杂物堵塞")).to_have_count(0)
    screenshot(page, "case-list")
    with page.expect_download() as download:
        page.get_by_role("link", name="导出 Excel").click()
    assert download.value.suggested_filename.endswith(".xlsx")

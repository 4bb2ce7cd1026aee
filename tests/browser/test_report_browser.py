"""上报 on a phone in a real browser: photo, location, a draft that survives a reload and a lost
connection, and a send that files exactly one case even when a response is lost."""

from __future__ import annotations

import io
import re

from PIL import Image
from playwright.sync_api import expect

from taizhang.cases.models import Case

from .conftest import PHONE

POSITION = {"latitude": 36.195123, "longitude": 113.116456, "accuracy": 12}


def phone_context(browser, **kw):
    return browser.new_context(
        viewport=PHONE, is_mobile=True, has_touch=True, locale="zh-CN", timezone_id="Asia/Shanghai", **kw
    )


def photo_file(tmp_path, name="楼道.jpg"):
    path = tmp_path / name
    buf = io.BytesIO()
    Image.new("RGB", (2400, 1800), (180, 60, 40)).save(buf, "JPEG")  # shrunk to 1600 px in the browser
    path.write_bytes(buf.getvalue())
    return path


def fill_report(page, tmp_path):
    page.get_by_label("标题").fill("楼道堆放杂物堵塞消防通道")
    page.locator("#r-hazard-category").select_option("fire")
    page.get_by_label("情况描述").fill("一楼楼道堆满纸箱，影响通行")
    page.get_by_label("详细地址").fill("和心社区3号楼2单元")
    page.locator("#r-photos").set_input_files(str(photo_file(tmp_path)))
    expect(page.locator("#photo-list img")).to_have_count(1)


def test_draft_survives_reload_and_offline_then_sends_once(
    world, live_server, login, browser, screenshot, tmp_path
):
    context = phone_context(browser, permissions=["geolocation"], geolocation=POSITION)
    try:
        page = login(context.new_page(), world.grid_worker)
        page.goto(f"{live_server.url}/report/new/")
        expect(page.get_by_role("heading", name="上报案件")).to_be_visible()
        expect(page.locator("#r-mech-hazard")).to_be_checked()  # a grid worker's main mechanism first
        expect(page.locator("#r-division")).to_have_value(world.grid.code)  # their grid, preselected
        fill_report(page, tmp_path)
        page.get_by_role("button", name="获取当前位置").click()
        expect(page.locator("#r-lat")).to_have_value("36.195123")
        expect(page.locator("#r-lon")).to_have_value("113.116456")
        expect(page.locator("#geo-status")).to_contain_text("已获取当前位置")
        page.wait_for_timeout(400)  # the draft is saved 250 ms after the last change
        screenshot(page, "report-phone-filled")

        page.reload()
        expect(page.locator("#draft-notice")).to_be_visible()
        expect(page.locator("#draft-notice")).to_contain_text("已恢复")
        expect(page.locator("#draft-notice")).to_contain_text("含 1 张照片")
        expect(page.get_by_label("标题")).to_have_value("楼道堆放杂物堵塞消防通道")
        expect(page.locator("#r-hazard-category")).to_have_value("fire")
        expect(page.locator("#r-lat")).to_have_value("36.195123")
        expect(page.locator("#photo-list img")).to_have_count(1)
        screenshot(page, "report-phone-draft-restored")

        context.set_offline(True)
        page.get_by_role("button", name="提交上报").click()
        expect(page.locator("#send-status")).to_contain_text("网络连接中断，案件尚未提交")
        expect(page.get_by_label("标题")).to_have_value("楼道堆放杂物堵塞消防通道")
        screenshot(page, "report-phone-offline")
        assert Case.objects.count() == 0

        context.set_offline(False)
        page.reload()  # the draft, its photo and its idempotency key are still in the browser
        expect(page.locator("#draft-notice")).to_contain_text("已恢复")
        expect(page.locator("#photo-list img")).to_have_count(1)
        page.get_by_role("button", name="提交上报").click()
        result = page.locator("#report-result")
        expect(result).to_contain_text("上报成功")
        case = Case.objects.get()
        expect(result).to_contain_text(case.number)
        expect(page.get_by_role("link", name="查看案件")).to_have_attribute("href", f"/cases/{case.number}/")
        screenshot(page, "report-phone-sent")
        assert (case.title, case.division, case.channel, str(case.lat)) == (
            "楼道堆放杂物堵塞消防通道",
            world.grid,
            "grid",
            "36.195123",
        )
        photos = list(case.transitions.get().attachments.all())
        assert len(photos) == 1 and photos[0].content_type == "image/jpeg"
        with photos[0].file.open("rb") as f:
            assert max(Image.open(f).size) == 1600

        page.goto(f"{live_server.url}/report/new/")  # the draft was deleted after the send
        page.wait_for_selector("form[data-draft-ready]")
        expect(page.locator("#draft-notice")).to_be_hidden()
        expect(page.get_by_label("标题")).to_have_value("")
    finally:
        context.close()


def test_a_lost_response_is_resent_without_a_second_case(world, live_server, login, browser, tmp_path):
    context = phone_context(browser)
    try:
        page = login(context.new_page(), world.grid_worker)
        page.goto(f"{live_server.url}/report/new/")
        fill_report(page, tmp_path)

        def lose_response(route):
            if route.request.method == "POST":
                route.fetch()  # the server files the case …
                route.abort("connectionreset")  # … and the answer never reaches the phone
            else:
                route.continue_()

        page.route(re.compile(r".*/report/new/$"), lose_response)
        page.get_by_role("button", name="提交上报").click()
        expect(page.locator("#send-status")).to_contain_text("网络连接中断")
        assert Case.objects.count() == 1
        page.unroute(re.compile(r".*/report/new/$"))
        page.get_by_role("button", name="提交上报").click()
        expect(page.locator("#report-result")).to_contain_text("此前已提交成功")
        expect(page.locator("#report-result")).to_contain_text(Case.objects.get().number)
        assert Case.objects.count() == 1
    finally:
        context.close()


def test_errors_in_place_and_geolocation_refused(world, live_server, login, browser, screenshot):
    context = phone_context(browser)  # no geolocation permission
    try:
        page = login(context.new_page(), world.grid_worker)
        page.goto(f"{live_server.url}/report/new/")
        page.get_by_label("详细地址").fill("和心社区5号楼")
        page.get_by_role("button", name="获取当前位置").click()
        expect(page.locator("#geo-status")).to_contain_text("未获得定位权限")
        page.get_by_role("button", name="提交上报").click()
        expect(page.locator("#r-title-error")).to_contain_text("请填写标题")
        expect(page.locator("#r-hazard-category-error")).to_contain_text("请选择类别")
        expect(page.get_by_label("标题")).to_have_attribute("aria-invalid", "true")
        expect(page.get_by_label("详细地址")).to_have_value("和心社区5号楼")
        screenshot(page, "report-phone-errors")
        # the draft is still there and the form still works after the swap
        page.get_by_label("标题").fill("消防栓被圈占")
        page.locator("#r-hazard-category").select_option("fire")
        page.get_by_role("button", name="提交上报").click()
        expect(page.locator("#report-result")).to_contain_text("上报成功")
        assert Case.objects.get().address == "和心社区5号楼"
    finally:
        context.close()


def test_switching_mechanism_and_clearing_the_draft(world, live_server, login, browser):
    context = phone_context(browser)
    try:
        page = login(context.new_page(), world.dispatcher)
        page.goto(f"{live_server.url}/report/new/")
        expect(page.locator("#r-demand-category")).to_be_visible()
        expect(page.locator("#r-hazard-category")).to_be_hidden()
        page.locator("label[for=r-mech-hazard]").click()
        expect(page.locator("#r-hazard-category")).to_be_visible()
        expect(page.locator("#r-demand-category")).to_be_hidden()
        page.get_by_label("标题").fill("临时草稿")
        page.wait_for_timeout(400)
        page.reload()
        expect(page.locator("#r-hazard-category")).to_be_visible()  # the chosen mechanism comes back too
        key = page.locator("#r-key").input_value()
        page.get_by_role("button", name="清除草稿").click()
        expect(page.locator("#send-status")).to_contain_text("草稿已清除")
        expect(page.get_by_label("标题")).to_have_value("")
        assert page.locator("#r-key").input_value() != key
        page.reload()
        page.wait_for_selector("form[data-draft-ready]")
        expect(page.locator("#draft-notice")).to_be_hidden()
    finally:
        context.close()


def test_signing_out_on_a_shared_phone_takes_the_drafts_along(world, live_server, login, browser, tmp_path):
    context = phone_context(browser)
    try:
        page = login(context.new_page(), world.grid_worker)
        page.goto(f"{live_server.url}/report/new/")
        fill_report(page, tmp_path)
        page.wait_for_timeout(400)  # saved
        asked = []

        def say_no_then_yes(dialog):
            asked.append(dialog.message)
            dialog.dismiss() if len(asked) == 1 else dialog.accept()

        page.on("dialog", say_no_then_yes)
        page.get_by_role("button", name="退出").click()
        for _ in range(50):  # the question comes once the drafts are counted
            if asked:
                break
            page.wait_for_timeout(100)
        assert asked and "1 份未提交的上报草稿" in asked[0]
        page.reload()  # said no: still signed in, the draft still there
        expect(page.locator("#draft-notice")).to_contain_text("已恢复")

        page.get_by_role("button", name="退出").click()
        for _ in range(50):  # said yes: the drafts are deleted, then the sign-out is sent
            if "sessionid" not in {c["name"] for c in context.cookies()}:
                break
            page.wait_for_timeout(100)
        assert len(asked) == 2 and "sessionid" not in {c["name"] for c in context.cookies()}
        page.wait_for_load_state("networkidle")  # the sign-out's navigation and redirects have landed

        login(page, world.grid_worker)  # the next person on this phone (here: the same account) finds nothing
        page.goto(f"{live_server.url}/report/new/")
        page.wait_for_selector("form[data-draft-ready]")
        expect(page.locator("#draft-notice")).to_be_hidden()
        expect(page.get_by_label("标题")).to_have_value("")
    finally:
        context.close()

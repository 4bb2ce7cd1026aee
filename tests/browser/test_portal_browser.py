"""群众服务 in a real browser: a resident submits on a phone without an account, tracks the case with the
code, rates it once staff have closed it, and finds it in the redacted public ledger."""

from __future__ import annotations

import io
import re

from PIL import Image
from playwright.sync_api import expect

from taizhang.cases.models import Case, Transition
from tests.cases.helpers import act


def photo_file(tmp_path):
    path = tmp_path / "路灯.jpg"
    buf = io.BytesIO()
    Image.new("RGB", (640, 480), (30, 30, 60)).save(buf, "JPEG")
    path.write_bytes(buf.getvalue())
    return path


def close_case(world, case):
    act(world.dispatcher, case, "dispatch", params={"unit": world.safety_bureau.code})
    act(world.handler, case, "sign")
    act(world.handler, case, "reply", opinion="已维修", fields={"reply": "已更换路灯灯泡，经回访恢复照明"})
    act(world.dispatcher, case, "visit_satisfied", opinion="回访满意")


def test_resident_submits_tracks_and_rates(world, live_server, new_page, screenshot, tmp_path):
    page = new_page(phone=True)
    page.goto(f"{live_server.url}/portal/")
    expect(page.get_by_role("heading", name="群众服务", exact=True)).to_be_visible()
    screenshot(page, "portal-home")
    page.get_by_role("link", name="反映诉求").click()
    expect(page.locator("#p-mech-demand")).to_be_checked()
    page.locator("#p-demand-category").select_option("complaint")
    page.get_by_label("标题").fill("小区门口路灯不亮")
    page.get_by_label("详细情况").fill("和心社区3号楼前路灯一周不亮，晚上出行不便。联系我13912345678")
    page.locator("#p-division").select_option(world.community.code)
    page.get_by_label("具体位置").fill("和心社区3号楼前")
    page.locator("#p-photos").set_input_files(str(photo_file(tmp_path)))
    page.get_by_label("您的称呼（选填）").fill("王小明")
    page.get_by_label("联系电话（选填）").fill("13912345678")
    screenshot(page, "portal-new")
    page.get_by_role("button", name="提交", exact=True).click()

    expect(page.get_by_role("heading", name="提交成功")).to_be_visible()
    code = page.locator("#ticket-code").inner_text().strip()
    case = Case.objects.get()
    assert re.fullmatch(rf"{case.number}-[2-9A-HJKMNP-Z]{{10}}", code)
    assert case.transitions.get().attachments.count() == 1
    screenshot(page, "portal-submitted")

    page.get_by_role("link", name="查看办理进度").click()
    expect(page.locator(".badge")).to_have_text("已受理")
    expect(page.get_by_role("heading", name="评价办理结果")).to_have_count(0)

    close_case(world, case)  # staff take the case through 派单, 签收, 答复 and 回访

    page.reload()
    expect(page.locator(".badge")).to_have_text("已办结")
    expect(page.locator("#h-case + p + p + h3 + blockquote")).to_contain_text("已更换路灯灯泡")
    expect(page.get_by_text("已维修")).to_have_count(0)  # a staff opinion is internal
    page.locator("label[for=rate-satisfied]").click()
    page.get_by_label("评价意见（选填）").fill("修得很快，谢谢")
    screenshot(page, "portal-track-rate")
    page.get_by_role("button", name="提交评价").click()
    expect(page.get_by_text("感谢您的评价")).to_be_visible()
    expect(page.get_by_role("heading", name="您的评价")).to_be_visible()
    expect(page.get_by_role("button", name="提交评价")).to_have_count(0)
    screenshot(page, "portal-rated")
    row = Transition.objects.get(case=case, code="rate")
    # the 回访 had already recorded 满意, so the row changes nothing; the page still shows the rating
    assert (row.role, row.actor.username, row.opinion) == ("reporter", "_portal", "修得很快，谢谢")
    expect(page.locator("#h-rated + p")).to_contain_text("满意")

    # a wrong code is a clear error, not a blank page
    page.goto(f"{live_server.url}/portal/track/")
    page.get_by_label("查询码").fill(code[:-2] + "ZZ" if not code.endswith("ZZ") else code[:-2] + "YY")
    page.get_by_role("button", name="查询").click()
    expect(page.get_by_role("alert")).to_contain_text("查询码不正确")

    page.goto(f"{live_server.url}/portal/ledger/")
    item = page.locator(".ledger-list > li").filter(has_text=case.number)
    expect(item).to_contain_text("小区门口路灯不亮")
    expect(item).to_contain_text("五马街道 和心社区")
    expect(item).to_contain_text("满意")
    item.get_by_role("link", name="小区门口路灯不亮").click()
    expect(page.get_by_text("联系我139****5678")).to_be_visible()
    assert "13912345678" not in page.content() and "王小明" not in page.content()
    screenshot(page, "portal-ledger-case")

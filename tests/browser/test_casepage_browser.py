"""The case page in a real browser: the whole hazard loop across four people in four browser contexts,
a forbidden action that is not shown and is refused when forced, and a form error that keeps the input."""

from __future__ import annotations

import io

import pytest
from PIL import Image
from playwright.sync_api import expect

from taizhang.cases.models import Case
from tests.cases.helpers import act, fresh, report, to_rectifying


@pytest.fixture(autouse=True)
def _known_calendar(settings):
    # The live server runs at the real date: a deadline running into a year without holiday data must
    # not fail the test (the demo runs the same way).
    settings.TAIZHANG_CALENDAR_UNKNOWN_YEAR = "weekends"


@pytest.fixture
def jpeg_file(tmp_path):
    """jpeg_file(name, color) -> the path of a small JPEG, as a phone's camera would hand over."""

    def make(name: str, color=(200, 40, 40)):
        path = tmp_path / name
        buf = io.BytesIO()
        Image.new("RGB", (64, 48), color).save(buf, "JPEG")
        path.write_bytes(buf.getvalue())
        return str(path)

    return make


def open_case(page, live_server, number: str):
    page.goto(f"{live_server.url}/cases/{number}/")
    expect(page.locator("#case-page")).to_be_visible()
    return page


def take(page, code: str, button: str | None = None, **fill):
    """Unfold the action `code`, fill its inputs (by label) and submit it with its button."""
    details = page.locator(f"#details-{code}")
    if details.get_attribute("open") is None:
        details.locator("summary").click()
    form = page.locator(f"#action-{code}")
    for label, value in fill.items():
        field = form.get_by_label(label)
        if field.evaluate("e => e.tagName") == "SELECT":
            field.select_option(label=value)
        else:
            field.fill(value)
    submit = (
        form.get_by_role("button", name=button, exact=True) if button else form.locator("button[type=submit]")
    )
    submit.click()
    return form


def test_the_whole_hazard_loop_across_four_people(world, live_server, login, new_page, screenshot, jpeg_file):
    # 1. The grid worker reports a hazard with a photo, on a phone.
    phone = login(new_page(phone=True), world.grid_worker)
    phone.goto(f"{live_server.url}/report/new/")
    phone.locator("#r-mech-hazard").check()
    phone.locator("#r-title").fill("和心社区5号楼楼道电动车违规充电")
    phone.locator("#r-hazard-category").select_option("electrical")
    phone.locator("#r-hazard-grade").select_option("general")
    phone.locator("#r-description").fill("5号楼一层楼道有电动车飞线充电，存在火灾隐患。")
    phone.locator("#r-division").select_option(world.grid.code)
    phone.locator("#r-address").fill("和心社区5号楼一单元")
    phone.locator("#r-lat").fill("36.1955")
    phone.locator("#r-lon").fill("113.1168")
    phone.locator("#r-photos").set_input_files(jpeg_file("before.jpg"))
    phone.locator("#r-submit").click()
    result = phone.locator("#report-result")
    expect(result).to_be_visible()
    number = result.get_attribute("data-case-number")
    case = Case.objects.get(number=number)
    assert case.attachments.count() == 1 and case.channel == "grid"

    # 2. The dispatcher registers it as a larger hazard and assigns it to the safety bureau.
    dispatcher = login(new_page(), world.dispatcher)
    open_case(dispatcher, live_server, number)
    expect(dispatcher.locator("section[aria-labelledby=h-photos] img")).to_have_count(1)
    take(dispatcher, "register", "立案", 等级="较大隐患")
    expect(dispatcher.locator("#case-flash")).to_have_text("已办理：立案")
    expect(dispatcher.locator("#case-status .badge").first).to_have_text("待交办")
    take(dispatcher, "assign", "交办", 责任单位="潞州区应急管理局", 意见="请于期限内完成整改并上传照片")
    expect(dispatcher.locator("#case-flash")).to_have_text("已办理：交办")
    expect(dispatcher.locator("#case-status .badge").first).to_have_text("待签收")
    expect(dispatcher.locator("#case-clock")).to_contain_text("剩余")
    expect(dispatcher.locator(".timeline")).to_contain_text("责任单位：潞州区应急管理局")
    screenshot(dispatcher, "case-dispatcher")
    assert (fresh(case).state, fresh(case).grade, fresh(case).unit) == (
        "assigned",
        "larger",
        world.safety_bureau,
    )

    # 3. The unit's handler signs and rectifies with an after-photo.
    handler = login(new_page(), world.handler)
    open_case(handler, live_server, number)
    take(handler, "sign", "签收")
    expect(handler.locator("#case-status .badge").first).to_have_text("整改中")
    form = take(handler, "rectified", None, 意见="已拆除飞线，电动车移至集中充电棚")
    # (submitted without the photo first: see the form-error test; here it is added before sending)
    expect(form.locator(".alert")).to_contain_text("提交的内容有误")
    form.get_by_label("照片").set_input_files(jpeg_file("after.jpg", (40, 160, 60)))
    expect(form.get_by_label("意见")).to_have_value("已拆除飞线，电动车移至集中充电棚")
    form.get_by_role("button", name="整改完成").click()
    expect(handler.locator("#case-flash")).to_have_text("已办理：整改完成")
    expect(handler.locator("#case-status .badge").first).to_have_text("待复核")
    expect(handler.locator("section[aria-labelledby=h-photos] .badge.after")).to_have_count(1)
    expect(handler.get_by_text("您当前没有可办理的操作。")).to_be_visible()
    screenshot(handler, "case-handler")

    # 4. The verifier, another person of the unit, passes it and the case is closed (销号).
    verifier = login(new_page(), world.verifier)
    open_case(verifier, live_server, number)
    expect(verifier.locator("section[aria-labelledby=h-photos] img")).to_have_count(2)
    verifier.locator("#details-pass summary").click()
    verifier.locator("#action-pass").get_by_label("意见").fill("现场复核，飞线已拆除，合格")
    screenshot(verifier, "case-verifier")
    verifier.locator("#action-pass").get_by_role("button", name="复核通过并销号").click()
    expect(verifier.locator("#case-flash")).to_have_text("已办理：复核通过并销号")
    expect(verifier.locator("#case-status .badge").first).to_have_text("已销号")
    closed = fresh(case)
    assert closed.state == "closed" and closed.closed_at is not None
    actors = list(closed.transitions.order_by("seq").values_list("code", "actor_id"))
    assert actors == [
        ("create", world.grid_worker.pk),
        ("register", world.dispatcher.pk),
        ("assign", world.dispatcher.pk),
        ("sign", world.handler.pk),
        ("rectified", world.handler.pk),
        ("pass", world.verifier.pk),
    ]

    # The reporter follows it on the phone: closed, both photos, the whole history.
    open_case(phone, live_server, number)
    expect(phone.locator("#case-status .badge").first).to_have_text("已销号")
    expect(phone.locator(".timeline > li")).to_have_count(6)
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390  # no sideways scrolling
    screenshot(phone, "case-phone")


def test_a_forbidden_action_is_not_shown_and_refused_if_forced(world, live_server, login, new_page, photo):
    case = to_rectifying(world, report(world))
    act(world.handler, case, "rectified", attachments=[photo(world.handler)])
    version = fresh(case).version
    page = login(new_page(), world.handler)
    open_case(page, live_server, case.number)
    expect(page.get_by_text("您当前没有可办理的操作。")).to_be_visible()
    expect(page.locator("#action-pass")).to_have_count(0)
    expect(page.get_by_role("button", name="复核通过并销号")).to_have_count(0)
    token = next(c["value"] for c in page.context.cookies() if c["name"] == "csrftoken")
    response = page.request.post(
        f"{live_server.url}/cases/{case.number}/act/",
        form={"code": "pass", "version": str(version), "opinion": "我自己验收"},
        headers={"X-CSRFToken": token, "HX-Request": "true"},
    )
    assert response.status == 403
    assert "您的岗位不能执行「复核通过并销号」" in response.text()
    assert (fresh(case).state, fresh(case).version) == ("verifying", version)


def test_a_form_error_keeps_the_input(world, live_server, login, new_page, screenshot):
    case = to_rectifying(world, report(world, grade="general"))
    page = login(new_page(), world.handler)
    open_case(page, live_server, case.number)
    form = take(page, "extend", None, 意见="配件需厂家订制，到货需要两周")
    alert = form.locator("[role=alert]")
    expect(alert).to_contain_text("提交的内容有误")
    amount = form.get_by_label("延期时长")
    expect(amount).to_have_attribute("aria-invalid", "true")
    expect(form.locator(".field-error")).to_contain_text("请填写延期时长")
    expect(form.get_by_label("意见")).to_have_value("配件需厂家订制，到货需要两周")
    expect(page.locator("#details-extend")).to_have_attribute("open", "")
    screenshot(page, "case-form-error")
    amount.fill("3")
    form.get_by_role("button", name="提交申请延期").click()
    expect(page.locator("#case-flash")).to_have_text("已提交「申请延期」，等待延期审批")
    expect(page.locator("#decision")).to_contain_text("待审批：申请延期")
    assert fresh(case).pending["params"] == {"extend_by": "3 工作日"}

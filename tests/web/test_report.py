"""上报 on a phone: the form from the mechanism definitions, who may use it, errors in place, photos,
and a send that is idempotent (a re-sent form never files a second case)."""

from __future__ import annotations

import io
import json

import pytest
import time_machine
from PIL import Image

from taizhang.cases.models import Attachment, Case
from tests.cases.helpers import at


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(at(2026, 11, 2, 9), tick=False):
        yield


def jpeg(name="现场.jpg", color=(10, 120, 200)):
    buf = io.BytesIO()
    Image.new("RGB", (16, 12), color).save(buf, "JPEG")
    buf.seek(0)
    buf.name = name
    return buf


def form(world, **kw):
    data = {
        "idempotency_key": "k-1",
        "mechanism": "hazard",
        "title": "楼道堆放杂物堵塞消防通道",
        "category": "fire",
        "grade": "general",
        "division": world.grid.code,
        "address": "和心社区3号楼2单元",
        "description": "一楼楼道堆满纸箱",
        "lat": "36.195123",
        "lon": "113.116456",
        "field-hazard_place": "一楼楼道",
    }
    data.update(kw)
    return data


HX = {"HTTP_HX_REQUEST": "true"}


@pytest.mark.parametrize(
    ("persona", "status", "first"),
    [
        ("grid_worker", 200, "hazard"),
        ("outsider", 200, "hazard"),
        ("enterprise_officer", 200, "hazard"),
        ("dispatcher", 200, "demand"),
        ("leader", 200, "demand"),
        ("handler", 403, None),
        ("verifier", 403, None),
        ("inspector", 403, None),
    ],
)
def test_who_may_report(client, world, django_assert_max_num_queries, persona, status, first):
    client.force_login(getattr(world, persona))
    with django_assert_max_num_queries(30):
        response = client.get("/report/new/")
    assert response.status_code == status
    body = response.content.decode()
    if status == 403:
        assert "您的岗位不能上报案件" in body
        return
    forms = response.context["forms"]
    assert forms[0].code == first
    assert response.context["current"].code == first
    assert 'capture="environment"' in body and 'accept="image/*"' in body and "获取当前位置" in body
    assert "report.js" in body


def test_anonymous_goes_to_login_and_residents_to_the_portal(client, world):
    assert client.get("/report/new/")["Location"].startswith("/login/")
    client.force_login(world.resident)
    assert client.get("/report/new/")["Location"] == "/portal/new/"
    nav = [item.key for item in client.get("/portal/").context["nav"]]
    assert "report" not in nav


def test_the_grid_is_preselected_and_only_reachable_divisions_are_offered(client, world):
    client.force_login(world.grid_worker)
    ctx = client.get("/report/new/").context
    division = ctx["common"]["division"]
    assert division.value == world.grid.code
    assert [code for code, _ in division.choices] == [world.grid.code]
    client.force_login(world.dispatcher)
    ctx = client.get("/report/new/").context
    codes = [code for code, _ in ctx["common"]["division"].choices]
    assert codes == [world.street.code, world.community.code, world.grid.code]
    assert ctx["common"]["division"].value == world.street.code
    # the enterprise officer reports where the enterprise is
    client.force_login(world.enterprise_officer)
    ctx = client.get("/report/new/").context
    assert world.other_grid.code in [code for code, _ in ctx["common"]["division"].choices]


def test_form_follows_the_mechanism_definition(client, world):
    client.force_login(world.dispatcher)
    sections = {s["form"].code: s for s in client.get("/report/new/").context["sections"]}
    demand = [i.name for i in sections["demand"]["inputs"]]
    # staff work (答复内容, 满意度, 回访记录) is not asked at intake; the caller is
    assert demand == [
        "category",
        "grade",
        "channel",
        "field-caller_name",
        "field-caller_phone",
        "field-topic",
    ]
    hazard = [i.name for i in sections["hazard"]["inputs"]]
    # fields no transition asks for (撤离人数 is optional at 封控, so the definition cannot tell)
    assert hazard[:5] == ["category", "grade", "channel", "field-hazard_place", "field-enterprise"]
    assert "field-measures" not in hazard and "field-satisfaction" not in hazard
    client.force_login(world.grid_worker)
    sections = {s["form"].code: s for s in client.get("/report/new/").context["sections"]}
    assert "channel" not in [i.name for i in sections["hazard"]["inputs"]]  # 网格巡查 by role


def test_send_without_javascript_files_the_case_and_shows_its_number(
    client, world, django_assert_max_num_queries
):
    client.force_login(world.grid_worker)
    # filing runs the engine and the similar-case index (about 25 queries of their own)
    with django_assert_max_num_queries(40):
        response = client.post("/report/new/", form(world, photos=[jpeg()]))
    assert response.status_code == 302
    case = Case.objects.get()
    assert response["Location"] == f"/report/sent/{case.number}/"
    assert (case.mechanism, case.channel, case.division, case.reporter) == (
        "hazard",
        "grid",
        world.grid,
        world.grid_worker,
    )
    assert str(case.lat) == "36.195123" and case.data == {"hazard_place": "一楼楼道"}
    assert case.transitions.get().attachments.count() == 1
    page = client.get(response["Location"]).content.decode()
    assert case.number in page and f'href="/cases/{case.number}/"' in page and "上报成功" in page


def test_send_with_htmx_answers_201_with_the_number(client, world, photo):
    client.force_login(world.dispatcher)
    pid = photo(world.dispatcher)
    data = form(
        world,
        mechanism="demand",
        category="complaint",
        grade="general",
        channel="hotline",
        attachments=[str(pid)],
        **{"field-caller_name": "张先生", "field-caller_phone": "13800000000"},
    )
    response = client.post("/report/new/", data, **HX)
    assert response.status_code == 201
    case = Case.objects.get()
    body = response.content.decode()
    assert "<html" not in body and f'data-case-number="{case.number}"' in body
    assert case.data["caller_name"] == "张先生" and case.channel == "hotline"
    assert Attachment.objects.get(pk=pid).case == case


def test_errors_come_back_in_place_with_the_input_kept(client, world):
    client.force_login(world.grid_worker)
    data = form(world, title="", category="", lat="200")
    response = client.post("/report/new/", data, **HX)
    assert response.status_code == 422
    body = response.content.decode()
    assert "<html" not in body and body.startswith("<form")
    assert 'id="r-title" name="title" value=""' in body and 'aria-invalid="true"' in body
    assert "请填写标题" in body and "请选择类别" in body and "坐标超出范围" in body
    assert 'value="和心社区3号楼2单元"' in body and 'value="k-1"' in body  # the key stays with the draft
    assert 'role="alert"' in body
    assert Case.objects.count() == 0
    full = client.post("/report/new/", data)
    assert full.status_code == 422 and "<html" in full.content.decode()


def test_a_division_out_of_reach_is_refused_in_place(client, world):
    client.force_login(world.grid_worker)
    response = client.post("/report/new/", form(world, division=world.other_grid.code), **HX)
    assert response.status_code == 403
    assert "您不能在白兔村第一网格上报" in response.content.decode()


def test_a_resend_returns_the_first_case(client, world, photo):
    client.force_login(world.grid_worker)
    pid = photo(world.grid_worker)
    data = form(world, attachments=[str(pid)])
    first = client.post("/report/new/", data, **HX)
    again = client.post("/report/new/", data, **HX)
    assert (first.status_code, again.status_code) == (201, 200)
    assert Case.objects.count() == 1
    assert "此前已提交成功" in again.content.decode()
    assert Case.objects.get().number in again.content.decode()


def test_a_resend_with_the_photos_again_does_not_store_them_twice(client, world):
    client.force_login(world.grid_worker)
    first = client.post("/report/new/", form(world, photos=[jpeg()]))
    again = client.post("/report/new/", form(world, photos=[jpeg()]))
    assert first.status_code == again.status_code == 302
    assert again["Location"].endswith("?again=1")
    assert Case.objects.count() == 1 and Attachment.objects.count() == 1


def test_a_changed_draft_under_a_used_key_names_the_earlier_case(client, world):
    client.force_login(world.grid_worker)
    client.post("/report/new/", form(world), **HX)
    response = client.post("/report/new/", form(world, title="另一个问题"), **HX)
    assert response.status_code == 409
    number = Case.objects.get().number
    body = response.content.decode()
    assert f"已于此前提交为案件 {number}" in body and "清除草稿" in body


def test_photo_upload_for_the_draft(client, world):
    assert client.post("/report/photo/", {"file": jpeg()}).status_code == 401
    client.force_login(world.grid_worker)
    response = client.post("/report/photo/", {"file": jpeg()})
    assert response.status_code == 201
    attachment = Attachment.objects.get(pk=response.json()["id"])
    assert (attachment.uploaded_by, attachment.content_type, attachment.case) == (
        world.grid_worker,
        "image/jpeg",
        None,
    )
    bad = io.BytesIO(b"not an image at all")
    bad.name = "x.jpg"
    response = client.post("/report/photo/", {"file": bad})
    assert response.status_code == 422
    assert json.loads(response.content)["errors"][0]["code"] == "unsupported_type"
    assert client.post("/report/photo/", {}).status_code == 422


def test_a_bad_photo_is_reported_with_the_other_errors(client, world):
    client.force_login(world.grid_worker)
    bad = io.BytesIO(b"GIF89a....")
    bad.name = "x.gif"
    response = client.post("/report/new/", form(world, title="", photos=[bad]), **HX)
    assert response.status_code == 422
    body = response.content.decode()
    assert "只接受 JPEG、PNG、WebP" in body and "请填写标题" in body


def test_sent_page_of_a_case_out_of_sight_is_404(client, world):
    client.force_login(world.grid_worker)
    client.post("/report/new/", form(world))
    number = Case.objects.get().number
    client.force_login(world.outsider)
    assert client.get(f"/report/sent/{number}/").status_code == 404


def test_signing_out_clears_what_the_browser_kept(client, world):
    client.force_login(world.grid_worker)
    page = client.get("/report/new/").content.decode()
    assert "data-logout" in page  # app.js deletes the drafts (after asking) before the sign-out is sent
    response = client.post("/logout/")
    assert response.status_code == 302 and response["Clear-Site-Data"] == '"storage"'
    assert client.get("/report/new/").status_code == 302  # signed out
    assert "Clear-Site-Data" not in client.get("/login/")


def test_attachment_ids_of_non_ascii_digits_are_dropped_not_a_500():
    """The string "²" passes isdigit(), yet int("²") fails; "٣" is a decimal digit int() reads."""
    from taizhang.web.report.spec import parse_ids

    assert parse_ids(["1", " 2 ", "²", "x", "٣"]) == [1, 2, 3]

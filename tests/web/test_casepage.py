"""The case page: what each persona sees and may do, the form of every kind of transition, actions that
succeed, fail (input kept, reason in place), are stale (409) or forbidden (403), the public view, queries."""

from __future__ import annotations

import io
import json
import re

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.template.loader import render_to_string
from PIL import Image

from taizhang.cases.create import CaseInput, do_create_case
from taizhang.cases.models import Case
from taizhang.mechanisms.registry import get_mechanism
from taizhang.mechanisms.schema import FieldDef
from taizhang.web.casepage.forms import Choices, build_form, field_widget
from tests.cases.helpers import act, at, fresh, report, to_rectifying


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(at(2026, 11, 2, 9), tick=False) as traveller:
        yield traveller


def url(case) -> str:
    return f"/cases/{case.number}/"


def view(client, user, case, **query):
    client.force_login(user)
    return client.get(url(case), query)


def codes(response) -> list[str]:
    return [f.code for f in response.context["forms"]]


def jpeg(name="after.jpg", color=(30, 160, 60)) -> SimpleUploadedFile:
    buf = io.BytesIO()
    Image.new("RGB", (16, 16), color).save(buf, "JPEG")
    return SimpleUploadedFile(name, buf.getvalue(), content_type="image/jpeg")


def post(client, user, case, code, htmx=False, **data):
    """Submit an action form as the page would (the version it was rendered from unless given)."""
    client.force_login(user)
    data = {"code": code, "version": fresh(case).version, **data}
    headers = {"HX-Request": "true", "HX-Trigger": f"action-{code}"} if htmx else {}
    return client.post(f"{url(case)}act/", data, headers=headers)


def assigned(world):
    case = report(world)
    act(world.dispatcher, case, "register")
    act(world.dispatcher, case, "assign", params={"unit": world.safety_bureau.code})
    return fresh(case)


def verifying(world, photo):
    case = to_rectifying(world, report(world))
    act(world.handler, case, "rectified", attachments=[photo(world.handler)])
    return fresh(case)


# -- who sees what --------------------------------------------------------------------------------------


def test_actions_shown_per_persona_on_a_reported_case(client, world):
    case = report(world)
    expected = {
        "grid_worker": ["fix_on_spot", "cordon"],  # 封控撤离 from the report itself (issue #13)
        "dispatcher": ["register", "reject", "fix_on_spot", "cordon"],
        "leader": ["register", "reject", "cordon"],
        "inspector": ["flag"],
        "verifier": [],  # the street's verifier sees the street's cases; nothing to verify yet
    }
    for name, want in expected.items():
        response = view(client, getattr(world, name), case)
        assert response.status_code == 200, name
        assert codes(response) == want, name
    for name in ("handler", "resident", "outsider", "enterprise_officer"):
        assert view(client, getattr(world, name), case).status_code == 404, name


def test_actions_follow_the_case_through_its_states(client, world, photo):
    case = assigned(world)
    assert codes(view(client, world.handler, case)) == ["sign", "return"]
    assert codes(view(client, world.verifier, case)) == []
    assert codes(view(client, world.dispatcher, case)) == ["regrade", "urge"]
    assert codes(view(client, world.inspector, case)) == ["urge", "flag"]
    assert view(client, world.other_handler, case).status_code == 404
    act(world.handler, case, "sign")
    response = view(client, world.handler, case)
    assert codes(response) == ["cordon", "rectified", "extend", "refuse", "suspend", "park"]
    assert "您当前没有可办理的操作" in view(client, world.verifier, case).content.decode()
    act(world.handler, case, "rectified", attachments=[photo(world.handler)])
    assert codes(view(client, world.verifier, case)) == ["pass", "rework"]
    assert codes(view(client, world.handler, case)) == []


def test_anonymous_goes_to_login_and_outsiders_get_404(client, world):
    case = report(world)
    assert client.get(url(case))["Location"].startswith("/login/")
    response = view(client, world.outsider, case)
    assert response.status_code == 404 and "找不到该案件或无权查看" in response.content.decode()
    response = post(client, world.outsider, case, "register")
    assert response.status_code == 404
    assert fresh(case).state == "reported"
    assert view(client, world.dispatcher, Case(number="YH-2026-999999")).status_code == 404


def test_page_shows_fields_photos_timeline_clock_and_map(client, world, photo, settings):
    settings.TAIZHANG_MAP_TILES = ""
    case = to_rectifying(
        world,
        report(
            world,
            lat="36.190000",
            lon="113.110000",
            attachments=[photo(world.grid_worker)],
            fields={"enterprise": "和心超市"},
        ),
    )
    act(world.handler, case, "cordon", fields={"cordon": "拉设警戒线", "evacuated_people": 12})
    body = view(client, world.dispatcher, case).content.decode()
    assert "楼道堆放杂物堵塞消防通道" in body and "和心社区3号楼2单元" in body
    assert "涉及企业/场所" in body and "和心超市" in body  # a form field, with its label
    assert "封控措施" in body and "拉设警戒线" in body and "撤离人数" in body
    assert "处置前" in body and "/api/v1/attachments/" in body
    assert "贾文博" in body and "（派遣员）" in body and "牛志远" in body  # who, with role label
    assert "责任单位：潞州区应急管理局" in body  # the change of 交办, in words
    assert "当时时限：" in body and "剩余" in body  # the deadline then, the clock now
    assert 'id="case-map"' in body and '"lat": 36.19' in body and '"tiles": ""' in body
    assert "vendor/leaflet/leaflet.js" in body


def test_map_tiles_come_from_settings_and_no_map_without_coordinates(client, world, settings):
    settings.TAIZHANG_MAP_TILES = "https://tiles.example/{z}/{x}/{y}.png"
    settings.TAIZHANG_MAP_ATTRIBUTION = "© 示例"
    located = report(world, lat="36.19", lon="113.11")
    body = view(client, world.dispatcher, located).content.decode()
    data = json.loads(re.search(r'id="case-map-data" type="application/json">(.*?)</script>', body).group(1))
    assert data["tiles"] == "https://tiles.example/{z}/{x}/{y}.png" and data["attribution"] == "© 示例"
    assert 'id="case-map"' not in view(client, world.dispatcher, report(world)).content.decode()


# -- the form of every kind of transition ---------------------------------------------------------------


def test_register_form_sets_grade_and_category_with_current_values(client, world):
    body = view(client, world.dispatcher, report(world, grade="larger")).content.decode()
    assert 'name="params.grade"' in body and '<option value="larger" selected>较大隐患</option>' in body
    assert 'name="params.category"' in body and '<option value="fire" selected>消防安全</option>' in body
    assert '<label for="a-register-opinion">意见（选填）' in body


def test_assign_form_offers_units_and_requires_an_opinion(client, world):
    case = report(world)
    act(world.dispatcher, case, "register")
    body = view(client, world.dispatcher, case).content.decode()
    assert '<select id="a-assign-params-unit" name="params.unit" aria-required="true">' in body
    assert '<option value="LZQ-YJJ">潞州区应急管理局</option>' in body
    assert '<optgroup label="企业">' in body
    assert '<label for="a-assign-opinion">意见 <span class="req"' in body


def test_enforcement_form_offers_only_enforcement_units(client, world):
    case = to_rectifying(world, report(world))
    response = view(client, world.handler, case)
    form = next(f for f in response.context["forms"] if f.code == "refuse")
    unit = next(w for w in form.widgets if w.name == "params.unit")
    assert [code for _, options in unit.groups for code, _ in options] == ["LZQ-ZFJ"]
    assert unit.label == "执法单位"


def test_fields_photos_and_extension_forms(client, world):
    case = to_rectifying(world, report(world))
    body = view(client, world.handler, case).content.decode()
    assert '<textarea id="a-cordon-fields-cordon" name="fields.cordon" aria-required="true"' in body
    assert 'name="photos" type="file" accept="image/jpeg,image/png,image/webp" multiple' in body
    assert "至少 1 张" in body
    assert 'name="params.extend_by" type="number"' in body and 'name="params.extend_unit"' in body
    assert '<option value="工作日" selected>' in body  # 潞州区's pack counts rectification in 工作日
    assert "提交申请延期" in body and "提交后须经延期审批" in body  # an approval, said before submitting


def test_major_hazard_sign_asks_for_the_five_measures(client, world):
    case = report(world, grade="major")
    act(world.dispatcher, case, "register")
    act(world.dispatcher, case, "assign", params={"unit": world.safety_bureau.code})
    form = next(f for f in view(client, world.handler, case).context["forms"] if f.code == "sign")
    kinds = {w.name: w.kind for w in form.widgets}
    assert kinds == {
        "fields.measures": "textarea",
        "fields.responsible_person": "text",
        "fields.funds": "decimal",
        "fields.plan_deadline": "date",
        "fields.contingency": "textarea",
        "opinion": "textarea",
    }
    body = view(client, world.handler, case).content.decode()
    assert 'name="fields.plan_deadline" value="" aria-required="true"' in body and 'type="date"' in body


def test_every_field_type_renders_with_a_label(world):
    mech = get_mechanism("petition")
    case = Case(mechanism="petition", number="XF-2026-000001", category="appeal", channel="web", data={})
    t = mech.transitions["reply"]
    form = build_form(mech, case, t, "handler", Choices([]))
    html = render_to_string("web/casepage/_action_form.html", {"form": form, "case": case})
    assert '<label for="a-reply-fields-decision">处理意见' in html
    assert '<select id="a-reply-fields-decision" name="fields.decision"' in html
    assert '<textarea id="a-reply-fields-reply" name="fields.reply"' in html
    for kind, tag in [
        ("int", 'type="number" step="1"'),
        ("bool", 'type="checkbox"'),
        ("datetime", 'type="datetime-local"'),
    ]:
        form.widgets = [field_widget(FieldDef(name="x", label="测试字段", type=kind), None, True)]
        html = render_to_string("web/casepage/_action_form.html", {"form": form, "case": case})
        assert tag in html and 'for="a-reply-fields-x"' in html, kind
    form.widgets = [
        field_widget(
            FieldDef(name="x", label="多选", type="multichoice", choices=[{"code": "a", "name": "甲"}]),
            ["a"],
            False,
        )
    ]
    html = render_to_string("web/casepage/_action_form.html", {"form": form, "case": case})
    assert "<legend>多选</legend>" in html and 'value="a" checked' in html


def demand(world, title, **kw) -> Case:
    data = CaseInput(
        mechanism="demand",
        title=title,
        description=kw.pop("description", ""),
        division=world.grid.code,
        category="complaint",
        channel="hotline",
        **kw,
    )
    case, _ = do_create_case(world.dispatcher, data)
    return case


def test_dispatch_offers_co_units_and_similar_cases_offer_a_merge(client, world):
    for title in [
        "幸福路路灯不亮晚上出行不便",
        "五马街道菜市场占道经营",
        "咨询公积金贷款政策",
        "小区电梯经常故障",
    ]:
        demand(world, title)
    first = demand(
        world, "丽发新城小区附近建搅拌站，噪音扰民，粉尘污染严重", description="丽发新城小区旁边修建搅拌站"
    )
    second = demand(world, "丽发新城小区旁建搅拌厂噪音粉尘扰民", description="丽发新城附近搅拌站太吵")
    response = view(client, world.dispatcher, second)
    body = response.content.decode()
    assert 'type="checkbox" name="params.co_units" value="LZQ-ZJJ"' in body
    assert [s["number"] for s in response.context["similar"]] == [first.number]
    assert "相似度" in body and f"?action=merge&amp;master={first.number}" in body
    response = view(client, world.dispatcher, second, action="merge", master=first.number)
    merge = next(f for f in response.context["forms"] if f.code == "merge")
    assert merge.open and next(w for w in merge.widgets if w.name == "params.master").value == first.number
    assert response.context["similar"] is not None
    assert view(client, world.handler, second).status_code == 404
    response = post(
        client, world.dispatcher, second, "merge", **{"params.master": first.number, "opinion": "同一诉求"}
    )
    assert response.status_code == 302 and fresh(second).merged_into_id == first.pk
    response = post(
        client, world.dispatcher, first, "dispatch",
        **{"params.unit": "LZQ-YJJ", "params.co_units": ["LZQ-ZJJ", "LZQ-SWJ"], "opinion": "请办理"},
    )  # fmt: skip
    assert response.status_code == 302
    assert sorted(fresh(first).co_units.values_list("code", flat=True)) == ["LZQ-SWJ", "LZQ-ZJJ"]
    assert "协办单位" in view(client, world.dispatcher, first).content.decode()


# -- taking actions -------------------------------------------------------------------------------------


def test_a_successful_action_without_javascript_redirects_back(client, world):
    case = report(world)
    response = post(client, world.dispatcher, case, "register", **{"params.grade": "larger"})
    assert response.status_code == 302 and response["Location"] == url(case)
    assert (fresh(case).state, fresh(case).grade) == ("registered", "larger")
    body = client.get(url(case)).content.decode()
    assert "已办理：立案" in body and "等级：<del>一般隐患</del> → 较大隐患" in body


def test_a_successful_action_with_htmx_refreshes_the_page_section(client, world):
    case = report(world)
    act(world.dispatcher, case, "register")
    response = post(
        client, world.dispatcher, case, "assign", htmx=True, **{"params.unit": "LZQ-YJJ", "opinion": "请整改"}
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert body.startswith('<div id="case-page"') and "<html" not in body
    assert "已办理：交办" in body and '<span class="badge waiting">待签收</span>' in body
    assert "请整改" in body and "剩余" in body  # the timeline and the clock are refreshed
    assert fresh(case).unit == world.safety_bureau


def test_a_failing_action_keeps_the_input_and_shows_the_reason_in_place(client, world):
    case = to_rectifying(world, report(world))
    response = post(client, world.handler, case, "rectified", htmx=True, opinion="灭火器已补齐")
    assert response.status_code == 422
    assert response["HX-Retarget"] == "#action-rectified" and response["HX-Reswap"] == "outerHTML"
    body = response.content.decode()
    assert body.startswith('<form id="action-rectified"')
    assert ">灭火器已补齐</textarea>" in body  # nothing typed is lost
    assert 'role="alert"' in body and "提交的内容有误" in body
    assert 'aria-invalid="true"' in body and "「整改完成」须上传至少 1 张照片" in body
    assert fresh(case).state == "rectifying"
    # Without JavaScript: the whole page again, the same form open with the same input and error.
    response = post(client, world.handler, case, "rectified", opinion="灭火器已补齐")
    assert response.status_code == 422
    form = next(f for f in response.context["forms"] if f.code == "rectified")
    assert form.open and form.message == "提交的内容有误"
    assert ">灭火器已补齐</textarea>" in response.content.decode()


def test_photos_of_a_failed_attempt_are_kept_and_used_by_the_next(client, world):
    case = to_rectifying(world, report(world))
    client.force_login(world.handler)
    data = {"code": "rectified", "version": fresh(case).version, "opinion": "", "photos": [jpeg()]}
    response = client.post(
        f"{url(case)}act/", data, headers={"HX-Request": "true", "HX-Trigger": "action-rectified"}
    )
    assert response.status_code == 422
    body = response.content.decode()
    assert "「整改完成」须填写意见" in body and "已上传 1 张照片" in body
    kept = response.context["form"].widgets[-1].extra
    assert len(kept) == 1 and f'name="attachments" value="{kept[0].pk}"' in body
    response = post(client, world.handler, case, "rectified", opinion="已整改", attachments=[kept[0].pk])
    assert response.status_code == 302 and fresh(case).state == "verifying"
    assert list(fresh(case).attachments.values_list("pk", flat=True)) == [kept[0].pk]
    body = view(client, world.verifier, case).content.decode()
    assert "处置后" in body and "整改完成 · " in body


def test_a_bad_file_is_an_error_on_the_photo_input(client, world):
    case = to_rectifying(world, report(world))
    client.force_login(world.handler)
    bad = SimpleUploadedFile("x.jpg", b"not an image at all", content_type="image/jpeg")
    data = {"code": "rectified", "version": fresh(case).version, "opinion": "好了", "photos": [bad]}
    response = client.post(f"{url(case)}act/", data)
    assert response.status_code == 422
    form = next(f for f in response.context["forms"] if f.code == "rectified")
    photos = next(w for w in form.widgets if w.name == "attachments")
    assert photos.errors and "只接受" in photos.errors[0]
    assert fresh(case).state == "rectifying"


def test_a_stale_page_gets_409_and_changes_nothing(client, world):
    case = report(world)
    page_version = fresh(case).version
    act(world.leader, case, "register")  # someone else acted meanwhile
    response = post(
        client, world.dispatcher, case, "register", htmx=True, version=page_version, opinion="立案"
    )
    assert response.status_code == 409
    body = response.content.decode()
    assert "案件已更新" in body and 'role="alert"' in body and ">立案</textarea>" in body
    assert "刷新页面" in body
    assert fresh(case).version == page_version + 1
    response = post(
        client, world.dispatcher, case, "assign", version=page_version, **{"params.unit": "LZQ-YJJ"}
    )
    assert response.status_code == 409 and "案件已更新" in response.content.decode()
    assert fresh(case).state == "registered"


@pytest.mark.parametrize("version", ["²", "①"])
def test_a_version_of_non_ascii_digits_is_no_version(client, world, version):
    """The string "²" passes isdigit(), yet int("²") fails: the form was a 500; now it is read as no version."""
    case = report(world)
    response = post(client, world.dispatcher, case, "register", version=version, opinion="立案")
    assert response.status_code in (200, 302) and fresh(case).state == "registered"


def test_a_forced_forbidden_action_is_refused_with_403(client, world, photo):
    case = verifying(world, photo)
    version = fresh(case).version
    assert "pass" not in codes(view(client, world.handler, case))
    response = post(client, world.handler, case, "pass", opinion="自己验收")
    assert response.status_code == 403
    assert "您的岗位不能执行「复核通过并销号」" in response.content.decode()
    response = post(client, world.handler, case, "pass", htmx=True, opinion="自己验收")
    assert response.status_code == 403 and response["HX-Retarget"] == "#action-pass"
    client.force_login(world.handler)
    data = {"code": "pass", "version": version, "opinion": "x"}
    response = client.post(f"{url(case)}act/", data, headers={"HX-Request": "true"})
    assert response.status_code == 403 and response["HX-Retarget"] == "#action-alert"
    assert 'role="alert"' in response.content.decode()
    assert (fresh(case).state, fresh(case).version) == ("verifying", version)
    response = post(client, world.grid_worker, case, "nonsense")
    assert response.status_code == 422 and "没有名为 nonsense 的操作" in response.content.decode()


def test_the_same_person_may_not_verify_their_own_rectification(client, world, photo):
    from taizhang.org.models import Membership

    # The bureau's handler also a verifier of the street (the supervising body): a post in the unit that
    # did the work, so never its supervisor (and the same person besides).
    Membership.objects.create(user=world.handler, role="verifier", division=world.street)
    case = verifying(world, photo)
    response = post(client, world.handler, case, "pass", htmx=True, opinion="合格")
    assert response.status_code == 403
    assert "您的岗位不能执行「复核通过并销号」" in response.content.decode()
    assert fresh(case).state == "verifying"


def test_staff_see_the_parties_and_the_public_do_not(client, world):
    case = report(world, user=world.resident)
    to_rectifying(world, case)
    act(world.dispatcher, case, "refuse", opinion="拒不整改", params={"unit": world.enforcement_bureau.code})
    page = view(client, world.dispatcher, case).content.decode()
    assert "监督方" in page and "五马街道" in page
    assert "联合执法单位" in page and "潞州区综合行政执法局" in page
    public = view(client, world.resident, case).content.decode()
    assert "监督方" not in public and "联合执法单位" not in public


def test_a_unit_that_hands_a_case_back_keeps_reading_it(client, world):
    """退回 ends the unit's work on the case, not its sight of it (an earlier lead): back to the case page,
    which offers it nothing any more."""
    case = assigned(world)
    response = post(client, world.handler, case, "return", opinion="不属于本单位职责")
    assert response.status_code == 302 and response["Location"] == f"/cases/{case.number}/"
    page = view(client, world.handler, case)
    assert page.status_code == 200 and codes(page) == []
    response = post(
        client, world.dispatcher, case, "assign", htmx=True, **{"params.unit": "LZQ-YJJ", "opinion": "再交办"}
    )
    assert response.status_code == 200
    response = post(client, world.handler, case, "return", htmx=True, opinion="仍不属于")
    assert response.status_code == 200 and "不属于" in response.content.decode()


# -- approvals ------------------------------------------------------------------------------------------


def test_an_extension_is_requested_then_approved_by_someone_else(client, world):
    case = to_rectifying(world, report(world))
    due = fresh(case).due_at
    response = post(
        client,
        world.handler,
        case,
        "extend",
        **{"params.extend_by": "3", "params.extend_unit": "自然日", "opinion": "材料未到货"},
    )
    assert response.status_code == 302 and fresh(case).pending["code"] == "extend"
    body = view(client, world.handler, case).content.decode()
    assert "待审批：申请延期" in body and "延期时长：3 自然日" in body and "批准</button>" not in body
    response = view(client, world.leader, case)
    assert response.context["pending"].can_decide
    body = response.content.decode()
    assert "批准</button>" in body and "驳回</button>" in body and "材料未到货" in body
    client.force_login(world.leader)
    decide = f"{url(case)}decide/"
    response = client.post(
        decide,
        {"approve": "0", "opinion": "", "version": fresh(case).version},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 422 and response["HX-Retarget"] == "#decision"
    assert "不予批准须说明理由" in response.content.decode()
    response = client.post(
        decide,
        {"approve": "1", "opinion": "同意", "version": fresh(case).version},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200 and "已批准" in response.content.decode()
    assert fresh(case).pending is None and (fresh(case).due_at - due).days == 3


def test_the_requester_cannot_decide_their_own_request(client, world):
    case = to_rectifying(world, report(world))
    act(world.handler, case, "extend", params={"extend_by": "2 自然日"}, opinion="等配件")
    client.force_login(world.handler)
    response = client.post(f"{url(case)}decide/", {"approve": "1", "version": fresh(case).version})
    assert response.status_code == 403 and fresh(case).pending is not None


# -- the public view ------------------------------------------------------------------------------------


def test_a_resident_sees_the_public_view_of_their_own_case(client, world):
    case = report(world, user=world.resident, fields={"hazard_place": "3号楼楼道", "enterprise": "某物业"})
    act(world.dispatcher, case, "register", opinion="属实，立案")
    act(world.dispatcher, case, "assign", params={"unit": world.safety_bureau.code}, opinion="请整改")
    act(world.inspector, case, "flag", opinion="内部监督意见")
    response = view(client, world.resident, case)
    assert response.status_code == 200 and response.context["public"]
    body = response.content.decode()
    assert "贾文博" not in body and "申立行" not in body  # no staff names
    assert "派遣员" in body and "属实，立案" in body  # roles and public replies
    assert "内部监督意见" not in body and "监督标记" not in body  # non-public rows
    assert "已交办" in body and "待签收" not in body  # public state names
    assert "3号楼楼道" in body and "某物业" not in body  # public fields only
    assert "郝小雨" in body  # the reporter themselves
    assert codes(response) == []
    response = post(client, world.resident, case, "sign")
    assert response.status_code == 403 and fresh(case).state == "assigned"


def test_a_petition_lists_its_printable_notices(client, world):
    with time_machine.travel(at(2026, 4, 20, 10), tick=False):
        fields = {"petitioner_name": "郝小雨", "petitioner_address": "和心社区", "request": "请求兑现补贴"}
        case, _ = do_create_case(
            world.resident,
            CaseInput(
                mechanism="petition",
                title="加装电梯补贴未兑现",
                division=world.grid.code,
                category="appeal",
                fields=fields,
            ),
        )
        act(world.dispatcher, case, "transfer", params={"unit": world.safety_bureau.code})
        act(world.handler, case, "accept")
        response = view(client, world.handler, case)
        body = response.content.decode()
        assert f"/api/v1/cases/{case.number}/notices/acceptance" in body and "信访事项受理告知书" in body
        reply = next(f for f in response.context["forms"] if f.code == "reply")
        assert [w.kind for w in reply.widgets][:2] == ["choice", "textarea"]
        assert "信访事项受理告知书" in view(client, world.resident, case).content.decode()


# -- queries --------------------------------------------------------------------------------------------


def long_history(world, photo, frozen) -> Case:
    """A case with a demo-like long history: cordon, extension, urges, flags, rework, photos."""
    case = to_rectifying(
        world, report(world, lat="36.19", lon="113.11", attachments=[photo(world.grid_worker)])
    )
    act(world.handler, case, "cordon", fields={"cordon": "警戒"})
    act(world.handler, case, "lift_cordon")
    act(world.handler, case, "extend", params={"extend_by": "3 自然日"})
    from taizhang.cases.approvals import do_decide

    do_decide(world.leader, case.pk, True, "同意")
    for _ in range(6):
        act(world.leader, case, "urge", opinion="请加快")
        act(world.inspector, case, "flag", opinion="关注")
    act(world.handler, case, "rectified", attachments=[photo(world.handler), photo(world.handler)])
    act(world.verifier, case, "rework", opinion="不合格")
    act(world.handler, case, "rectified", attachments=[photo(world.handler)])
    for title in ["消防通道被占用", "楼道电动车充电", "灭火器过期"]:
        report(world, title=title)
    return fresh(case)


def test_queries_stay_under_thirty_on_a_long_history(
    client, world, photo, frozen, django_assert_max_num_queries
):
    case = long_history(world, photo, frozen)
    assert case.transitions.count() >= 20
    for user in [
        world.dispatcher,
        world.handler,
        world.verifier,
        world.leader,
        world.inspector,
        world.grid_worker,
    ]:
        client.force_login(user)
        with django_assert_max_num_queries(30):
            response = client.get(url(case))
        assert response.status_code == 200
    client.force_login(world.verifier)
    with django_assert_max_num_queries(30):
        response = post(client, world.verifier, case, "rework", htmx=True, opinion="")
    assert response.status_code == 422

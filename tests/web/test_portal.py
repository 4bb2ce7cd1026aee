"""群众服务: submitting without an account, tracking codes, public progress, rating once after the answer,
the redacted public ledger and 我也遇到 — every page for anonymous visitors, residents, staff and outsiders."""

from __future__ import annotations

import io
import re
from urllib.parse import quote

import pytest
import time_machine
from PIL import Image

from taizhang.cases.actions import available_transitions
from taizhang.cases.models import Attachment, Case, Transition
from taizhang.insight.kpi import visit_transitions
from taizhang.insight.models import CaseSupporter
from taizhang.intake.models import PortalTicket
from taizhang.intake.portal.account import PORTAL_USERNAME, portal_user
from taizhang.intake.portal.redact import mask_name, place_names, public_place, redact_text
from taizhang.intake.portal.tickets import digest
from taizhang.mechanisms.registry import get_mechanism
from tests.cases.helpers import act, at, error_of, fresh

NOW = at(2026, 11, 2, 9)


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def jpeg(name="现场.jpg"):
    buf = io.BytesIO()
    Image.new("RGB", (16, 12), (200, 40, 40)).save(buf, "JPEG")
    buf.seek(0)
    buf.name = name
    return buf


def demand_form(world, **kw):
    data = {
        "idempotency_key": "p-1",
        "mechanism": "demand",
        "category": "complaint",
        "title": "小区门口路灯不亮",
        "description": "和心社区3号楼前路灯一周不亮，我叫王小明，电话13912345678",
        "division": world.community.code,
        "address": "和心社区3号楼",
        "lat": "36.19",
        "lon": "113.11",
        "contact_name": "王小明",
        "contact_phone": "13912345678",
        "field-topic": "路灯",
        "website": "",
    }
    data.update(kw)
    return data


def submit(client, world, **kw) -> tuple[Case, str]:
    """Submit on the portal and read the tracking code off the confirmation page."""
    response = client.post("/portal/new/", demand_form(world, **kw))
    assert response.status_code == 302, response.content.decode()[:2000]
    assert response["Location"] == "/portal/submitted/"
    page = client.get("/portal/submitted/").content.decode()
    code = re.search(r'id="ticket-code">([^<]+)<', page).group(1)
    return Case.objects.get(number=code.rsplit("-", 1)[0]), code


def answered(world, case):
    act(world.dispatcher, case, "dispatch", params={"unit": world.safety_bureau.code})
    act(world.handler, case, "sign")
    act(world.handler, case, "reply", opinion="已派人维修", fields={"reply": "已更换灯泡，联系人王小明确认"})
    return fresh(case)


def closed(world, case):
    answered(world, case)
    act(world.dispatcher, case, "visit_satisfied", opinion="电话回访满意")
    return fresh(case)


PERSONAS = ["anonymous", "resident", "dispatcher", "outsider"]


def login_as(client, world, persona):
    if persona != "anonymous":
        client.force_login(getattr(world, persona))


# ---- every page × every kind of visitor ----------------------------------------------------------


@pytest.mark.parametrize("persona", PERSONAS)
def test_public_pages_for_everyone(client, world, django_assert_max_num_queries, persona):
    case = closed(world, submit(client, world)[0])
    client.logout()
    client.cookies.clear()
    login_as(client, world, persona)
    for url in (
        "/portal/",
        "/portal/new/",
        "/portal/track/",
        "/portal/ledger/",
        f"/portal/ledger/{case.number}/",
    ):
        with django_assert_max_num_queries(30):
            response = client.get(url)
        assert response.status_code == 200, url
    body = client.get("/portal/ledger/").content.decode()
    assert case.number in body and "13912345678" not in body
    assert client.get("/portal/submitted/")["Location"] == "/portal/"  # nothing submitted in this session


@pytest.mark.parametrize("persona", PERSONAS)
def test_submit_and_track_for_everyone(client, world, django_assert_max_num_queries, persona):
    login_as(client, world, persona)
    # filing runs the engine (with the case's party rows) and the similar-case index (about 25 queries of
    # their own)
    with django_assert_max_num_queries(41):
        response = client.post("/portal/new/", demand_form(world))
    assert response.status_code == 302
    with django_assert_max_num_queries(30):
        page = client.get("/portal/submitted/").content.decode()
    code = re.search(r'id="ticket-code">([^<]+)<', page).group(1)
    with django_assert_max_num_queries(30):
        tracked = client.get(f"/portal/track/?code={quote(code)}")
    assert tracked.status_code == 200 and "小区门口路灯不亮" in tracked.content.decode()
    case = Case.objects.get()
    expected = world.resident if persona == "resident" else portal_user()
    assert case.reporter == expected


def test_my_demands_page(client, world, django_assert_max_num_queries):
    client.force_login(world.resident)
    case, _ = submit(client, world)
    with django_assert_max_num_queries(30):
        home = client.get("/portal/").content.decode()
    assert "我的诉求" in home and f"/portal/mine/{case.number}/" in home
    with django_assert_max_num_queries(30):
        assert client.get(f"/portal/mine/{case.number}/").status_code == 200
    client.force_login(world.dispatcher)
    assert client.get(f"/portal/mine/{case.number}/").status_code == 404  # staff use the case page
    client.force_login(world.outsider)
    assert client.get(f"/portal/mine/{case.number}/").status_code == 404
    client.logout()
    assert client.get(f"/portal/mine/{case.number}/")["Location"].startswith("/login/")


# ---- submitting ----------------------------------------------------------------------------------


def test_anonymous_demand_is_filed_by_the_portal_account_with_the_contact_in_its_fields(client, world):
    case, code = submit(client, world, photos=[jpeg()])
    account = portal_user()
    assert account.username == PORTAL_USERNAME and not account.is_active and not account.has_usable_password()
    assert (case.reporter, case.channel, case.state, case.division) == (
        account,
        "web",
        "accepted",
        world.community,
    )
    assert case.data == {"caller_name": "王小明", "caller_phone": "13912345678", "topic": "路灯"}
    assert case.transitions.get().attachments.count() == 1
    ticket = PortalTicket.objects.get()
    assert ticket.case == case and ticket.anonymous
    number, secret = code.rsplit("-", 1)
    assert number == case.number and len(secret) == 10 and ticket.digest == digest(secret)
    assert secret not in ticket.digest and ticket.client and "127.0.0.1" not in ticket.client


def test_anonymous_hazard_keeps_the_contact_beside_the_fields(client, world):
    case, _ = submit(
        client,
        world,
        mechanism="hazard",
        category="fire",
        title="楼道电动车充电",
        **{"field-hazard_place": "一楼楼道", "field-topic": ""},
    )
    assert case.mechanism == "hazard" and case.channel == "resident"
    assert case.data == {
        "hazard_place": "一楼楼道",
        "portal_contact": {"name": "王小明", "phone": "13912345678"},
    }


def test_an_anonymous_hazard_is_rated_after_it_is_dealt_with(client, world):
    case, code = submit(client, world, mechanism="hazard", category="fire", title="消防通道堵塞")
    act(world.dispatcher, case, "reject", opinion="经核实已自行清理")
    page = client.get(f"/portal/track/?code={quote(code)}").content.decode()
    assert "不予立案" in page and "经核实已自行清理" in page and "评价办理结果" in page
    assert client.post("/portal/rate/", {"code": code, "satisfaction": "unsatisfied"}).status_code == 302
    assert fresh(case).data["satisfaction"] == "unsatisfied"


def test_a_signed_in_resident_files_as_themselves(client, world):
    client.force_login(world.resident)
    form = client.get("/portal/new/").context
    assert form["contact_name"].value == world.resident.display_name
    case, _ = submit(client, world)
    assert case.reporter == world.resident and not PortalTicket.objects.get().anonymous


def test_honeypot_refuses_bots_without_filing(client, world):
    response = client.post("/portal/new/", demand_form(world, website="http://spam.example"))
    assert response.status_code == 400
    assert "提交未被受理" in response.content.decode()
    assert Case.objects.count() == 0


def test_rate_limit_per_address(client, world, settings):
    settings.TAIZHANG_PORTAL_MAX_PER_HOUR = 2
    submit(client, world, idempotency_key="a")
    submit(client, world, idempotency_key="b")
    response = client.post("/portal/new/", demand_form(world, idempotency_key="c"))
    assert response.status_code == 429
    assert "提交过于频繁" in response.content.decode() and Case.objects.count() == 2
    # a resend of a form already filed is not a new filing
    assert client.post("/portal/new/", demand_form(world, idempotency_key="b")).status_code == 302


def test_a_resend_files_once_and_both_codes_work(client, world):
    case, first = submit(client, world, photos=[jpeg()])
    again, second = submit(client, world, photos=[jpeg()])
    assert again == case and first != second
    assert Case.objects.count() == 1 and case.transitions.get().attachments.count() == 1
    for code in (first, second):
        assert client.get(f"/portal/track/?code={quote(code)}").status_code == 200


def test_errors_keep_the_input_but_no_photo(client, world):
    response = client.post("/portal/new/", demand_form(world, title="", contact_phone="abc", photos=[jpeg()]))
    assert response.status_code == 422
    body = response.content.decode()
    assert "请填写标题" not in body  # the contact is checked before the engine
    assert "电话号码格式不对" in body and 'value="abc"' in body and 'value="和心社区3号楼"' in body
    response = client.post("/portal/new/", demand_form(world, title="", photos=[jpeg()]))
    assert response.status_code == 422
    body = response.content.decode()
    # a refused form stores nothing (tests/security/test_upload_quotas.py): the photo is chosen again
    assert "请填写标题" in body and 'aria-invalid="true"' in body and "1 张照片没有保存" in body
    assert "kept_photos" not in body and Attachment.objects.count() == 0
    case, _ = submit(client, world, photos=[jpeg()])
    assert case.transitions.get().attachments.count() == 1


# ---- tracking and rating -------------------------------------------------------------------------


def test_wrong_or_malformed_code_is_a_clear_error(client, world):
    case, code = submit(client, world)
    wrong = code[:-1] + ("A" if code[-1] != "A" else "B")
    response = client.get(f"/portal/track/?code={quote(wrong)}")
    assert response.status_code == 404
    body = response.content.decode()
    assert "查询码不正确" in body and 'aria-invalid="true"' in body and 'role="alert"' in body
    assert case.title not in body
    response = client.get("/portal/track/?code=hello")
    assert response.status_code == 422 and "查询码格式不对" in response.content.decode()
    # lower case and blanks as typed from an SMS are fine
    assert client.get(f"/portal/track/?code={quote(' ' + code.lower() + ' ')}").status_code == 200


def test_progress_shows_public_states_and_replies_only(client, world):
    case, code = submit(client, world)
    act(world.inspector, case, "flag", opinion="内部监督意见")
    answered(world, case)
    body = client.get(f"/portal/track/?code={quote(code)}").content.decode()
    assert "已答复" in body and "已更换灯泡" in body  # public state name and the public reply
    for private in (
        "内部监督意见",
        "已派人维修",
        world.handler.display_name,
        world.dispatcher.display_name,
        "待回访",
    ):
        assert private not in body


def test_rating_only_after_the_answer_and_only_once(client, world):
    case, code = submit(client, world)
    page = client.get(f"/portal/track/?code={quote(code)}").content.decode()
    assert "评价办理结果" not in page
    response = client.post("/portal/rate/", {"code": code, "satisfaction": "satisfied"})
    assert response.status_code == 409 and "办理答复或办结之后才能评价" in response.content.decode()
    closed(world, case)
    page = client.get(f"/portal/track/?code={quote(code)}").content.decode()
    assert "评价办理结果" in page and 'value="basic"' in page
    missing = client.post("/portal/rate/", {"code": code, "satisfaction": ""})
    assert missing.status_code == 422 and "请填写满意度" in missing.content.decode()
    response = client.post("/portal/rate/", {"code": code, "satisfaction": "basic", "comment": "修得挺快"})
    assert response.status_code == 302
    row = Transition.objects.get(case=case, code="rate")
    assert (row.actor, row.role, row.opinion, row.public) == (portal_user(), "reporter", "修得挺快", True)
    assert row.changes["fields.satisfaction"] == ["satisfied", "basic"]
    assert fresh(case).state == "closed"
    page = client.get(f"/portal/track/?code={quote(code)}").content.decode()
    assert "评价办理结果" not in page and "您的评价" in page and "基本满意" in page and "修得挺快" in page
    again = client.post("/portal/rate/", {"code": code, "satisfaction": "unsatisfied"})
    assert again.status_code == 409 and "只能办理一次" in again.content.decode()
    assert Transition.objects.filter(case=case, code="rate").count() == 1


def test_a_rating_equal_to_the_visit_still_shows(client, world):
    case, code = submit(client, world)
    closed(world, case)  # 回访满意 already recorded 满意
    client.post("/portal/rate/", {"code": code, "satisfaction": "satisfied"})
    assert "fields.satisfaction" not in Transition.objects.get(case=case, code="rate").changes
    view = client.get(f"/portal/track/?code={quote(code)}").context["view"]
    assert view.rating.rating == "满意"


def test_resident_rates_in_replied_state_from_their_own_page(client, world):
    client.force_login(world.resident)
    case, code = submit(client, world)
    answered(world, case)
    page = client.get(f"/portal/mine/{case.number}/").content.decode()
    assert "评价办理结果" in page
    response = client.post(
        "/portal/rate/", {"number": case.number, "satisfaction": "unsatisfied", "comment": "没修好"}
    )
    assert response["Location"] == f"/portal/mine/{case.number}/"
    assert Transition.objects.get(case=case, code="rate").actor == world.resident
    # the staff 回访 still follows, and remains what the KPIs count
    act(
        world.dispatcher, case, "visit_unsatisfied", opinion="回访不满意", fields={"visit_note": "路灯仍不亮"}
    )
    assert fresh(case).state == "handling"
    assert "rate" not in visit_transitions(get_mechanism("demand"))
    # a code holder cannot rate a registered resident's case for them
    client.logout()
    response = client.post("/portal/rate/", {"code": code, "satisfaction": "satisfied"})
    assert response.status_code in (403, 409)


def test_engine_refuses_a_second_rating_and_hazards_from_staff_are_not_rated(world):
    from taizhang.cases.actions import TransitionRequest, do_transition
    from taizhang.cases.create import CaseInput, do_create_case

    case, _ = do_create_case(
        world.resident,
        CaseInput(mechanism="demand", title="噪音扰民", division=world.grid.code, category="complaint"),
    )
    closed(world, case)
    do_transition(
        world.resident, case.pk, TransitionRequest(code="rate", fields={"satisfaction": "satisfied"})
    )
    err = error_of(
        lambda: do_transition(
            world.resident, case.pk, TransitionRequest(code="rate", fields={"satisfaction": "basic"})
        )
    )
    assert (err.status, err.code) == (409, "already_taken")
    assert "rate" not in [t.code for t, _ in available_transitions(world.resident, fresh(case))]
    hazard, _ = do_create_case(
        world.grid_worker,
        CaseInput(mechanism="hazard", title="配电箱破损", division=world.grid.code, category="electrical"),
    )
    act(world.dispatcher, hazard, "reject", opinion="不属于隐患")
    assert "rate" not in [t.code for t, _ in available_transitions(world.grid_worker, fresh(hazard))]


# ---- the public ledger ---------------------------------------------------------------------------


def test_ledger_redacts_personal_data(client, world):
    case, _ = submit(client, world, title="王小明反映13912345678的路灯问题")
    closed(world, case)
    body = client.get("/portal/ledger/").content.decode()
    assert case.number in body
    for secret in ("王小明", "13912345678", "3号楼", "和心社区3号楼"):
        assert secret not in body
    assert "王**" in body and "139****5678" in body and "五马街道 和心社区" in body
    assert "联系人王**确认" in body  # the reply, redacted
    detail = client.get(f"/portal/ledger/{case.number}/").content.decode()
    for secret in ("王小明", "13912345678", "3号楼"):
        assert secret not in detail
    assert "我叫王**" in detail and "*号楼" in detail


def test_ledger_filters_and_pages(client, world, frozen, settings):
    settings.TAIZHANG_PORTAL_MAX_PER_HOUR = 100
    cases = []
    for i in range(22):
        case, _ = submit(
            client,
            world,
            idempotency_key=f"k{i}",
            title=f"诉求{i}",
            category="help" if i % 2 else "complaint",
        )
        cases.append(closed(world, case))
    frozen.move_to(at(2026, 12, 3, 9))
    december, _ = submit(
        client, world, idempotency_key="dec", title="十二月诉求", division=world.other_street.code
    )
    first = client.get("/portal/ledger/")
    assert first.context["page"].paginator.count == 22 and len(first.context["rows"]) == 20
    second = client.get("/portal/ledger/?page=2")
    assert len(second.context["rows"]) == 2
    assert client.get("/portal/ledger/?kind=demand.help").context["page"].paginator.count == 11
    assert client.get("/portal/ledger/?month=2026-12").context["page"].paginator.count == 0
    opened = client.get("/portal/ledger/?status=open")
    assert [r.number for r in opened.context["rows"]] == [december.number]
    assert (
        client.get(f"/portal/ledger/?status=open&division={world.street.code}")
        .context["page"]
        .paginator.count
        == 0
    )
    assert (
        client.get(f"/portal/ledger/?status=open&division={world.other_street.code}&month=2026-12")
        .context["page"]
        .paginator.count
        == 1
    )
    bad = client.get("/portal/ledger/?month=2026-13&kind=nothing")
    assert (
        bad.status_code == 400
        and "月份格式应为" in bad.content.decode()
        and "无效的事项类型" in bad.content.decode()
    )
    assert client.get("/portal/ledger/NOPE-1/").status_code == 404


def test_metoo_on_the_ledger(client, world):
    case, _ = submit(client, world)
    url = f"/portal/ledger/{case.number}/metoo/"
    response = client.post(url, {"next": f"/portal/ledger/{case.number}/"})
    assert response["Location"].startswith("/login/")
    other = type(world.resident).objects.create_user("jumin2", password="x", display_name="邻居")
    from taizhang.org.models import Membership

    Membership.objects.create(user=other, role="resident")
    client.force_login(other)
    response = client.post(url, {"next": "https://evil.example/"})
    assert response["Location"] == f"/portal/ledger/{case.number}/"
    assert CaseSupporter.objects.filter(case=case, user=other).exists()
    page = client.get(f"/portal/ledger/{case.number}/").content.decode()
    assert "共 1 位居民" in page and "您已表示“我也遇到”" in page
    home = client.get("/portal/").content.decode()  # followed under 我的诉求, as its public view
    assert f"/portal/ledger/{case.number}/" in home and f"/portal/mine/{case.number}/" not in home
    assert client.get(f"/portal/mine/{case.number}/").status_code == 404  # support opens nothing more
    client.force_login(world.dispatcher)
    client.post(url)
    assert "只有居民可以附议" in client.get(f"/portal/ledger/{case.number}/").content.decode()


# ---- redaction -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("电话13812345678", "电话138****5678"),
        ("手机 +86 139-1234-5678", "手机 139****5678"),
        ("座机0355-2123456", "座机0355-****56"),
        ("身份证140402199001011234", "身份证140********1234"),
        ("身份证14040219900101123X", "身份证140********123X"),
        ("邮箱 zhang.san@qq.com", "邮箱 z***@***"),
        ("车牌晋D·12345挡道", "车牌晋D·***5挡道"),
        ("住和心社区3号楼2单元501室", "住和心社区*号楼*单元*室"),
        ("东白兔村3组12号3层自建房", "东白兔村*组*号3层自建房"),  # floors describe, doors identify
        ("我叫张三丰，卡号6222021234567890123", "我叫张**，卡号****23"),
        ("联系人：李四", "联系人：李*"),
        ("张小明先生多次反映", "张**先生多次反映"),
        ("12345热线转来，2026年11月", "12345热线转来，2026年11月"),
        ("", ""),
    ],
)
def test_redact_text(text, expected):
    assert redact_text(text) == expected


def test_redact_known_names_and_places(world):
    assert redact_text("欧阳娜娜说路灯坏了，娜娜很着急", ["欧阳娜娜"]) == "欧***说路灯坏了，娜娜很着急"
    assert mask_name("张三") == "张*" and mask_name("王") == "*"
    names = place_names([world.grid.path, world.street.path, world.district.path])
    assert public_place(world.grid.path, names) == "五马街道 和心社区"
    assert public_place(world.street.path, names) == "五马街道"
    assert public_place(world.district.path, names) == "潞州区"

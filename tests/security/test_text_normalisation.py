"""Text is normalised once at intake (taizhang.text), on every path, and every XML and JSON output stays
well-formed — also for text stored before normalisation existed (the XML serialiser drops what XML
cannot carry).

Before the change a control character went into the database as sent (PostgreSQL refuses NUL: a 500),
and the Open311 XML feed carried it raw, so no XML parser could read the feed any more.
"""

# ruff: noqa: F811  (the fixtures imported from open311_support are parameters of the tests)

from __future__ import annotations

import csv
import json
import unicodedata
import xml.etree.ElementTree as ET

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from taizhang.cases.actions import TransitionRequest, do_transition
from taizhang.cases.approvals import do_decide
from taizhang.cases.create import CaseInput, do_create_case
from taizhang.cases.models import Attachment, Case, Transition
from taizhang.intake.open311.render import to_xml
from taizhang.text import normalise_data, normalise_text, xml_safe
from taizhang.web.api.auth import issue_token
from tests.api.conftest import ApiClient, case_body, image_bytes
from tests.intake.open311_support import api_key, frozen, intake_user, o311, report  # noqa: F401

pytestmark = pytest.mark.django_db

# Characters that break things: C0 (NUL, BEL, BS, VT, FF, ESC …), DEL, C1 (NEL), CR, LS/PS,
# noncharacters, and letters with combining marks (not NFC).
NASTY = list("\x00\x01\x07\x08\x0b\x0c\x0e\x1b\x1f\x7f\x80\x85\x9f\r\n\t\u2028\u2029\ufffe\uffff\ufdd0")
NASTY += ["\U0010fffe", "e\u0301", "A\u030a", "\r\n", "\u1100\u1161"]
SURROGATES = ["\ud800", "\udbff", "\udc00", "\udfff"]
# Everything a normalised text may not contain (XML-illegal, other controls, noncharacters).
FORBIDDEN = set(map(chr, [*range(0x00, 0x09), *range(0x0B, 0x20), *range(0x7F, 0xA0)])) | {
    "\ufffe",
    "\uffff",
    "\ufdd0",
    "\U0010fffe",
}


def texts(surrogates: bool) -> st.SearchStrategy[str]:
    """Any text, with the troublesome characters drawn often (surrogates: only a JSON escape can
    carry them; a form's UTF-8 cannot)."""
    pieces = [st.characters(), st.sampled_from(NASTY)]
    if surrogates:
        pieces.append(st.sampled_from(SURROGATES))
    return st.lists(st.one_of(*pieces), max_size=60).map("".join)


def assert_normalised(value: str) -> None:
    assert not FORBIDDEN & set(value), ascii(value)
    assert not any("\ud800" <= c <= "\udfff" for c in value), ascii(value)
    assert "\r" not in value and unicodedata.is_normalized("NFC", value), ascii(value)


def read_back(client, number: str) -> str | None:
    """The request's description from the Open311 feed, in XML (stdlib parser) and in JSON (strict
    UTF-8): both must parse and say the same."""
    xml = client.get(f"/open311/v2/requests/{number}.xml")
    assert xml.status_code == 200
    root = ET.fromstring(xml.content)
    as_json = client.get(f"/open311/v2/requests/{number}.json")
    assert as_json.status_code == 200
    [item] = json.loads(as_json.content.decode("utf-8"))
    [request] = root.findall("request")
    assert request.findtext("service_request_id") == item["service_request_id"] == number
    json_description = item["description"] and xml_safe(item["description"])  # older data: JSON escapes
    assert (request.findtext("description") or None) == (json_description or None)
    listing = client.get("/open311/v2/requests.xml")
    ET.fromstring(listing.content)
    updates = client.get(
        "/open311/v2/servicerequestupdates.xml", {"updated_after": "2026-01-01T00:00:00+08:00"}
    )
    ET.fromstring(updates.content)
    json.loads(client.get("/open311/v2/requests.json").content.decode("utf-8"))
    return item["description"]


HYPOTHESIS = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


# The normalisation itself -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "stored"),
    [
        ("第一行\r\n第二行\r第三行", "第一行\n第二行\n第三行"),
        ("a\x00b\x07c\x1b[31md\x7fe\x85f\x9fg", "abc[31mdefg"),
        ("列1\t列2\n", "列1\t列2\n"),
        ("x\ufffey\uffffz\ufdd0\U0001fffe", "xyz"),
        ("半个\ud800字", "半个\ufffd字"),
        ("Cafe\u0301 \u212b", "Café Å"),
        ("普通文本 plain", "普通文本 plain"),
    ],
)
def test_normalise_text(raw, stored):
    assert normalise_text(raw) == stored
    assert normalise_text(stored) == stored


@given(texts(surrogates=True))
def test_normalised_text_is_clean_and_stable(text):
    once = normalise_text(text)
    assert_normalised(once)
    assert normalise_text(once) == once
    assert normalise_data({text: [text, 1, None]}) == {once: [once, 1, None]}


def test_the_xml_serialiser_drops_what_xml_cannot_carry():
    document = to_xml("errors", [{"code": 400, "description": "a\x00b\x08c\x0bd\x1fe\ufffef\ud800g\tx\ny"}])
    assert ET.fromstring(document).findtext("error/description") == "abcdefg\tx\ny"
    assert xml_safe("\x85\x7f") == "\x85\x7f"  # legal in XML 1.0; intake removes them, output need not


# Arbitrary text through the API and Open311, read back ---------------------------------------------------


@HYPOTHESIS
@given(text=texts(surrogates=True))
def test_any_text_created_through_the_api_reads_back_well_formed(world, frozen, text):
    client = ApiClient(issue_token(world.grid_worker, "prop"))
    # The API's schema refuses a lone surrogate in a string with a length limit (pydantic: 422
    # string_unicode); description and form fields take them to the create action.
    plain = "".join(c for c in text if not "\ud800" <= c <= "\udfff")
    body = case_body(
        world,
        title="标题" + plain[:40],
        description=text,
        address=plain[:100],
        fields={"hazard_place": text[:50]},
    )
    response = client.post("/cases", raw=json.dumps(body))  # ASCII JSON: escapes carry surrogates too
    assert response.status_code == 201, response.content
    number = json.loads(response.content.decode("utf-8"))["number"]
    case = Case.objects.get(number=number)
    sent = json.loads(json.dumps(text))  # as the server reads it: an escaped surrogate pair is one character
    assert case.description == normalise_text(sent).strip()
    for value in (case.title, case.description, case.address, case.transitions.get().opinion):
        assert_normalised(value)
    assert_normalised(case.data.get("hazard_place") or "")
    read_back(client.client, number)
    detail = json.loads(client.get(f"/cases/{number}").content.decode("utf-8"))
    assert detail["description"] == case.description


@HYPOTHESIS
@given(text=texts(surrogates=False))
def test_any_text_posted_to_open311_reads_back_well_formed(o311, report, text):
    params = report(description=text, address_string=text[:100] or None, **{"attribute[topic]": text[:50]})
    response = o311.client.post("/open311/v2/requests.json", params)
    assert response.status_code in (200, 201), response.content.decode()  # 200: the same text again
    [posted] = json.loads(response.content.decode("utf-8"))
    case = Case.objects.get(number=posted["service_request_id"])
    assert case.description == normalise_text(text).strip()
    for value in (case.title, case.description, case.address, case.data.get("topic") or ""):
        assert_normalised(value)
    read_back(o311.client, case.number)


def test_text_stored_before_normalisation_still_reads_as_xml(world, frozen):
    client = ApiClient(issue_token(world.grid_worker, "old"))
    number = client.create(world).json()["number"]
    old = "旧数据\x01\x08\x0b\x0c\x1b\x1f\ufffe\uffff结束"  # PostgreSQL stores all but NUL
    Case.objects.filter(number=number).update(description=old, address=old)
    xml = client.client.get(f"/open311/v2/requests/{number}.xml")
    assert ET.fromstring(xml.content).findtext("request/description") == "旧数据结束"
    read_back(client.client, number)  # the JSON escapes them: well-formed as it is


# Every intake path ---------------------------------------------------------------------------------------

RAW = "第一行\r\n第二\x00行\x0b\x1b[0m\x85Cafe\u0301\ufffe"
CLEAN = "第一行\n第二行[0mCafé"


def test_api_create_and_transition_and_decision(world, frozen):
    grid, dispatcher = (
        ApiClient(issue_token(world.grid_worker, "g")),
        ApiClient(issue_token(world.dispatcher, "d")),
    )
    created = grid.create(world, title="标题\x00" + RAW[:3], description=RAW, address=RAW)
    assert created.status_code == 201, created.content
    case = Case.objects.get(number=created.json()["number"])
    assert (case.title, case.description, case.address) == ("标题第一行", CLEAN, CLEAN)
    step = dispatcher.transition(case.number, "register", opinion=RAW)
    assert step.status_code == 200, step.content
    assert Transition.objects.get(case=case, code="register").opinion == CLEAN


def test_transition_fields_and_approval_requests_and_decisions(world, frozen):
    from tests.cases.helpers import report, to_rectifying

    case = to_rectifying(world, report(world))
    do_transition(
        world.handler,
        case.pk,
        TransitionRequest("extend", opinion=RAW, params={"extend_by": "3 工作日"}),
    )
    case.refresh_from_db()
    assert case.pending["opinion"] == CLEAN
    do_decide(world.leader, case.pk, False, opinion=RAW)
    assert Transition.objects.filter(case=case, kind="refuse").get().opinion == CLEAN


def test_form_field_values(world, frozen):
    data = CaseInput(
        mechanism="hazard",
        title="t",
        division=world.grid.code,
        category="fire",
        fields={"hazard_place": RAW},
        extra={"open311": {"device_id": RAW}},
    )
    case, _ = do_create_case(world.grid_worker, data)
    assert case.data["hazard_place"] == CLEAN and case.data["open311"]["device_id"] == CLEAN


def test_the_report_form(client, world, frozen):
    client.force_login(world.grid_worker)
    form = {
        "idempotency_key": "k-1",
        "mechanism": "hazard",
        "title": "楼道\x1b堵塞",
        "category": "fire",
        "grade": "general",
        "division": world.grid.code,
        "address": RAW,
        "description": RAW,
        "field-hazard_place": RAW,
    }
    response = client.post("/report/new/", form)
    assert response.status_code == 302, response.content.decode()[:1000]
    case = Case.objects.get()
    assert (case.title, case.description, case.address, case.data["hazard_place"]) == (
        "楼道堵塞",
        CLEAN,
        CLEAN,
        CLEAN,
    )


def test_the_portal_form(client, world, frozen):
    form = {
        "idempotency_key": "p-1",
        "mechanism": "demand",
        "category": "complaint",
        "title": "路灯\x00不亮",
        "description": RAW,
        "division": world.community.code,
        "address": RAW,
        "contact_name": "王小明",
        "field-topic": "路灯\x7f",
        "website": "",
    }
    response = client.post("/portal/new/", form)
    assert response.status_code == 302, response.content.decode()[:1000]
    case = Case.objects.get()
    assert (case.title, case.description, case.address, case.data["topic"]) == (
        "路灯不亮",
        CLEAN,
        CLEAN,
        "路灯",
    )


def test_open311_post(o311, report):
    posted = o311.post(**report(description=RAW, address_string=RAW, **{"attribute[topic]": "噪\x0b音"}))
    case = Case.objects.get(number=posted["service_request_id"])
    assert (case.title, case.description, case.address, case.data["topic"]) == (
        "第一行",
        CLEAN,
        CLEAN,
        "噪音",
    )


def test_a_first_line_of_control_characters_is_no_title(o311, report):
    posted = o311.post(**report(description="\x1b\x07\n路灯不亮"))
    assert Case.objects.get(number=posted["service_request_id"]).title == "路灯不亮"


def test_an_open311_address_too_long_is_a_clear_400(o311, report):
    messages = o311.error("requests", 400, method="POST", **report(address_string="路" * 301))
    assert messages == ["address_string：地址不能超过 300 个字"]


def test_the_importer(tmp_path, world, frozen):
    from taizhang.intake.importer.mapping import load_mapping
    from taizhang.intake.importer.run import run_import
    from taizhang.org.models import Membership, User

    user = User.objects.create_user(username="daoru", password="x", display_name="导入专员")
    Membership.objects.create(user=user, role="intake", division=world.district)
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text(
        "mechanism: demand\nreporter: daoru\nexternal_id: 编号\ncreated: {column: 时间, format: ['%Y-%m-%d %H:%M']}\n"
        "division: {column: 区划, default: LZQ}\ncategory: {value: complaint}\ntitle: 标题\ndescription: 内容\n"
        "address: 地址\n",
        encoding="utf-8",
    )
    source = tmp_path / "rows.csv"
    with open(source, "w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows(
            [
                ["编号", "时间", "区划", "标题", "内容", "地址"],
                ["GD-1", "2026-11-20 09:00", "", "路灯\x1b不亮", RAW, RAW],
            ]
        )
    summary = run_import(source, load_mapping(mapping))
    assert summary.imported == 1, summary.lines()
    case = Case.objects.get()
    assert (case.title, case.description, case.address) == ("路灯不亮", CLEAN, CLEAN)


def test_attachment_names(world, frozen):
    client = ApiClient(issue_token(world.grid_worker, "g"))
    response = client.upload("现场\x1b照片\x7fCafe\u0301.jpg", image_bytes(), "image/jpeg")
    assert response.status_code == 201, response.content
    assert Attachment.objects.get().original_name == "现场照片Café.jpg"

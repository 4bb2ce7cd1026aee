"""Open311 GeoReport v2 reads: GET requests, requests/{id}, tokens/{token}, servicerequestupdates."""

# ruff: noqa: F811  (the fixtures imported from open311_support are parameters of the tests)

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from taizhang.cases.actions import TransitionRequest, do_transition
from taizhang.cases.create import CaseInput, do_create_case

from .open311_support import FROZEN_AT, api_key, frozen, intake_user, o311, report  # noqa: F401

pytestmark = pytest.mark.django_db


def act(user, number: str, code: str, **kw):
    kw.setdefault("opinion", "同意")
    return do_transition(user, number, TransitionRequest(code=code, **kw))


@pytest.fixture
def filed(o311, report, intake_user, world, frozen):
    """Three requests: one dispatched to 应急管理局, one invalid (closed), one hazard report."""
    dispatched = o311.post(**report())["service_request_id"]
    frozen.shift(timedelta(minutes=10))
    invalid = o311.post(**report(service_code="demand.consult", description="咨询：办证要带什么？"))
    frozen.shift(timedelta(minutes=10))
    hazard = o311.post(
        **report(service_code="hazard.fire", description="楼道堆物", **{"attribute[topic]": None})
    )
    frozen.shift(timedelta(minutes=10))
    act(intake_user, dispatched, "dispatch", params={"unit": world.safety_bureau.code})
    act(intake_user, invalid["service_request_id"], "invalidate", opinion="重复来电，已合并答复")
    return {
        "dispatched": dispatched,
        "invalid": invalid["service_request_id"],
        "hazard": hazard["service_request_id"],
    }


def test_get_requests(o311, filed):
    data = o311.get("requests", "requests")
    assert [r["service_request_id"] for r in data] == [filed["hazard"], filed["invalid"], filed["dispatched"]]
    by_id = {r["service_request_id"]: r for r in data}
    first = by_id[filed["dispatched"]]
    assert first == {
        "service_request_id": filed["dispatched"],
        "status": "open",
        "status_notes": "派单",  # the dispatcher's opinion is internal, as in the public ledger
        "service_name": "投诉",
        "service_code": "demand.complaint",
        "description": "小区门口夜间施工噪音扰民\n每晚 23 点后仍在施工。",
        "agency_responsible": "潞州区应急管理局",
        "service_notice": "已派单",
        "requested_datetime": "2026-11-24T10:00:00+08:00",
        "updated_datetime": "2026-11-24T10:30:00+08:00",
        "expected_datetime": "2026-11-25T10:30:00+08:00",  # 待签收: 24 小时
        "address": "潞州区",  # the place as the ledger shows it (the case sits on the district)
        "address_id": None,
        "zipcode": None,
        "lat": 36.195,
        "long": 113.116,
        "media_url": None,  # the reporter's photo: not published by demand.yaml
    }
    closed = by_id[filed["invalid"]]
    assert closed["status"] == "closed"
    assert closed["status_notes"] == "无效诉求：重复来电，已合并答复"
    assert closed["agency_responsible"] is None and closed["expected_datetime"] is None
    assert by_id[filed["hazard"]]["status_notes"] == "上报"  # the report's text is the description


def test_get_requests_never_shows_personal_data(o311, filed):
    for fmt in ("json", "xml"):
        body = o311.raw("GET", "requests", fmt).content.decode()
        for secret in ("王小明", "13800000000", "wang@example.com", "邢佳音", "shouli"):
            assert secret not in body


@pytest.mark.parametrize(
    "params, expected",
    [
        ({"service_code": "demand.complaint"}, ["dispatched"]),
        ({"service_code": "demand.complaint,hazard.fire"}, ["hazard", "dispatched"]),
        ({"status": "closed"}, ["invalid"]),
        ({"status": "open"}, ["hazard", "dispatched"]),
        ({"status": "open,closed"}, ["hazard", "invalid", "dispatched"]),
        ({"start_date": "2026-11-24T10:05:00+08:00"}, ["hazard", "invalid"]),
        ({"end_date": "2026-11-24T02:05:00Z"}, ["dispatched"]),
        ({"start_date": "2026-11-24", "end_date": "2026-11-24T10:15:00+08:00"}, ["invalid", "dispatched"]),
        ({"jurisdiction_id": "LZQ"}, ["hazard", "invalid", "dispatched"]),
        ({"jurisdiction_id": "XBTZ"}, []),
    ],
)
def test_get_requests_filters(o311, filed, params, expected):
    data = o311.get("requests", "requests", **params)
    assert [r["service_request_id"] for r in data] == [filed[k] for k in expected]


def test_get_requests_by_ids_ignores_other_filters(o311, filed):
    ids = f"{filed['dispatched']},{filed['hazard']},SQ-2026-999999"
    data = o311.get("requests", "requests", service_request_id=ids, status="closed")
    assert [r["service_request_id"] for r in data] == [filed["hazard"], filed["dispatched"]]


def test_get_requests_defaults_to_the_last_90_days(o311, report, frozen):
    frozen.move_to(FROZEN_AT - timedelta(days=91))
    old = o311.post(**report(description="很久以前的诉求"))["service_request_id"]
    frozen.move_to(FROZEN_AT - timedelta(days=89))
    recent = o311.post(**report(description="近期的诉求"))["service_request_id"]
    frozen.move_to(FROZEN_AT)
    assert [r["service_request_id"] for r in o311.get("requests", "requests")] == [recent]
    ranged = o311.get("requests", "requests", end_date=(FROZEN_AT - timedelta(days=90)).isoformat())
    assert [r["service_request_id"] for r in ranged] == [old]


def test_get_requests_at_most_1000(o311, report, monkeypatch):
    from taizhang.intake.open311 import requests as reqs

    monkeypatch.setattr(reqs, "MAX_ROWS", 2)
    for i in range(3):
        o311.post(**report(description=f"第 {i} 件"))
    assert len(o311.get("requests", "requests")) == 2


@pytest.mark.parametrize(
    "params, status, expected",
    [
        ({"status": "pending"}, 400, "status"),
        ({"start_date": "yesterday"}, 400, "start_date"),
        ({"end_date": "2026-13-01"}, 400, "end_date"),
        ({"end_date": "0001-01-01"}, 400, "end_date：日期须在"),  # was a 500: no UTC value
        ({"start_date": "9999-12-31T23:59:59-12:00"}, 400, "start_date：日期须在"),
        ({"start_date": "2026-11-25", "end_date": "2026-11-24"}, 400, "不能晚于"),
        ({"service_code": "demand.nothing"}, 400, "demand.nothing"),
        ({"jurisdiction_id": "NOPE"}, 404, "NOPE"),
    ],
)
def test_get_requests_errors(o311, params, status, expected):
    messages = o311.error("requests", status, **params)
    assert any(expected in m for m in messages), messages


def test_get_requests_query_count_is_bounded(o311, filed, report, django_assert_max_num_queries):
    for i in range(5):
        o311.post(**report(description=f"又一件 {i}"))
    for fmt in ("json", "xml"):  # the jurisdiction, the cases, their places and their status notes
        with django_assert_max_num_queries(4):
            response = o311.raw("GET", "requests", fmt, {"jurisdiction_id": "LZQ"})
        assert response.status_code == 200
    assert len(o311.get("requests", "requests")) == 8


def test_get_one_request(o311, filed):
    [data] = o311.get(f"requests/{filed['invalid']}", "requests")
    assert data["service_request_id"] == filed["invalid"] and data["status"] == "closed"
    [message] = o311.error("requests/SQ-2026-999999", 404)
    assert "SQ-2026-999999" in message


def test_tokens(o311, report):
    posted = o311.post(**report())
    assert o311.get(f"tokens/{posted['token']}", "tokens") == [
        {"service_request_id": posted["service_request_id"], "token": posted["token"]}
    ]
    assert o311.error("tokens/" + "0" * 64, 404)


def test_updates(o311, filed, intake_user, frozen):
    data = o311.get("servicerequestupdates", "updates", updated_after="2026-11-24T10:00:00+08:00")
    # The first report at 10:00 is not after 10:00; then the other two reports, then 派单 and 无效诉求.
    assert [(u["service_request_id"], u["status"], u["description"]) for u in data] == [
        (filed["invalid"], "open", "上报"),
        (filed["hazard"], "open", "上报"),
        (filed["dispatched"], "open", "派单"),
        (filed["invalid"], "closed", "无效诉求：重复来电，已合并答复"),
    ]
    assert data[0]["updated_datetime"] == "2026-11-24T10:10:00+08:00"
    assert all(len(u["update_id"]) == 64 for u in data)
    later = o311.get("servicerequestupdates", "updates", updated_after=data[-1]["updated_datetime"])
    assert later == []
    one = o311.get(
        "servicerequestupdates", "updates", start_date="2026-11-24", service_request_id=filed["dispatched"]
    )
    assert [u["description"] for u in one] == ["上报", "派单"]
    ended = o311.get(
        "servicerequestupdates", "updates", start_date="2026-11-24", end_date="2026-11-24T10:10:00+08:00"
    )
    assert len(ended) == 2
    assert (
        o311.get("servicerequestupdates", "updates", updated_after="2026-11-24", jurisdiction_id="XBTZ") == []
    )


def test_updates_leave_out_private_rows(o311, filed, world):
    from taizhang.cases.models import Transition

    act(world.inspector, filed["dispatched"], "flag", opinion="派单是否及时？")  # 监督标记: not public
    data = o311.get("servicerequestupdates", "updates", updated_after="2026-11-24T10:20:00+08:00")
    assert "派单是否及时" not in json.dumps(data, ensure_ascii=False)
    assert Transition.objects.filter(code="flag").count() == 1


def test_updates_page_never_splits_an_instant(o311, report, frozen, monkeypatch):
    from taizhang.intake.open311 import requests as reqs

    monkeypatch.setattr(reqs, "MAX_ROWS", 3)
    frozen.move_to(FROZEN_AT + timedelta(minutes=1))
    o311.post(**report(description="甲"))
    o311.post(**report(description="乙"))
    frozen.move_to(FROZEN_AT + timedelta(minutes=2))
    o311.post(**report(description="丙"))
    o311.post(**report(description="丁"))
    first = o311.get("servicerequestupdates", "updates", updated_after=FROZEN_AT.isoformat())
    assert len(first) == 2  # the third row shares 10:02 with a fourth: both wait for the next page
    rest = o311.get("servicerequestupdates", "updates", updated_after=first[-1]["updated_datetime"])
    assert len(rest) == 2


@pytest.mark.parametrize(
    "params, status, expected",
    [
        ({}, 400, "updated_after"),
        ({"updated_after": "nope"}, 400, "updated_after"),
        ({"updated_after": "2026-11-24", "end_date": "x"}, 400, "end_date"),
        ({"updated_after": "0001-01-01"}, 400, "updated_after：日期须在"),  # was a 500
        ({"updated_after": "2026-11-24", "jurisdiction_id": "NOPE"}, 404, "NOPE"),
    ],
)
def test_updates_errors(o311, params, status, expected):
    messages = o311.error("servicerequestupdates", status, **params)
    assert any(expected in m for m in messages), messages


def test_an_error_echoing_control_characters_is_still_well_formed_xml(o311):
    """XML 1.0 cannot carry \\x08 or NUL even escaped: they are left out (found by fuzzing)."""
    import xml.etree.ElementTree as ET

    xml = o311.raw("GET", "requests", "xml", {"jurisdiction_id": "a\x08b"})
    assert xml.status_code == 404
    assert "ab" in ET.fromstring(xml.content).find("error/description").text
    as_json = o311.raw("GET", "requests", "json", {"jurisdiction_id": "a\x08b"})
    assert "a\x08b" in json.loads(as_json.content)[0]["description"]


def test_updates_query_count_is_bounded(o311, filed, report, django_assert_max_num_queries):
    for i in range(5):
        o311.post(**report(description=f"又一件 {i}"))
    with django_assert_max_num_queries(2):
        response = o311.raw("GET", "servicerequestupdates", "xml", {"updated_after": "2026-11-24"})
    assert response.status_code == 200


def test_requests_made_elsewhere_are_listed_too(o311, world):
    case, _ = do_create_case(
        world.grid_worker,
        CaseInput(mechanism="hazard", title="配电箱无防护", division=world.grid.code, category="electrical"),
    )
    [data] = o311.get(f"requests/{case.number}", "requests")
    assert data["service_code"] == "hazard.electrical"
    assert data["lat"] is None and data["media_url"] is None and data["address"] == "五马街道 和心社区"
    assert data["description"] is None

"""The case endpoints of /api/v1: create (idempotent), list (filters, cursor), detail, transitions,
decisions."""

from __future__ import annotations

import json
import re
from datetime import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from taizhang.cases.hashchain import verify_case
from taizhang.cases.models import Case, IdempotencyKey, Transition
from taizhang.org.models import Membership, User
from taizhang.web.api.auth import issue_token
from tests.cases.helpers import act, report, to_rectifying

from .conftest import CST, ApiClient, case_body, refresh

# ---------------------------------------------------------------------------------------------- create


def test_create_returns_201_with_a_yearly_number(api, world):
    first = api["grid_worker"].create(world)
    second = api["grid_worker"].create(world, title="消防栓被圈占")
    assert first.status_code == second.status_code == 201
    body = first.json()
    assert re.fullmatch(r"YH-2026-\d{6}", body["number"])
    assert (body["number"], second.json()["number"]) == ("YH-2026-000001", "YH-2026-000002")
    assert body["state"] == "reported" and body["state_name"] == "待立案" and body["version"] == 1
    assert body["channel"] == "grid" and body["reporter"] == "韩晓晴"
    assert body["division"] == {"code": "WMJD-HX-01", "name": "和心社区第一网格"}
    assert body["due_at"] is not None and body["overdue"] is False


def test_same_idempotency_key_and_body_returns_the_same_case(api, world):
    first = api["grid_worker"].create(world, key="pad-0001")
    retry = api["grid_worker"].create(world, key="pad-0001")
    assert first.status_code == 201 and retry.status_code == 200
    assert retry.json()["id"] == first.json()["id"] and retry.json()["number"] == first.json()["number"]
    assert Case.objects.count() == 1 and Transition.objects.count() == 1


def test_same_idempotency_key_with_another_body_is_409(api, world):
    assert api["grid_worker"].create(world, key="pad-0001").status_code == 201
    response = api["grid_worker"].create(world, key="pad-0001", title="另一个隐患")
    assert response.status_code == 409
    assert response.json()["code"] == "idempotency_key_reused"
    assert Case.objects.count() == 1


def test_idempotency_keys_belong_to_one_person(api, world):
    assert api["grid_worker"].create(world, key="k-1").status_code == 201
    assert api["dispatcher"].create(world, key="k-1", channel="hotline").status_code == 201
    assert Case.objects.count() == 2 and IdempotencyKey.objects.count() == 2


def test_without_a_key_every_post_creates(api, world):
    assert api["grid_worker"].create(world).status_code == 201
    assert api["grid_worker"].create(world).status_code == 201
    assert Case.objects.count() == 2


def test_a_refused_create_does_not_burn_the_key(api, world):
    bad = api["grid_worker"].create(world, key="k-2", category="nonsense")
    assert bad.status_code == 422
    assert api["grid_worker"].create(world, key="k-2").status_code == 201


def test_idempotency_key_too_long_is_422(api, world):
    response = api["grid_worker"].create(world, key="k" * 101)
    assert response.status_code == 422
    assert errors_of(response) == {"Idempotency-Key": "too_long"}


@pytest.mark.parametrize(
    "key, overrides, field",
    [
        ("k\x00", {}, "Idempotency-Key"),
        (None, {"division": "WMJD-HX-01\x00"}, "division"),
        (None, {"external_id": "12345-\x00"}, "external_id"),
    ],
)
def test_nul_in_what_creation_looks_up_is_422(api, world, key, overrides, field):
    """PostgreSQL cannot compare text with NUL: each lookup was a 500 there, and nothing is written."""
    response = api["grid_worker"].create(world, key=key, **overrides)
    assert response.status_code == 422 and errors_of(response) == {field: "nul_character"}
    assert not Case.objects.exists()


def errors_of(response) -> dict[str, str]:
    """{field: code} of a 422 answer (each bad field once)."""
    body = response.json()
    assert body["code"] == "invalid", body
    fields = [e["field"] for e in body["errors"]]
    assert len(fields) == len(set(fields)), body["errors"]
    assert all(re.search(r"[\u4e00-\u9fff]", e["message"]) for e in body["errors"]), body["errors"]  # Chinese
    return {e["field"]: e["code"] for e in body["errors"]}


@pytest.mark.parametrize(
    "body,expected",
    [
        pytest.param(
            {}, dict.fromkeys(("mechanism", "title", "division", "category"), "missing"), id="empty"
        ),
        pytest.param(
            {"title": 5, "lat": "north", "fields": [], "attachments": ["x"], "titel": "typo"},
            {
                "title": "string_type",
                "lat": "decimal_parsing",
                "fields": "dict_type",
                "attachments.0": "int_parsing",
                "titel": "extra_forbidden",
            },
            id="types",
        ),
        pytest.param(
            {"title": "长" * 501, "address": "址" * 301, "external_id": "x" * 101},
            {"title": "string_too_long", "address": "string_too_long", "external_id": "string_too_long"},
            id="lengths",
        ),
    ],
)
def test_create_schema_errors_are_one_entry_per_field(api, world, body, expected):
    dropped = {k for k, c in expected.items() if c == "missing"}
    full = {k: v for k, v in case_body(world).items() if k not in dropped}
    response = api["grid_worker"].post("/cases", {**full, **body})
    assert response.status_code == 422
    assert errors_of(response) == expected
    assert Case.objects.count() == 0


@pytest.mark.parametrize(
    "overrides,expected",
    [
        pytest.param({"mechanism": "nosuch"}, {"mechanism": "unknown_mechanism"}, id="mechanism"),
        pytest.param({"division": "NOPE"}, {"division": "unknown_division"}, id="division"),
        pytest.param(
            {
                "title": "   ",
                "category": "ufo",
                "grade": "catastrophic",
                "lat": "91",
                "lon": "200",
                "fields": {"funds": "lots", "nosuch": 1},
                "attachments": [999],
            },
            {
                "title": "required",
                "category": "invalid_choice",
                "grade": "invalid_choice",
                "lat": "out_of_range",
                "lon": "out_of_range",
                "fields.funds": "invalid",
                "fields.nosuch": "unknown_field",
                "attachments": "unknown_attachment",
            },
            id="every-field-at-once",
        ),
        pytest.param(
            {"title": "标" * 201, "lat": "36.19"}, {"title": "too_long", "lon": "required"}, id="title-lat"
        ),
    ],
)
def test_create_content_errors_are_one_entry_per_field(api, world, overrides, expected):
    response = api["grid_worker"].create(world, **overrides)
    assert response.status_code == 422
    assert errors_of(response) == expected
    assert Case.objects.count() == 0


def test_channel_is_required_for_roles_without_a_fixed_one(api, world):
    response = api["dispatcher"].create(world)
    assert response.status_code == 422 and errors_of(response) == {"channel": "invalid_choice"}
    assert api["dispatcher"].create(world, channel="hotline").json()["channel"] == "hotline"


def test_someone_elses_or_a_used_photo_cannot_be_attached(api, world, photo):
    mine, theirs = photo(world.grid_worker), photo(world.dispatcher)
    response = api["grid_worker"].create(world, attachments=[mine, theirs])
    assert response.status_code == 422 and errors_of(response) == {"attachments": "unknown_attachment"}
    assert api["grid_worker"].create(world, attachments=[mine]).status_code == 201
    again = api["grid_worker"].create(world, attachments=[mine])
    assert again.status_code == 422 and errors_of(again) == {"attachments": "unknown_attachment"}


@pytest.mark.parametrize("raw", ["{bad json", '{"title": "x",}', "\x00"])
def test_malformed_json_is_400(api, world, raw):
    response = api["grid_worker"].post("/cases", raw=raw)
    assert response.status_code == 400
    assert response.json()["code"] == "malformed_body"
    case = report(world)
    response = api["dispatcher"].post(f"/cases/{case.number}/transitions", raw=raw)
    assert response.status_code == 400


@pytest.mark.parametrize("raw", ["[1, 2]", '"text"', "5", "null"])
def test_json_that_is_not_an_object_is_422(api, raw):
    response = api["grid_worker"].post("/cases", raw=raw)
    assert response.status_code == 422
    assert errors_of(response) == {"body": "model_attributes_type"}
    assert response.json()["errors"][0]["message"] == "请求体应为 JSON 对象"


# ---------------------------------------------------------------------------------------------- list filters


@pytest.fixture
def dataset(world, frozen):
    """Five cases spread over the district, three days, every filter dimension; the leader sees them all."""
    frozen.move_to(datetime(2026, 11, 20, 9, 0, tzinfo=CST))
    fire = report(world, title="楼道堆放杂物", address="和心社区3号楼")
    frozen.move_to(datetime(2026, 11, 23, 9, 0, tzinfo=CST))
    gas = report(
        world,
        world.dispatcher,
        title="餐馆燃气软管老化",
        division=world.community.code,
        category="gas",
        grade="larger",
        channel="hotline",
        address="和心社区底商",
    )
    act(world.dispatcher, gas, "register")
    frozen.move_to(datetime(2026, 11, 24, 7, 30, tzinfo=CST))  # still 11-23 in UTC: dates are local
    building = report(
        world,
        world.leader,
        title="自建房墙体开裂",
        division=world.other_grid.code,
        category="building",
        grade="major",
        channel="inspection",
    )
    act(world.leader, building, "register")
    act(world.leader, building, "assign", params={"unit": world.workshop.code})
    electric = report(world, world.resident, title="电动车楼道充电", category="electrical")
    to_rectifying(world, electric)
    closed = report(world, title="消防栓被圈占")
    act(world.dispatcher, closed, "reject", opinion="重复上报")
    frozen.move_to(datetime(2026, 11, 24, 10, 0, tzinfo=CST))
    # 超期 as the timer worker would record it; a closed case is never overdue.
    late = datetime(2026, 11, 24, 9, 30, tzinfo=CST)
    Case.objects.filter(pk__in=[electric.pk, closed.pk]).update(overdue_since=late)
    return {"fire": fire, "gas": gas, "building": building, "electric": electric, "closed": closed}


def listed(client: ApiClient, params) -> set[str]:
    response = client.get("/cases", params)
    assert response.status_code == 200, response.json()
    return {item["title"] for item in response.json()["items"]}


FIRE, GAS, BUILDING = "楼道堆放杂物", "餐馆燃气软管老化", "自建房墙体开裂"
ELECTRIC, CLOSED = "电动车楼道充电", "消防栓被圈占"
ALL = {FIRE, GAS, BUILDING, ELECTRIC, CLOSED}


@pytest.mark.parametrize(
    "params,expected",
    [
        ({}, ALL),
        ({"mechanism": "hazard"}, ALL),
        ({"state": "reported"}, {FIRE}),
        ({"state": ["reported", "registered"]}, {FIRE, GAS}),
        ({"state": ["rectifying", "rejected"]}, {ELECTRIC, CLOSED}),
        ({"state_kind": "closed"}, {CLOSED}),
        ({"state_kind": "waiting"}, {BUILDING}),
        ({"unit": "LZQ-YJJ"}, {ELECTRIC}),
        ({"unit": "QY-JRHG"}, {BUILDING}),  # the enterprise's subtree holds the workshop the case went to
        ({"unit": "QY-JRHG-01"}, {BUILDING}),
        ({"unit": "LZQ-SWJ"}, set()),
        ({"division": "LZQ"}, ALL),
        ({"division": "WMJD"}, {FIRE, GAS, ELECTRIC, CLOSED}),
        ({"division": "WMJD-HX"}, {FIRE, GAS, ELECTRIC, CLOSED}),
        ({"division": "WMJD-HX-01"}, {FIRE, ELECTRIC, CLOSED}),  # the gas case sits on the community itself
        ({"division": "XBTZ"}, {BUILDING}),
        ({"grade": "major"}, {BUILDING}),
        ({"grade": "larger"}, {GAS}),
        ({"grade": "general"}, {FIRE, ELECTRIC, CLOSED}),
        ({"category": "gas"}, {GAS}),
        ({"category": "fire"}, {FIRE, CLOSED}),
        ({"channel": "resident"}, {ELECTRIC}),
        ({"channel": "hotline"}, {GAS}),
        ({"channel": "grid"}, {FIRE, CLOSED}),
        ({"overdue": "true"}, {ELECTRIC}),
        ({"overdue": "false"}, {FIRE, GAS, BUILDING, CLOSED}),
        ({"created_from": "2026-11-23"}, {GAS, BUILDING, ELECTRIC, CLOSED}),
        ({"created_to": "2026-11-20"}, {FIRE}),
        ({"created_to": "2026-11-23"}, {FIRE, GAS}),
        ({"created_from": "2026-11-24"}, {BUILDING, ELECTRIC, CLOSED}),
        ({"created_from": "2026-11-23", "created_to": "2026-11-23"}, {GAS}),
        ({"created_from": "2026-11-21", "created_to": "2026-11-22"}, set()),
        ({"q": "杂物"}, {FIRE}),
        ({"q": "底商"}, {GAS}),  # the address
        ({"q": "楼道"}, {FIRE, ELECTRIC}),
        ({"q": "楼道 充电"}, {ELECTRIC}),  # every word must match
        ({"q": "YH-2026-000002"}, {GAS}),  # the number
        ({"q": "不存在的词"}, set()),
        ({"division": "WMJD", "state": "reported", "category": "fire", "overdue": "false"}, {FIRE}),
    ],
)
def test_list_filters(api, dataset, params, expected):
    assert listed(api["leader"], params) == expected


@pytest.mark.parametrize(
    "name, day",
    [
        ("created_from", "0001-01-01"),
        ("created_to", "9999-12-31"),
        ("closed_from", "1899-12-31"),
        ("closed_to", "3000-01-01"),
    ],
)
def test_days_out_of_range_are_422_not_500(api, world, name, day):
    """0001-01-01 has no midnight in UTC and 9999-12-31 no day after it: both were an OverflowError."""
    response = api["leader"].get("/cases", {name: day})
    assert response.status_code == 422, response.content
    assert [(e["field"], e["code"]) for e in response.json()["errors"]] == [(name, "date_out_of_range")]


@pytest.mark.parametrize("day", ["0", "1700000000", "2026-1-5", "２０２６-１１-２４"])
def test_a_day_is_yyyy_mm_dd_not_a_timestamp(api, world, day):
    """Pydantic alone read "0" as 1970-01-01 (a Unix timestamp): found by schemathesis."""
    response = api["leader"].get("/cases", {"created_from": day})
    assert response.status_code == 422
    assert [(e["field"], e["code"]) for e in response.json()["errors"]] == [("created_from", "date_parsing")]


def test_filters_never_widen_what_a_person_sees(api, dataset):
    assert listed(api["grid_worker"], {"division": "XBTZ"}) == set()
    assert listed(api["grid_worker"], {"division": "LZQ"}) == {FIRE, ELECTRIC, CLOSED}
    assert listed(api["resident"], {}) == {ELECTRIC}
    assert listed(api["handler"], {}) == {ELECTRIC}
    assert listed(api["handler"], {"unit": "LZQ-SWJ"}) == set()


@pytest.mark.parametrize(
    "params,expected",
    [
        ({"unit": "NOPE"}, {"unit": "unknown_unit"}),
        ({"mechanism": "nosuch"}, {"mechanism": "unknown_mechanism"}),
        ({"division": "NOPE"}, {"division": "unknown_division"}),
        ({"unit": "NOPE", "division": "NOPE"}, {"unit": "unknown_unit", "division": "unknown_division"}),
        ({"created_from": "2026-11-24", "created_to": "2026-11-20"}, {"created_from": "invalid_range"}),
        ({"created_from": "2026-13-01"}, {"created_from": "date_from_datetime_parsing"}),
        ({"overdue": "maybe"}, {"overdue": "bool_parsing"}),
        ({"state_kind": "sleeping"}, {"state_kind": "invalid_choice"}),
        ({"limit": "many"}, {"limit": "int_parsing"}),
        ({"limit": 0}, {"limit": "out_of_range"}),
        ({"limit": 201}, {"limit": "out_of_range"}),
        ({"cursor": "!!!"}, {"cursor": "invalid_cursor"}),
        ({"cursor": "bm9wZQ"}, {"cursor": "invalid_cursor"}),  # base64 of "nope"
        ({"cursor": "eHg6MQ"}, {"cursor": "invalid_cursor"}),  # base64 of "xx:1"
        ({"cursor": "aWQ6YWJj"}, {"cursor": "invalid_cursor"}),  # base64 of "id:abc"
    ],
)
def test_bad_list_parameters_are_422(api, dataset, params, expected):
    response = api["leader"].get("/cases", params)
    assert response.status_code == 422
    errors = errors_of(response)
    if expected == {"created_from": "date_from_datetime_parsing"}:
        assert set(errors) == {"created_from"}  # pydantic's exact code for a bad date varies by input
    else:
        assert errors == expected


# ---------------------------------------------------------------------------------------------- pagination


def walk(client: ApiClient, limit: int, **params) -> list[list[int]]:
    pages, cursor = [], None
    while True:
        query = {"limit": limit, **params, **({"cursor": cursor} if cursor else {})}
        body = client.get("/cases", query).json()
        pages.append([item["id"] for item in body["items"]])
        cursor = body["next_cursor"]
        if cursor is None:
            return pages
        assert len(pages) < 50, "the cursor does not advance"


def test_cursor_pagination_walks_every_case_exactly_once(api, world):
    ids = [report(world, title=f"隐患 {i}").pk for i in range(7)]
    pages = walk(api["leader"], 3)
    assert [len(p) for p in pages] == [3, 3, 1]
    flat = [i for p in pages for i in p]
    assert flat == sorted(ids, reverse=True)  # newest first, each once
    assert walk(api["leader"], 7) == [sorted(ids, reverse=True)]  # exactly a page: no empty trailing page
    assert walk(api["leader"], 200) == [sorted(ids, reverse=True)]


def test_cursor_pages_stay_stable_while_cases_are_added(api, world):
    ids = [report(world, title=f"隐患 {i}").pk for i in range(5)]
    first = api["leader"].get("/cases", {"limit": 2}).json()
    newer = report(world, title="翻页期间新上报").pk
    rest = walk(api["leader"], 2, cursor=first["next_cursor"])
    seen = [item["id"] for item in first["items"]] + [i for p in rest for i in p]
    assert seen == sorted(ids, reverse=True) and newer not in seen


def test_cursor_pagination_respects_filters(api, world):
    for i in range(4):
        report(world, title=f"消防 {i}")
        report(world, title=f"燃气 {i}", category="gas")
    pages = walk(api["leader"], 3, category="gas")
    assert [len(p) for p in pages] == [3, 1]
    assert {c.category for c in Case.objects.filter(pk__in=[i for p in pages for i in p])} == {"gas"}


def test_empty_list(api, world):
    assert api["leader"].get("/cases").json() == {"items": [], "next_cursor": None}


# ---------------------------------------------------------------------------------------------- query counts


def list_queries(client: ApiClient, params=None) -> tuple[int, int]:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get("/cases", {"limit": 200, **(params or {})})
    assert response.status_code == 200
    return len(ctx.captured_queries), len(response.json()["items"])


@pytest.mark.parametrize(
    "persona,params",
    [
        ("leader", {}),
        ("grid_worker", {}),
        ("handler", {}),
        ("resident", {}),
        ("leader", {"division": "WMJD", "unit": "LZQ-YJJ", "state": ["rectifying", "reported"], "q": "隐患"}),
    ],
)
def test_list_query_count_does_not_grow_with_cases(
    api, world, persona, params, django_assert_max_num_queries
):
    def add(n):
        for i in range(n):
            case = report(world, world.resident if i % 3 == 0 else world.grid_worker, title=f"隐患 {i}")
            if i % 2:
                to_rectifying(world, case)

    api[persona].get("/mechanisms")  # the token's last-used stamp is written now, not during the measurement
    add(5)
    few, n_few = list_queries(api[persona], params)
    add(25)
    many, n_many = list_queries(api[persona], params)
    assert n_many > n_few  # the second list really returned more rows ...
    assert many == few  # ... with the same number of queries
    # the address's failed-token count + token + roles + the page + its parties (+ one per unit/division
    # code filtered on)
    assert many == 5 + ("unit" in params) + ("division" in params)
    with django_assert_max_num_queries(7):
        api[persona].get("/cases", {"limit": 200, **params})


def test_list_returns_what_it_counts(api, world):
    for i in range(30):
        report(world, title=f"隐患 {i}")
    _, n = list_queries(api["leader"])
    assert n == 30


def test_detail_query_count_does_not_grow_with_history(api, world, photo):
    def detail_queries(case):
        with CaptureQueriesContext(connection) as ctx:
            assert api["dispatcher"].get(f"/cases/{case.number}").status_code == 200
        return len(ctx.captured_queries)

    api["dispatcher"].get("/mechanisms")  # stamp the token's last use before measuring
    short = report(world)
    long = report(world)
    to_rectifying(world, long)
    for _ in range(5):
        act(world.dispatcher, long, "urge")
    act(world.handler, long, "rectified", attachments=[photo(world.handler), photo(world.handler)])
    assert detail_queries(long) == detail_queries(short)


# ---------------------------------------------------------------------------------------------- detail


def test_detail_has_history_in_order_with_hashes(api, world, photo):
    case = report(world)
    to_rectifying(world, case)
    act(world.dispatcher, case, "urge", opinion="请本周内完成")
    shot = photo(world.handler)
    act(world.handler, case, "rectified", attachments=[shot], opinion="已清理")
    body = api["dispatcher"].get(f"/cases/{case.number}").json()
    history = body["history"]
    assert [h["seq"] for h in history] == [1, 2, 3, 4, 5, 6]
    assert [h["code"] for h in history] == ["create", "register", "assign", "sign", "urge", "rectified"]
    assert [(h["from_state"], h["to_state"]) for h in history][:4] == [
        ("", "reported"),
        ("reported", "registered"),
        ("registered", "assigned"),
        ("assigned", "rectifying"),
    ]
    rows = list(Transition.objects.filter(case=case).order_by("seq"))
    assert [h["hash"] for h in history] == [r.hash for r in rows]
    assert all(re.fullmatch(r"[0-9a-f]{64}", h["hash"]) for h in history)
    assert verify_case(refresh(case)) is None
    assert history[2]["changes"]["unit_id"][1] == world.safety_bureau.pk
    assert history[4]["opinion"] == "请本周内完成" and history[4]["role"] == "派遣员"
    assert [a["id"] for a in history[5]["attachments"]] == [shot]
    assert history[5]["attachments"][0]["url"] == f"/api/v1/attachments/{shot}"
    assert body["version"] == 6 and body["state"] == "verifying"


@pytest.mark.parametrize(
    "persona,expected",
    [
        ("dispatcher", {"cordon", "refuse", "urge", "regrade"}),
        ("leader", {"cordon", "refuse", "urge", "suspend", "regrade"}),
        ("handler", {"cordon", "rectified", "extend", "refuse", "park", "suspend"}),
        ("grid_worker", {"cordon"}),
        ("verifier", set()),
        ("inspector", {"urge", "flag"}),
    ],
)
def test_detail_lists_the_actions_open_to_the_caller(api, world, persona, expected):
    case = report(world)
    to_rectifying(world, case)
    actions = api[persona].get(f"/cases/{case.number}").json()["actions"]
    assert {a["code"] for a in actions} == expected
    extend = next((a for a in actions if a["code"] == "extend"), None)
    if extend:
        assert extend["params"] == ["extend_by"] and extend["opinion"] is True
        assert extend["approval"] == "延期审批"


def test_actions_of_a_fresh_report(api, world):
    case = report(world)
    assert {a["code"] for a in api["dispatcher"].get(f"/cases/{case.number}").json()["actions"]} == {
        "register",
        "reject",
        "fix_on_spot",
        "cordon",  # 封控撤离 from the report itself (issue #13)
    }
    gw = {a["code"]: a for a in api["grid_worker"].get(f"/cases/{case.number}").json()["actions"]}
    assert set(gw) == {"fix_on_spot", "cordon"} and gw["fix_on_spot"]["photos"] == 1
    assert api["inspector"].get(f"/cases/{case.number}").json()["actions"][0]["code"] == "flag"


def test_resident_has_no_actions_on_own_report(api, world):
    case = report(world, world.resident)
    assert api["resident"].get(f"/cases/{case.pk}").json()["actions"] == []


def test_pending_request_hides_the_approval_actions(api, world):
    case = report(world)
    to_rectifying(world, case)
    act(world.handler, case, "extend", params={"extend_by": "2 工作日"})
    actions = {a["code"] for a in api["handler"].get(f"/cases/{case.number}").json()["actions"]}
    assert actions == {"cordon", "rectified", "refuse", "suspend"}


def test_unknown_refs_are_404(api, world):
    for ref in ("YH-2026-000001", "999", "not-a-number", "99999999999999999999999"):
        response = api["leader"].get(f"/cases/{ref}")
        assert response.status_code == 404 and response.json()["code"] == "not_found"


# ---------------------------------------------------------------------------------------------- transitions


def test_transition_ok_returns_the_new_detail(api, world):
    case = report(world)
    response = api["dispatcher"].transition(
        case.number, "register", expected_version=1, params={"grade": "larger", "category": "gas"}
    )
    assert response.status_code == 200
    body = response.json()
    assert body["state"] == "registered" and body["version"] == 2
    assert body["grade"] == "larger" and body["category"] == "gas"
    assert body["history"][-1]["changes"]["grade"] == ["general", "larger"]
    assert {a["code"] for a in body["actions"]} >= {"assign"}


def test_transition_from_the_wrong_state_is_409(api, world):
    case = report(world)
    response = api["dispatcher"].transition(case.number, "assign", params={"unit": "LZQ-YJJ"})
    assert response.status_code == 409 and response.json()["code"] == "transition_not_allowed"
    assert refresh(case).version == 1


def test_transition_with_the_wrong_role_is_403(api, world):
    case = report(world)
    response = api["grid_worker"].transition(case.number, "register")
    assert response.status_code == 403 and response.json()["code"] == "role_not_allowed"


def test_transition_on_an_invisible_case_is_404_like_a_missing_one(api, world):
    case = report(world)
    hidden = api["outsider"].transition(case.number, "register")
    missing = api["outsider"].transition("YH-2026-999999", "register")
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json() == missing.json()
    # Not even a stale version or a bad code reveals that the case exists.
    assert api["outsider"].transition(case.number, "register", expected_version=99).status_code == 404
    assert api["outsider"].transition(case.number, "nosuch").status_code == 404


def test_stale_expected_version_is_409_and_writes_nothing(api, world):
    case = report(world)
    before = api["dispatcher"].get(f"/cases/{case.number}").json()
    first = api["leader"].transition(case.number, "register", expected_version=before["version"])
    assert first.status_code == 200
    late = api["dispatcher"].transition(
        case.number, "reject", expected_version=before["version"], opinion="不属实"
    )
    assert late.status_code == 409 and late.json()["code"] == "stale_version"
    after = refresh(case)
    assert after.state == "registered" and after.version == before["version"] + 1
    assert Transition.objects.filter(case=case).count() == len(before["history"]) + 1


def test_two_people_acting_on_the_same_version_one_wins(api, world):
    """Both read version 1; the second write is refused and the case holds only the first."""
    case = report(world)
    version = api["dispatcher"].get(f"/cases/{case.number}").json()["version"]
    first = api["dispatcher"].transition(case.number, "register", expected_version=version)
    second = api["leader"].transition(case.number, "reject", expected_version=version, opinion="重复")
    assert (first.status_code, second.status_code) == (200, 409)
    assert [t.code for t in Transition.objects.filter(case=case).order_by("seq")] == ["create", "register"]
    assert verify_case(refresh(case)) is None


def test_missing_opinion_and_photo_are_422_per_field(api, world):
    case = report(world)
    to_rectifying(world, case)
    response = api["handler"].transition(case.number, "rectified", opinion="  ")
    assert response.status_code == 422
    assert errors_of(response) == {"opinion": "required", "attachments": "photos_required"}
    assert refresh(case).version == 4


def test_required_fields_and_params_are_422_per_field(api, world):
    case = report(world)
    act(world.dispatcher, case, "register")
    response = api["dispatcher"].transition(case.number, "assign", params={})
    assert response.status_code == 422 and errors_of(response) == {"params.unit": "required"}
    response = api["dispatcher"].transition(case.number, "assign", params={"unit": "NOPE"})
    assert errors_of(response) == {"params.unit": "unknown_unit"}
    act(world.dispatcher, case, "assign", params={"unit": world.safety_bureau.code})
    act(world.handler, case, "sign")  # 封控 is recorded once a unit rectifies
    response = api["dispatcher"].transition(case.number, "cordon", opinion="")
    assert errors_of(response) == {"opinion": "required", "fields.cordon": "required"}
    response = api["dispatcher"].transition(case.number, "cordon", fields={"evacuated_people": "many"})
    assert errors_of(response) == {"fields.evacuated_people": "invalid", "fields.cordon": "required"}


def test_transition_schema_errors(api, world):
    case = report(world)
    body = {"opinion": "x", "params": 3, "expected_version": "v1", "atachments": []}
    response = api["dispatcher"].post(f"/cases/{case.number}/transitions", body)
    assert response.status_code == 422
    assert errors_of(response) == {
        "code": "missing",
        "params": "dict_type",
        "expected_version": "int_parsing",
        "atachments": "extra_forbidden",
    }
    response = api["dispatcher"].transition(case.number, "nosuch")
    assert response.status_code == 422 and errors_of(response) == {"code": "unknown_transition"}


@pytest.mark.parametrize(
    "body, field",
    [
        # (free text such as the opinion is normalised at intake instead: tests/security/test_text_normalisation.py)
        ({"params": {"unit": "LZQ-YJJ\x00"}}, "params"),  # a lookup: PostgreSQL cannot compare it
        ({"params": {"co_units": ["\x00"]}}, "params"),
        ({"fields": {"rectify_plan\x00": "x"}}, None),  # the name is normalised, then refused as unknown
    ],
)
def test_nul_in_a_transition_is_422_and_writes_nothing(api, world, body, field):
    """PostgreSQL can neither store nor compare NUL: each of these was a 500 there."""
    case = report(world)
    act(world.dispatcher, case, "register")
    before = refresh(case)
    response = api["dispatcher"].post(f"/cases/{case.number}/transitions", {"code": "assign", **body})
    assert response.status_code == 422
    assert field is None or errors_of(response) == {field: "nul_character"}
    assert refresh(case).version == before.version and case.transitions.count() == 2


@pytest.mark.parametrize("ref", ["²", "①", "1²"])
def test_a_ref_of_non_ascii_digits_is_a_number_not_an_id(api, world, ref):
    """str.isdigit() holds for "²", which int() refuses: GET /cases/² was a 500."""
    response = api["dispatcher"].get(f"/cases/{ref}")
    assert response.status_code == 404 and response.json()["code"] == "not_found"


def test_transition_that_hands_the_case_away_still_answers_200(api, world):
    """退回 clears the unit: the handler may no longer act, but keeps reading it as an earlier lead."""
    case = report(world)
    act(world.dispatcher, case, "register")
    act(world.dispatcher, case, "assign", params={"unit": world.safety_bureau.code})
    response = api["handler"].transition(case.number, "return", opinion="不属我局职责")
    assert response.status_code == 200, response.json()
    assert response.json()["state"] == "registered" and response.json()["unit"] is None
    assert response.json()["actions"] == []
    detail = api["handler"].get(f"/cases/{case.number}")
    assert detail.status_code == 200 and detail.json()["actions"] == []
    assert api["outsider"].get(f"/cases/{case.number}").status_code == 404


def test_verifier_must_not_be_the_rectifier(api, world, photo):
    dual = User.objects.create_user("shuangrole", display_name="双岗人员")
    Membership.objects.create(user=dual, role="handler", unit=world.safety_bureau)
    # The street's verifier (the supervising body) who also rectified for the bureau: the same person.
    Membership.objects.create(user=dual, role="verifier", division=world.street)
    client = ApiClient(issue_token(dual, "test"))
    case = report(world)
    to_rectifying(world, case)
    assert client.transition(case.number, "rectified", attachments=[photo(dual)]).status_code == 200
    response = client.transition(case.number, "pass")
    # a post in the unit that did the work: never its supervisor (the same person besides)
    assert response.status_code == 403 and response.json()["code"] == "role_not_allowed"
    assert api["verifier"].transition(case.number, "pass").status_code == 200


# ---------------------------------------------------------------------------------------------- decisions


@pytest.fixture
def extension(api, world):
    """A rectifying case (due 2026-12-01 end of day) whose handler asked for 3 more working days."""
    case = report(world)
    to_rectifying(world, case)
    response = api["handler"].transition(
        case.number, "extend", params={"extend_by": "3 工作日"}, opinion="整改材料未到货"
    )
    assert response.status_code == 200, response.json()
    return refresh(case)


def local(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(CST)


def test_extension_request_waits_for_approval(api, extension):
    body = api["handler"].get(f"/cases/{extension.number}").json()
    assert body["pending"]["code"] == "extend" and body["pending"]["params"] == {"extend_by": "3 工作日"}
    assert body["history"][-1]["kind"] == "request"
    assert local(body["due_at"]) == datetime(2026, 12, 1, 23, 59, 59, tzinfo=CST)  # unchanged so far


def test_leader_approves_extension_and_due_moves(api, extension):
    body = {"approve": True, "opinion": "同意延期", "expected_version": extension.version}
    response = api["leader"].post(f"/cases/{extension.number}/decision", body)
    assert response.status_code == 200, response.json()
    body = response.json()
    assert local(body["due_at"]) == datetime(2026, 12, 4, 23, 59, 59, tzinfo=CST)  # Tue + 3 working days
    assert body["pending"] is None and body["state"] == "rectifying"
    last = body["history"][-1]
    assert (last["kind"], last["actor"], last["opinion"]) == ("approve", "常建国", "同意延期")
    assert last["changes"]["requested_by"] == [None, "牛志远"]
    assert verify_case(refresh(extension)) is None


def test_refusal_needs_a_reason_and_keeps_the_deadline(api, extension):
    response = api["leader"].post(f"/cases/{extension.number}/decision", {"approve": False})
    assert response.status_code == 422 and errors_of(response) == {"opinion": "required"}
    body = {"approve": False, "opinion": "理由不足"}
    response = api["leader"].post(f"/cases/{extension.number}/decision", body)
    assert response.status_code == 200
    assert response.json()["pending"] is None
    assert local(response.json()["due_at"]) == datetime(2026, 12, 1, 23, 59, 59, tzinfo=CST)
    assert refresh(extension).due_at == extension.due_at
    assert response.json()["history"][-1]["kind"] == "refuse"


def test_requester_cannot_approve_own_request(api, world):
    """A person who is both handler and dispatcher may ask for an extension but not grant it."""
    dual = User.objects.create_user("shuanggang", display_name="双岗人员")
    Membership.objects.create(user=dual, role="handler", unit=world.safety_bureau)
    Membership.objects.create(user=dual, role="dispatcher", division=world.street)
    client = ApiClient(issue_token(dual, "test"))
    case = report(world)
    to_rectifying(world, case)
    assert client.transition(case.number, "extend", params={"extend_by": "3 工作日"}).status_code == 200
    response = client.post(f"/cases/{case.number}/decision", {"approve": True})
    assert response.status_code == 403 and response.json()["code"] == "same_person"
    assert refresh(case).pending is not None
    assert api["dispatcher"].post(f"/cases/{case.number}/decision", {"approve": True}).status_code == 200


def test_decision_errors(api, world, extension):
    ref = extension.number
    stale = api["leader"].post(f"/cases/{ref}/decision", {"approve": True, "expected_version": 1})
    assert stale.status_code == 409 and stale.json()["code"] == "stale_version"
    again = api["handler"].transition(ref, "park", fields={"park_reason": "资金不足"})
    assert again.status_code == 409 and again.json()["code"] == "approval_pending"
    assert api["leader"].post(f"/cases/{ref}/decision", {"approve": True}).status_code == 200
    nothing = api["leader"].post(f"/cases/{ref}/decision", {"approve": True})
    assert nothing.status_code == 409 and nothing.json()["code"] == "no_pending_request"
    bad = api["leader"].post(f"/cases/{ref}/decision", {"approve": "perhaps", "verdict": 1})
    assert bad.status_code == 422
    assert errors_of(bad) == {"approve": "bool_parsing", "verdict": "extra_forbidden"}
    hidden = api["outsider"].post(f"/cases/{ref}/decision", {"approve": True})
    assert hidden.status_code == 404


def test_nul_in_a_decision_opinion_is_422(api, extension):
    """NUL is removed at intake (taizhang.text): an opinion of nothing else is no reason for a refusal."""
    response = api["leader"].post(
        f"/cases/{extension.number}/decision", {"approve": False, "opinion": "\x00"}
    )
    assert response.status_code == 422 and errors_of(response) == {"opinion": "required"}
    assert refresh(extension).pending is not None


@pytest.mark.parametrize("persona,code", [("leader", "urge"), ("inspector", "flag"), ("dispatcher", "urge")])
def test_urge_and_flag_leave_a_waiting_request_waiting(api, extension, persona, code):
    response = api[persona].transition(extension.number, code, opinion="请抓紧")
    assert response.status_code == 200
    assert response.json()["pending"]["code"] == "extend"
    assert "pending_lapsed" not in response.json()["history"][-1]["changes"]
    approved = api["leader"].post(f"/cases/{extension.number}/decision", {"approve": True})
    assert approved.status_code == 200, approved.json()
    assert local(approved.json()["due_at"]) == datetime(2026, 12, 4, 23, 59, 59, tzinfo=CST)


def test_a_move_to_another_state_lapses_a_waiting_request(api, extension, photo, world):
    response = api["handler"].transition(extension.number, "rectified", attachments=[photo(world.handler)])
    assert response.status_code == 200
    assert response.json()["pending"] is None
    assert response.json()["history"][-1]["changes"]["pending_lapsed"] == ["extend", None]


@pytest.mark.parametrize(
    "extend_by,code",
    [
        ("", "required"),
        ("三天", "invalid_duration"),
        ("3 fortnights", "invalid_duration"),
        ("0 工作日", "invalid_duration"),
    ],
)
def test_extension_needs_a_valid_duration(api, world, extend_by, code):
    case = report(world)
    to_rectifying(world, case)
    response = api["handler"].transition(case.number, "extend", params={"extend_by": extend_by})
    assert response.status_code == 422 and errors_of(response) == {"params.extend_by": code}


def test_extension_after_the_deadline_is_409(api, world, frozen):
    case = report(world)
    to_rectifying(world, case)
    frozen.move_to(datetime(2026, 12, 2, 9, 0, tzinfo=CST))
    response = api["handler"].transition(case.number, "extend", params={"extend_by": "3 工作日"})
    assert response.status_code == 409 and response.json()["code"] == "deadline_passed"


# ---------------------------------------------------------------------------------------------- docs


def test_openapi_docs(client):
    assert client.get("/api/v1/docs").status_code == 200
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    schema = json.loads(response.content)
    paths = schema["paths"]
    for path in (
        "/mechanisms",
        "/cases",
        "/cases/{ref}",
        "/cases/{ref}/transitions",
        "/cases/{ref}/decision",
        "/attachments",
        "/attachments/{attachment_id}",
    ):
        assert "/api/v1" + path in paths, path
    assert set(schema["components"]["securitySchemes"]) == {"TokenAuth", "SessionAuth"}


# ---------------------------------------------------------------------------------------------- real races

postgres_only = pytest.mark.skipif(
    "connection.vendor != 'postgresql'", reason="row-level concurrency needs PostgreSQL"
)


def race_http(*calls) -> list:
    """Run HTTP calls in threads (each with its own database connection) that meet at a barrier."""
    import threading

    out: list = [None] * len(calls)

    def run(i, call):
        try:
            out[i] = call()
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return out


def meet_after(monkeypatch, module, name: str, parties: int = 2):
    """Make module.name wait until `parties` callers have all passed it, so they really act at once."""
    import threading

    barrier = threading.Barrier(parties)
    original = getattr(module, name)

    def wrapper(*args, **kwargs):
        result = original(*args, **kwargs)
        barrier.wait(timeout=10)
        return result

    monkeypatch.setattr(module, name, wrapper)


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_two_people_posting_at_once_one_gets_409(world, tokens, monkeypatch):
    from taizhang.cases import actions

    case = report(world)
    act(world.dispatcher, case, "register")
    meet_after(monkeypatch, actions, "check_transition")
    dispatcher, leader = ApiClient(tokens["dispatcher"]), ApiClient(tokens["leader"])
    responses = race_http(
        lambda: dispatcher.transition(case.number, "assign", params={"unit": "LZQ-YJJ"}),
        lambda: leader.transition(case.number, "assign", params={"unit": "LZQ-ZJJ"}),
    )
    assert sorted(r.status_code for r in responses) == [200, 409]
    loser = next(r for r in responses if r.status_code == 409)
    assert loser.json()["code"] == "stale_version"
    case = refresh(case)
    assert case.version == 3
    assert [t.code for t in case.transitions.order_by("seq")] == ["create", "register", "assign"]
    assert verify_case(case) is None


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_a_retry_racing_the_original_never_creates_a_second_case(world, tokens, monkeypatch):
    from taizhang.cases import create

    meet_after(monkeypatch, create, "check_create_case")  # both have missed the key before either writes
    client = ApiClient(tokens["grid_worker"])
    responses = race_http(*(lambda: client.create(world, key="pad-race") for _ in range(2)))
    assert sorted(r.status_code for r in responses) == [200, 201]
    assert responses[0].json()["number"] == responses[1].json()["number"]
    assert Case.objects.count() == 1 and IdempotencyKey.objects.count() == 1

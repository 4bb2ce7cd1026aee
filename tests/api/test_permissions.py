"""Permission matrix: every persona × every API endpoint, with the expected status written out as data.

Personas (tests/conftest.py): grid_worker 和心社区第一网格 · dispatcher 五马街道 ·
handler 应急管理局 · verifier 五马街道 (the supervising body of what the street hands over) ·
leader/inspector 潞州区 · resident (no node) ·
outsider 白兔村第一网格 (another grid) · enterprise_officer 晋瑞化工 (in 西白兔镇) ·
other_handler 水务局 · anon (no credentials).

Rules under test: a unit sees its own cases and those of the units below; a division role sees its subtree;
inspectors read everything and change nothing but flags and urges; residents see only what they reported.
What the caller may not see is 404 (never 403); a visible case with the wrong role is 403; no credentials 401.
"""

from __future__ import annotations

import pytest

from taizhang.cases.models import Case, Transition
from taizhang.org.models import ApiToken

from .conftest import PERSONAS, SCENARIO, ApiClient, build_case, case_body, image_bytes, refresh

EVERYONE = (*PERSONAS, "anon")

# Which scenario cases each persona sees, in GET /cases and GET /cases/{ref}.
GRID_CASES = {"reported", "registered", "assigned", "rectifying", "resident"}
VISIBLE: dict[str, set[str]] = {
    "grid_worker": GRID_CASES,  # their grid
    "dispatcher": GRID_CASES,  # their street's subtree
    "handler": {"assigned", "rectifying"},  # only what is assigned to their unit
    "verifier": GRID_CASES,  # the street's verifier: the street's subtree
    "leader": set(SCENARIO),  # the district
    "inspector": set(SCENARIO),  # discipline inspectors read everything
    "resident": {"resident"},  # only what they reported
    "outsider": {"elsewhere", "enterprise"},  # their own (other) grid
    "enterprise_officer": {"enterprise"},  # what they reported; nothing is assigned to them
    "other_handler": set(),  # another unit: nothing before assignment to it
}


# ---------------------------------------------------------------------------------------------- reading


@pytest.mark.parametrize("persona", EVERYONE)
def test_get_mechanisms(api, persona):
    response = api[persona].get("/mechanisms")
    if persona == "anon":
        assert response.status_code == 401
        assert response.json()["code"] == "unauthenticated"
    else:
        assert response.status_code == 200
        assert "hazard" in [m["code"] for m in response.json()]


@pytest.mark.parametrize("persona", EVERYONE)
def test_list_shows_exactly_the_visible_cases(api, scenario, persona):
    response = api[persona].get("/cases")
    if persona == "anon":
        assert response.status_code == 401
        return
    assert response.status_code == 200
    numbers = {item["number"] for item in response.json()["items"]}
    expected = {scenario[key].number for key in VISIBLE[persona]}
    assert numbers == expected, {k: c.number for k, c in scenario.items()}


@pytest.mark.parametrize("persona", EVERYONE)
def test_detail_is_200_when_visible_and_404_otherwise(api, scenario, persona):
    for key, case in scenario.items():
        for ref in (case.number, str(case.pk)):
            response = api[persona].get(f"/cases/{ref}")
            if persona == "anon":
                assert response.status_code == 401, key
            elif key in VISIBLE[persona]:
                assert response.status_code == 200, key
                assert response.json()["number"] == case.number
            else:
                assert response.status_code == 404, key
                # No leaking: the same answer as for a case that does not exist.
                assert response.json() == api[persona].get("/cases/YH-2026-999999").json()


# ---------------------------------------------------------------------------------------------- creating

# POST /cases at 和心社区第一网格 (五马街道 > 和心社区) and at 白兔村第一网格 (西白兔镇 > 白兔村).
CREATE_AT_GRID = {
    "grid_worker": 201,
    "dispatcher": 201,
    "handler": 403,
    "verifier": 403,
    "leader": 201,
    "inspector": 403,  # discipline inspectors read, flag and urge; they do not file cases
    "resident": 201,  # residents may report anywhere
    "outsider": 403,
    "enterprise_officer": 403,
    "other_handler": 403,
    "anon": 401,
}
CREATE_AT_OTHER_GRID = {
    **CREATE_AT_GRID,
    "grid_worker": 403,
    "dispatcher": 403,
    "outsider": 201,
    "enterprise_officer": 201,
}
CHANNEL_OF = {
    "grid_worker": "grid",
    "resident": "resident",
    "outsider": "grid",
    "enterprise_officer": "self_check",
}


@pytest.mark.parametrize("persona", EVERYONE)
@pytest.mark.parametrize("where,table", [("grid", CREATE_AT_GRID), ("other_grid", CREATE_AT_OTHER_GRID)])
def test_create(api, world, persona, where, table):
    division = getattr(world, where).code
    response = api[persona].post("/cases", case_body(world, division=division, channel="hotline"))
    assert response.status_code == table[persona], response.json()
    if response.status_code == 201:
        assert response.json()["channel"] == CHANNEL_OF.get(persona, "hotline")
        assert response.json()["reporter"] == str(getattr(world, persona))
    else:
        assert Case.objects.count() == 0
        if response.status_code == 403:
            assert response.json()["code"] == "role_not_allowed"


# ---------------------------------------------------------------------------------------------- transitions

OK, FORBIDDEN, HIDDEN, ANON = 200, 403, 404, 401

# (scenario case, transition, body, {persona: status}): one row per question worth asking.
TRANSITION_MATRIX = [
    (
        "reported",
        "register",
        {},
        {
            "grid_worker": FORBIDDEN,
            "dispatcher": OK,
            "handler": HIDDEN,
            "verifier": FORBIDDEN,
            "leader": OK,
            "inspector": FORBIDDEN,
            "resident": HIDDEN,
            "outsider": HIDDEN,
            "enterprise_officer": HIDDEN,
            "other_handler": HIDDEN,
            "anon": ANON,
        },
    ),
    (
        "resident",
        "register",
        {},
        {  # the resident sees their own report but cannot act on it
            "grid_worker": FORBIDDEN,
            "dispatcher": OK,
            "handler": HIDDEN,
            "verifier": FORBIDDEN,
            "leader": OK,
            "inspector": FORBIDDEN,
            "resident": FORBIDDEN,
            "outsider": HIDDEN,
            "enterprise_officer": HIDDEN,
            "other_handler": HIDDEN,
            "anon": ANON,
        },
    ),
    (
        "registered",
        "assign",
        {"params": {"unit": "LZQ-YJJ"}},
        {
            "grid_worker": FORBIDDEN,
            "dispatcher": OK,
            "handler": HIDDEN,
            "verifier": FORBIDDEN,
            "leader": OK,
            "inspector": FORBIDDEN,
            "resident": HIDDEN,
            "outsider": HIDDEN,
            "enterprise_officer": HIDDEN,
            "other_handler": HIDDEN,
            "anon": ANON,
        },
    ),
    (
        "assigned",
        "sign",
        {},
        {
            "grid_worker": FORBIDDEN,
            "dispatcher": FORBIDDEN,
            "handler": OK,
            "verifier": FORBIDDEN,
            "leader": FORBIDDEN,
            "inspector": FORBIDDEN,
            "resident": HIDDEN,
            "outsider": HIDDEN,
            "enterprise_officer": HIDDEN,
            "other_handler": HIDDEN,
            "anon": ANON,
        },
    ),
    (
        "rectifying",
        "urge",
        {},
        {
            "grid_worker": FORBIDDEN,
            "dispatcher": OK,
            "handler": FORBIDDEN,
            "verifier": FORBIDDEN,
            "leader": OK,
            "inspector": OK,
            "resident": HIDDEN,
            "outsider": HIDDEN,
            "enterprise_officer": HIDDEN,
            "other_handler": HIDDEN,
            "anon": ANON,
        },
    ),
    (
        "rectifying",
        "flag",
        {},
        {
            "grid_worker": FORBIDDEN,
            "dispatcher": FORBIDDEN,
            "handler": FORBIDDEN,
            "verifier": FORBIDDEN,
            "leader": FORBIDDEN,
            "inspector": OK,
            "resident": HIDDEN,
            "outsider": HIDDEN,
            "enterprise_officer": HIDDEN,
            "other_handler": HIDDEN,
            "anon": ANON,
        },
    ),
    (
        "elsewhere",
        "flag",
        {},
        {  # inspectors flag anywhere, even in another street
            "grid_worker": HIDDEN,
            "dispatcher": HIDDEN,
            "handler": HIDDEN,
            "verifier": HIDDEN,
            "leader": FORBIDDEN,
            "inspector": OK,
            "resident": HIDDEN,
            "outsider": FORBIDDEN,
            "enterprise_officer": HIDDEN,
            "other_handler": HIDDEN,
            "anon": ANON,
        },
    ),
]


def matrix_cases(matrix):
    return [
        pytest.param(key, code, body, persona, status, id=f"{key}-{code}-{persona}")
        for key, code, body, table in matrix
        for persona, status in table.items()
    ]


def test_transition_matrix_covers_every_persona():
    for key, code, _, table in TRANSITION_MATRIX:
        assert set(table) == set(EVERYONE), (key, code)


@pytest.mark.parametrize("key,code,body,persona,status", matrix_cases(TRANSITION_MATRIX))
def test_transition(api, world, key, code, body, persona, status):
    case = build_case(world, key)
    response = api[persona].transition(case.number, code, **body)
    assert response.status_code == status, response.json()
    after = refresh(case)
    if status == OK:
        assert after.version == case.version + 1
        assert response.json()["history"][-1]["code"] == code
    else:
        assert after.version == case.version and after.transitions.count() == case.version
        expected_code = {FORBIDDEN: "role_not_allowed", HIDDEN: "not_found", ANON: "unauthenticated"}[status]
        assert response.json()["code"] == expected_code


# ---------------------------------------------------------------------------------------------- decisions

# POST /cases/{ref}/decision on a rectifying case where the handler asked for 延期
# (approvers: leader, dispatcher).
DECISION_MATRIX = {
    "grid_worker": FORBIDDEN,
    "dispatcher": OK,
    "handler": FORBIDDEN,
    "verifier": FORBIDDEN,
    "leader": OK,
    "inspector": FORBIDDEN,
    "resident": HIDDEN,
    "outsider": HIDDEN,
    "enterprise_officer": HIDDEN,
    "other_handler": HIDDEN,
    "anon": ANON,
}


@pytest.mark.parametrize("persona", EVERYONE)
def test_decision(api, world, persona):
    case = build_case(world, "rectifying")
    asked = api["handler"].transition(
        case.number, "extend", params={"extend_by": "3 工作日"}, opinion="材料未到货"
    )
    assert asked.status_code == 200 and asked.json()["pending"]["code"] == "extend"
    before = refresh(case)
    response = api[persona].post(f"/cases/{case.number}/decision", {"approve": True, "opinion": "同意"})
    assert response.status_code == DECISION_MATRIX[persona], response.json()
    after = refresh(case)
    if response.status_code == OK:
        assert after.pending is None and after.due_at > before.due_at
    else:
        assert after.version == before.version and after.pending == before.pending


# ---------------------------------------------------------------------------------------------- attachments


@pytest.mark.parametrize("persona", EVERYONE)
def test_upload(api, persona):
    response = api[persona].upload("现场.jpg", image_bytes(), "image/jpeg")
    assert response.status_code == (401 if persona == "anon" else 201), response.content


# GET /attachments/{id} for a photo used in the 整改中 case's history, and for one not used yet.
USED_PHOTO_VISIBLE = VISIBLE_RECTIFYING = {p for p, keys in VISIBLE.items() if "rectifying" in keys}


@pytest.mark.parametrize("persona", EVERYONE)
def test_download(api, world, photo, persona):
    case = build_case(world, "rectifying")
    used = photo(world.handler)
    unused = photo(world.handler, color=(10, 10, 200))
    assert api["dispatcher"].transition(case.number, "urge").status_code == 200
    assert api["handler"].transition(case.number, "rectified", attachments=[used]).status_code == 200

    used_status = api[persona].get(f"/attachments/{used}").status_code
    unused_status = api[persona].get(f"/attachments/{unused}").status_code
    if persona == "anon":
        assert (used_status, unused_status) == (401, 401)
    else:
        assert used_status == (200 if persona in USED_PHOTO_VISIBLE else 404)
        # Before use only the uploader may fetch it: not even the leader or an inspector.
        assert unused_status == (200 if persona == "handler" else 404)


# ---------------------------------------------------------------------------------------------- credentials

ENDPOINTS = [
    ("GET", "/mechanisms"),
    ("POST", "/cases"),
    ("GET", "/cases"),
    ("GET", "/cases/{ref}"),
    ("POST", "/cases/{ref}/transitions"),
    ("POST", "/cases/{ref}/decision"),
    ("POST", "/attachments"),
    ("GET", "/attachments/{attachment}"),
]


def call(client: ApiClient, method: str, path: str, world, case, attachment: int):
    path = path.format(ref=case.number, attachment=attachment)
    if path == "/attachments":
        return client.upload("现场.jpg", image_bytes(), "image/jpeg")
    if method == "GET":
        return client.get(path)
    body = {
        "/cases": case_body(world, channel="hotline"),
        f"/cases/{case.number}/transitions": {"code": "urge", "opinion": "请尽快"},
        f"/cases/{case.number}/decision": {"approve": True},
    }[path]
    return client.post(path, body)


@pytest.mark.parametrize("method,path", ENDPOINTS)
@pytest.mark.parametrize("credentials", ["none", "revoked", "inactive_user", "unknown_token", "basic"])
def test_bad_credentials_are_401_everywhere(world, photo, tokens, method, path, credentials):
    case = build_case(world, "rectifying")
    attachment = photo(world.leader)
    token = tokens["leader"]
    if credentials == "revoked":
        ApiToken.objects.update(revoked=True)
    elif credentials == "inactive_user":
        world.leader.is_active = False
        world.leader.save()
    client = ApiClient({"none": None, "unknown_token": "tz_nope"}.get(credentials, token))
    if credentials == "basic":
        client = ApiClient()
        client.client.defaults["HTTP_AUTHORIZATION"] = "Basic bGluZ2RhbzpwdyI="
    count, rows = Case.objects.count(), Transition.objects.count()
    response = call(client, method, path, world, case, attachment)
    assert response.status_code == 401
    assert response.json()["code"] == "unauthenticated"
    assert (Case.objects.count(), Transition.objects.count()) == (count, rows)


@pytest.mark.parametrize("method,path", ENDPOINTS)
def test_valid_token_reaches_every_endpoint(world, photo, tokens, method, path):
    """The control for the test above: the same calls with the leader's live token are not refused."""
    case = build_case(world, "rectifying")
    assert api_ok(call(ApiClient(tokens["leader"]), method, path, world, case, photo(world.leader)))


def api_ok(response) -> bool:
    return response.status_code in (200, 201) or (
        # the decision endpoint has nothing to decide on this case: that is a 409, not an auth failure
        response.status_code == 409 and response.json()["code"] == "no_pending_request"
    )


def test_token_use_is_recorded_without_a_write_per_request(api, frozen):
    from datetime import timedelta

    from django.utils import timezone

    def last_used():
        return ApiToken.objects.get(user__username="lingdao").last_used_at

    assert last_used() is None
    api["leader"].get("/mechanisms")
    first = last_used()
    assert first == timezone.now()
    frozen.shift(timedelta(minutes=4))
    api["leader"].get("/mechanisms")
    assert last_used() == first
    frozen.shift(timedelta(minutes=2))
    api["leader"].get("/mechanisms")
    assert last_used() == first + timedelta(minutes=6)


# ---------------------------------------------------------------------------------------------- session auth


def test_session_auth_reads_and_writes_with_csrf(world):
    from django.test import Client
    from django.utils.crypto import get_random_string

    browser = Client(enforce_csrf_checks=True)
    browser.force_login(world.grid_worker)
    assert browser.get("/api/v1/cases").status_code == 200

    body = ApiClient(client=browser)
    refused = body.post("/cases", case_body(world))
    assert refused.status_code == 403 and refused.json()["code"] == "csrf_failed"
    assert Case.objects.count() == 0

    secret = get_random_string(32)
    browser.cookies["csrftoken"] = secret
    created = browser.post(
        "/api/v1/cases", case_body(world), content_type="application/json", HTTP_X_CSRFTOKEN=secret
    )
    assert created.status_code == 201, created.json()


def test_bearer_token_needs_no_csrf(world, tokens):
    from django.test import Client

    client = ApiClient(tokens["grid_worker"], Client(enforce_csrf_checks=True))
    assert client.post("/cases", case_body(world)).status_code == 201


def test_session_of_a_logged_out_browser_is_401(world):
    from django.test import Client

    browser = Client()
    browser.force_login(world.leader)
    browser.logout()
    assert browser.get("/api/v1/cases").status_code == 401


# ---------------------------------------------------------------------------------------------- public view


def test_resident_sees_neither_the_inspectors_internal_flag_nor_its_photo(api, world, photo):
    case = build_case(world, "resident")
    shot = photo(world.inspector)
    flagged = api["inspector"].transition(case.number, "flag", opinion="核查是否瞒报", attachments=[shot])
    assert flagged.status_code == 200
    staff = api["dispatcher"].get(f"/cases/{case.number}").json()["history"]
    assert [h["code"] for h in staff] == ["create", "flag"]
    public = api["resident"].get(f"/cases/{case.number}").json()["history"]
    assert [h["code"] for h in public] == ["create"]
    assert api["dispatcher"].get(f"/attachments/{shot}").status_code == 200
    assert api["resident"].get(f"/attachments/{shot}").status_code == 404


def test_resident_still_gets_photos_of_public_rows(api, world, photo):
    shot = photo(world.resident)
    created = api["resident"].create(world, attachments=[shot])
    assert created.status_code == 201
    assert api["resident"].get(f"/attachments/{shot}").status_code == 200

"""The permission matrix (issue #13): every role × every endpoint, the expectations worked out from the data.

Personas are made from get_registry().roles (the platform's roles file and the roles a mechanism adds: the
matrix loads tests/security/matrix_river.yaml, whose 河长 and 护河员 are its own). Each role gets a persona
on a node that reaches the sample cases (a division role on the grid and on the street, a unit role on the
lead, the enforcement unit and an earlier lead, a role held on nothing as the reporter) and one on a node
that does not. Endpoints come from the URL resolver and the API's router (tests/security/matrix_endpoints.py).
What each persona should get is derived by tests/security/matrix.py from the roles' flags and held_on, the
case's parties and the role@party specs of the mechanism files: nothing here lists who sees what.

One world for the whole module, inside a transaction rolled back at its end; every write a test makes
(a transition that goes through) is rolled back at once, so each request sees the same sample.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import time_machine
from django.conf import settings as django_settings
from django.db import transaction
from django.test import Client, override_settings

from taizhang.mechanisms.registry import get_mechanism, get_registry, reset_registry
from tests.cases.helpers import at
from tests.conftest import build_world

from . import matrix_endpoints as ep
from .matrix import IN_LABELS, build_matrix, holds, is_public, may_take, mechanism_dir, party_rows, sees
from .matrix_http import (
    ANON,
    API_AUTH_FAILED,
    body_text,
    case_url,
    check,
    client_for,
    everyone,
    is_api,
    list_url,
    login,
    login_redirect,
    name_of,
    named,
    rolled_back,
    sees_as,
)

# The samples with different parties (`rejected` and `pending` have those of `reported` and `verifying`):
# enough for reading; the transitions use them all.
READ_SAMPLES = ("reported", "verifying", "enforcement", "bureau", "river", "elsewhere")
# The parameters a figure needs (its own validation is tested elsewhere): the month of the sample.
QUERIES = {
    "GET /api/v1/kpis": "?from=2026-03-01&to=2026-04-01",
    "GET /api/v1/kpis.xlsx": "?from=2026-03-01&to=2026-04-01",
}


@pytest.fixture(scope="module")
def mx(django_db_setup, django_db_blocker, tmp_path_factory):
    """The world, the personas and the sample cases, built once and rolled back after the module."""
    tmp = tmp_path_factory.mktemp("matrix")
    directory = mechanism_dir(tmp, Path(django_settings.TAIZHANG_MECHANISM_DIR))
    overrides = override_settings(
        TAIZHANG_MECHANISM_DIR=directory,
        MEDIA_ROOT=tmp / "media",
        PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
    )
    with django_db_blocker.unblock(), overrides, time_machine.travel(at(2026, 3, 10, 9, 30), tick=False):
        reset_registry()
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            built = build_matrix(build_world())
            built.media = tmp / "media"
            built.clients = {name_of(who): login(built, who) for who in everyone(built)}
            yield built
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)
            reset_registry()


@pytest.fixture
def m(mx, db, settings):
    settings.MEDIA_ROOT = mx.media  # conftest points every test at its own media directory
    return mx


# ------------------------------------------------------------------------------------- the inventories


def test_every_endpoint_has_a_kind():
    """A new endpoint fails here until KINDS says which rule of the matrix applies to it."""
    found = ep.all_endpoints()
    assert found - set(ep.KINDS) == set(), "endpoints without an expectation in matrix_endpoints.KINDS"
    assert set(ep.KINDS) - found == set(), "KINDS names endpoints that no longer exist"


def test_every_role_has_personas_that_reach_and_do_not_reach_the_sample(m):
    roles = get_registry().roles
    assert {"river_chief", "river_keeper"} <= set(roles), "the mechanism's own roles are in the registry"
    assert {p.role for p in m.personas} == set(roles)
    for persona in m.personas:
        seen = {key for key, case in m.cases.items() if sees(persona, case)}
        if persona.label in IN_LABELS:
            assert seen, f"{persona.key} reaches no sample case"
        elif not roles[persona.role].reads_everything:
            assert seen <= {"elsewhere"}, f"{persona.key} should reach none of the sample's cases: {seen}"


def test_the_oracle_is_not_empty(m):
    """The sample has, for several specs, a persona allowed and one refused: the matrix can fail."""
    rows = {k: party_rows(c) for k, c in m.cases.items()}
    for spec, case in [
        ("verifier@supervisor", "verifying"),
        ("handler@enforcement", "enforcement"),
        ("river_keeper@lead", "river"),
        ("reporter", "rejected"),
    ]:
        allowed = [p.key for p in m.personas if holds(p, spec, m.cases[case], rows[case])]
        refused = [p.key for p in m.personas if sees(p, m.cases[case]) and p.key not in allowed]
        assert allowed and refused, (spec, allowed, refused)
    # separation of duties: the enterprise's own verifier sees the hazard but may not close it, nor may
    # the bureau close what it rectified; the street's own verifier verifies for the street
    for persona, sample, allowed in [
        ("verifier@unit:lead", "verifying", False),
        ("verifier@unit:bureau", "bureau", False),
        ("verifier@division:grid", "verifying", False),
        ("verifier@division:street", "verifying", True),
    ]:
        who, case = m.persona(persona), m.cases[sample]
        assert sees(who, case) and holds(who, "verifier@supervisor", case, rows[sample]) == allowed, persona
    # a department located at the street is a unit of its own: it neither sees nor closes the street's work
    office = m.persona("verifier@unit:office")
    assert not sees(office, m.cases["verifying"])


# ------------------------------------------------------------------------------------------- reading


@pytest.mark.parametrize("key", ep.of_kind(ep.CASE_READ))
def test_case_read(m, key):
    """200 to whoever sees the case, else 404 exactly as for a case that does not exist; no credentials:
    401 (API) or the login page; an answer never names a case the person does not see."""
    problems: list[str] = []
    rows = {k: party_rows(c) for k, c in m.cases.items()}
    for who in everyone(m):
        client = client_for(m, who)
        missing = client.get(case_url(key, type("Nothing", (), {"number": "YH-2099-999999"})))
        for sample in READ_SAMPLES:
            case = m.cases[sample]
            response = client.get(case_url(key, case))
            what = f"{key} {sample}"
            if who is ANON:
                expected = (
                    response.status_code == API_AUTH_FAILED if is_api(key) else login_redirect(response)
                )
                check(problems, expected, who, what + " unauthenticated", response)
            elif sees_as(m, who, case, rows[sample]):
                if key.endswith("{kind}"):  # a notice the mechanism may not have: anything but not_found
                    ok = response.status_code == 200 or response.json().get("code") != "not_found"
                else:
                    ok = response.status_code == 200
                check(problems, ok, who, what + " visible", response)
                text = body_text(response)
                for other_key, other in m.cases.items():
                    if not sees_as(m, who, other, rows[other_key]) and named(text, other):
                        problems.append(f"{name_of(who)}: {what} names {other_key}, which they do not see")
            else:
                ok = response.status_code == 404 and (not is_api(key) or response.json() == missing.json())
                check(problems, ok, who, what + " hidden", response)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("key", ep.of_kind(ep.CASE_LIST))
def test_case_lists_hold_exactly_the_visible_cases(m, key):
    problems: list[str] = []
    url = "/api/v1/cases?limit=200" if is_api(key) else "/" + key
    for who in everyone(m):
        response = client_for(m, who).get(url)
        if who is ANON:
            ok = response.status_code == API_AUTH_FAILED if is_api(key) else login_redirect(response)
            check(problems, ok, who, f"{key} unauthenticated", response)
            continue
        if response.status_code != 200:
            check(problems, False, who, key, response)
            continue
        if is_api(key):
            listed = {item["number"] for item in response.json()["items"]}
            shown = {k for k, c in m.cases.items() if c.number in listed}
        else:
            text = body_text(response)
            shown = {k for k, c in m.cases.items() if named(text, c)}
        expected = {k for k, c in m.cases.items() if sees_as(m, who, c)}
        check(problems, shown == expected, who, f"{key}: lists {sorted(shown)}, sees {sorted(expected)}")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("key", ep.of_kind(ep.SCOPED))
def test_scoped_pages_never_name_a_case_not_seen(m, key):
    """Signed in: 200 (or 403 for a page the role may not use, never 404 or 500); it names no case the
    person does not see. Without credentials: 401 or the login page."""
    problems: list[str] = []
    url = ("/" + key.split(" /", 1)[1]) if is_api(key) else "/" + key.replace("<slug:code>", "hazard")
    url += QUERIES.get(key, "")
    heavy = url.endswith(".pdf")
    people = everyone(m)
    if heavy:  # a PDF is rendered by WeasyPrint: a few personas are enough for its status
        people = [m.persona("leader@division:street"), m.persona("handler@unit:out"), ANON]
    rows = {k: party_rows(c) for k, c in m.cases.items()}
    for who in people:
        response = client_for(m, who).get(url)
        if who is ANON:
            ok = response.status_code == API_AUTH_FAILED if is_api(key) else login_redirect(response)
            check(problems, ok, who, f"{key} unauthenticated", response)
            continue
        check(problems, response.status_code in (200, 302, 403), who, key, response)
        text = body_text(response) if response.status_code == 200 else ""
        for sample, case in m.cases.items():
            if not sees_as(m, who, case, rows[sample]) and named(text, case):
                problems.append(f"{name_of(who)}: {key} names {sample}, which they do not see")
    assert not problems, "\n".join(problems)


def test_own_case_in_the_portal_is_the_residents_own(m):
    problems: list[str] = []
    for key in ep.of_kind(ep.OWN_CASE):
        for who in everyone(m):
            client = client_for(m, who)
            for sample in READ_SAMPLES:
                case = m.cases[sample]
                response = client.get(case_url(key, case))
                if who is ANON:
                    check(problems, login_redirect(response), who, f"{key} {sample}", response)
                    continue
                mine = who != "admin" and who.role == "resident" and sees(who, case)
                check(
                    problems, response.status_code == (200 if mine else 404), who, f"{key} {sample}", response
                )
    assert not problems, "\n".join(problems)


def test_public_records_follow_the_public_rule_for_everyone(m):
    """The ledger and Open311 show a case by its mechanism's public channels, to anyone, signed in or not."""
    problems: list[str] = []
    people = [ANON, "admin", m.persona("resident@self:self"), m.persona("grid_worker@division:out")]
    for who in people:
        client = client_for(m, who)
        for key in (
            "portal/ledger/<str:number>/",
            "open311/v2/^requests/(?P<ref>[\\w.-]+?)\\.(?P<fmt>xml|json)$",
        ):
            for sample, case in m.cases.items():
                response = client.get(case_url(key, case))
                expected = 200 if is_public(case) else 404
                check(problems, response.status_code == expected, who, f"{key} {sample}", response)
        for url in [*map(list_url, ep.of_kind(ep.PUBLIC_LIST)), "/portal/ledger/?status=done"]:
            text = body_text(client.get(url))
            for sample, case in m.cases.items():
                if not is_public(case) and not sees_as(m, who, case) and named(text, case):
                    problems.append(f"{name_of(who)}: {url} names {sample}, which is not public")
    assert not problems, "\n".join(problems)


def test_metoo_reveals_nothing_about_cases_outside_the_public_ledger(m):
    """我也遇到 by API and page: a case that is not public is 404 (API) for everyone, as a missing one."""
    problems: list[str] = []
    for who in [m.persona("resident@self:out"), m.persona("dispatcher@division:street"), ANON]:
        client = client_for(m, who)
        for sample, case in m.cases.items():
            response = rolled_back(lambda c=case, cl=client: cl.post(f"/api/v1/cases/{c.number}/metoo"))
            if who is ANON:
                check(problems, response.status_code == 401, who, f"metoo {sample}", response)
            elif who.role != "resident":
                check(problems, response.status_code == 403, who, f"metoo {sample}", response)
            elif not is_public(case):
                check(problems, response.status_code == 404, who, f"metoo {sample}", response)
            else:
                check(problems, response.status_code != 404, who, f"metoo {sample}", response)
    assert not problems, "\n".join(problems)


def test_attachment_download_follows_sight_of_the_case(m):
    """The photo of 整改完成 on the verifying case: whoever sees the case (a resident reporter only when
    the history row is public); 404 for anyone else, as for a missing file."""
    from taizhang.cases.models import Attachment

    problems: list[str] = []
    attachment = Attachment.objects.select_related("transition", "case").get(pk=m.attachment_id)
    case = m.cases["verifying"]
    for who in everyone(m):
        response = client_for(m, who).get(f"/api/v1/attachments/{attachment.pk}")
        if who is ANON:
            check(problems, response.status_code == 401, who, "download", response)
            continue
        visible = sees_as(m, who, case)
        public_viewer = (
            who != "admin"
            and visible
            and who.node is None
            and not get_registry().roles[who.role].reads_everything
        )
        expected = 200 if visible and (attachment.transition.public or not public_viewer) else 404
        check(problems, response.status_code == expected, who, f"download (expected {expected})", response)
    assert not problems, "\n".join(problems)


# ------------------------------------------------------------------------------------------ transitions


def transition_codes(case) -> list[str]:
    """The transitions from the case's state, and one that is not (409 for whoever may see the case)."""
    mech = get_mechanism(case.mechanism)
    here = [t.code for t in mech.transitions.values() if case.state in t.from_]
    elsewhere = [t.code for t in mech.transitions.values() if case.state not in t.from_][:1]
    return here + elsewhere


def expect_transition(m, who, case, rows, code) -> tuple[int | None, str | None]:
    """(status, code) the data says for a transition: None for "allowed: any answer but a refusal"."""
    t = get_mechanism(case.mechanism).transitions[code]
    if not sees_as(m, who, case, rows):
        return 404, "not_found"
    if case.state not in t.from_:
        return 409, "transition_not_allowed"
    if who == "admin" or not may_take(who, t.roles, case, rows):
        return 403, "role_not_allowed"
    return None, None


def judge(problems, who, what, response, expected, is_json: bool) -> None:
    status, code = expected
    got = response.status_code
    body = (
        response.json()
        if is_json and got != 200 and response.get("Content-Type", "").startswith("application/json")
        else {}
    )
    if status is None:
        refused = got == 404 or body.get("code") in (
            "role_not_allowed",
            "transition_not_allowed",
            "not_found",
        )
        if not is_json:
            refused = got in (404,) or (got == 403 and "岗位不能" in body_text(response))
        check(problems, not refused, who, what + " allowed by the data", response)
    else:
        ok = got == status and (not is_json or body.get("code") == code)
        check(problems, ok, who, f"{what} expected {status} {code}", response)


@pytest.mark.parametrize("surface", ["api", "page"])
def test_transitions(m, surface):
    """Every persona × sample case × transition from its state (and one from elsewhere): 404 when the case
    is not seen, 409 from another state, 403 role_not_allowed unless a role spec of the transition is held
    over the case's parties; held: 200, or 422/409 for the content, never a refusal. A flag_and_urge_only
    role that goes through leaves the state as it was."""
    from taizhang.cases.models import Case

    problems: list[str] = []
    rows = {k: party_rows(c) for k, c in m.cases.items()}
    hidden_tried: set[str] = set()
    for who in everyone(m):
        client = client_for(m, who)
        for sample, case in m.cases.items():
            if who is not ANON and not sees_as(m, who, case, rows[sample]):
                if sample in hidden_tried:
                    continue  # 404 from get_case for all alike (test_case_read asks everyone): one suffices
                hidden_tried.add(sample)
            codes = transition_codes(case)
            if surface == "page":
                codes = codes[:1] + codes[-1:]  # the same action behind it: the page's own 404 / 403 / 409
            for code in codes:
                what = f"{surface} {sample} {code}"

                def call(code=code, case=case, client=client):
                    if surface == "api":
                        response = client.post(
                            f"/api/v1/cases/{case.number}/transitions",
                            json.dumps({"code": code}),
                            content_type="application/json",
                        )
                    else:
                        # as htmx sends it: the answer is the form or an alert, not the whole page
                        response = client.post(
                            f"/cases/{case.number}/act/", {"code": code}, HTTP_HX_REQUEST="true"
                        )
                    response.state_after = Case.objects.get(pk=case.pk).state
                    return response

                response = rolled_back(call)
                if who is ANON:
                    ok = response.status_code == 401 if surface == "api" else login_redirect(response)
                    check(problems, ok, who, what + " unauthenticated", response)
                    continue
                expected = expect_transition(m, who, case, rows[sample], code)
                judge(problems, who, what, response, expected, surface == "api")
                if who != "admin" and get_registry().roles[who.role].flag_and_urge_only:
                    check(problems, response.state_after == case.state, who, what + " moved the state")
    assert not problems, "\n".join(problems[:80]) + f"\n({len(problems)} problems)"


@pytest.mark.parametrize("surface", ["api", "page"])
def test_decisions(m, surface):
    """审批 of a pending request: 404 not seen; 409 no pending request; 403 role_not_allowed unless an
    approval role spec is held over the parties; 403 same_person for the requester; else decided."""
    problems: list[str] = []
    rows = {k: party_rows(c) for k, c in m.cases.items()}
    for who in everyone(m):
        client = client_for(m, who)
        for sample in ("pending", "reported"):
            case = m.cases[sample]

            def call(case=case, client=client):
                if surface == "api":
                    return client.post(
                        f"/api/v1/cases/{case.number}/decision",
                        json.dumps({"approve": False, "opinion": "理由不充分"}),
                        content_type="application/json",
                    )
                return client.post(f"/cases/{case.number}/decide/", {"approve": "0", "opinion": "理由不充分"})

            response = rolled_back(call)
            what = f"{surface} decide {sample}"
            if who is ANON:
                ok = response.status_code == 401 if surface == "api" else login_redirect(response)
                check(problems, ok, who, what, response)
                continue
            if not sees_as(m, who, case, rows[sample]):
                expected = (404, "not_found")
            elif not case.pending:
                expected = (409, "no_pending_request")
            else:
                t = get_mechanism(case.mechanism).transitions[case.pending["code"]]
                if who == "admin" or not may_take(who, t.approval.roles, case, rows[sample]):
                    expected = (403, "role_not_allowed")
                elif case.pending["by"] == who.user.pk:
                    expected = (403, "same_person")
                else:
                    expected = (None, None)
            judge(problems, who, what, response, expected, surface == "api")
    assert not problems, "\n".join(problems)


def test_a_district_bureau_is_no_supervising_body_for_another_bureaus_work(m):
    """A division's roles act for it, not any department at its level: the 水务局 took no part in the bureau
    hazard (the district's leader handed it to 应急管理局), so it neither sees nor closes it."""
    from taizhang.org.models import Membership, User

    water = User.objects.create_user(username="mx-water-verifier", password="pw", display_name="水务局核查员")
    Membership.objects.create(user=water, role="verifier", unit=m.world.other_unit)
    client = Client()
    client.force_login(water)
    case = m.cases["bureau"]
    assert client.get(f"/api/v1/cases/{case.number}").status_code == 404
    response = rolled_back(
        lambda: client.post(
            f"/api/v1/cases/{case.number}/transitions",
            json.dumps({"code": "pass", "opinion": "复核通过"}),
            content_type="application/json",
        )
    )
    assert response.status_code == 404


@pytest.mark.parametrize("surface", ["api", "page"])
def test_links_by_hand(m, surface):
    """关联 by hand (`POST /api/v1/cases/{ref}/links`, the case page's `/cases/<ref>/links/`): 404 unless
    the persona sees both cases (an unseen other case answers as one that does not exist); 403
    role_not_allowed without a staff role held over the first case's parties; else linked (the page: a
    redirect back to the case)."""
    assert set(ep.of_kind(ep.CASE_LINK)) == {"POST /api/v1/cases/{ref}/links", "cases/<str:ref>/links/"}
    problems: list[str] = []
    outcomes: set[int] = set()
    rows = {k: party_rows(c) for k, c in m.cases.items()}
    for who in everyone(m):
        client = client_for(m, who)
        for first, other in (("reported", "verifying"), ("verifying", "elsewhere"), ("bureau", "reported")):
            case, linked = m.cases[first], m.cases[other]

            def call(case=case, linked=linked, client=client):
                if surface == "page":
                    return client.post(f"/cases/{case.number}/links/", {"other": linked.number})
                return client.post(
                    f"/api/v1/cases/{case.number}/links",
                    json.dumps({"other": linked.number}),
                    content_type="application/json",
                )

            response = rolled_back(call)
            what = f"{surface} link {first} to {other}"
            if who is ANON:
                ok = response.status_code == 401 if surface == "api" else login_redirect(response)
                check(problems, ok, who, what, response)
                continue
            if not (sees_as(m, who, case, rows[first]) and sees_as(m, who, linked, rows[other])):
                expected = (404, "not_found")
            elif who == "admin" or flags_self_only(who.role) or not holds(who, who.role, case, rows[first]):
                expected = (403, "role_not_allowed")
            else:
                expected = (200, None)
            if surface == "page":
                ok = link_page_answer(response, case, expected[0])
            else:
                ok = response.status_code == expected[0] and (
                    expected[0] == 200 or response.json().get("code") == expected[1]
                )
            check(problems, ok, who, f"{what} expected {expected}", response)
            outcomes.add(expected[0])
    assert not problems, "\n".join(problems[:80]) + f"\n({len(problems)} problems)"
    assert outcomes == {200, 403, 404}  # the samples exercise every answer


def link_page_answer(response, case, status: int) -> bool:
    """The page's answer to a link: the redirect back to the case for a 200, else the refusal's status
    (403 with the action's reason on the case page)."""
    if status == 200:
        return response.status_code == 302 and response["Location"] == f"/cases/{case.number}/#links"
    return response.status_code == status and (status != 403 or "岗位不能关联" in body_text(response))


def flags_self_only(role: str) -> bool:
    return get_registry().roles[role].acts_for_self_only

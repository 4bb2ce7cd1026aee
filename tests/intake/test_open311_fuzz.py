"""Open311 has no OpenAPI schema for schemathesis: hypothesis posts arbitrary form values to POST
requests and sends arbitrary parameters to every GET, in both formats. No input may end in a server
error, and every answer must be well-formed in the format asked (JSON, or XML an XML parser reads).

Bounded and reproducible for CI: a fixed number of examples, derandomised, no deadline
(FUZZ_EXAMPLES=500 explores further).
"""

# ruff: noqa: F811  (the fixtures imported from open311_support are parameters of the tests)

from __future__ import annotations

import json
import os
import xml.etree.ElementTree as ET
from urllib.parse import quote, urlencode

import pytest
from django.test import Client
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from taizhang.intake.open311.services import all_services

from .open311_support import BASE, api_key, frozen, intake_user, report  # noqa: F401

BOUNDED = settings(
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", "60")),  # more to explore locally, fixed in CI
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
# Any text a client can send: control characters and NUL included, lone surrogates (not encodable) not.
TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=30)
FORMATS = st.sampled_from(["json", "xml"])
DATES = st.sampled_from(
    ["2026-11-24", "2026-11-24T10:00:00+08:00", "0001-01-01", "9999-12-31T23:59:59-12:00"]
)


def maybe(*strategies: st.SearchStrategy) -> st.SearchStrategy:
    """Absent, one of the given (plausible) values, or any text."""
    return st.one_of(st.none(), *strategies, TEXT)


def assert_well_formed(response, fmt: str) -> None:
    """Not a server error, and readable in the format asked for."""
    event(f"status {response.status_code}")  # shown by --hypothesis-show-statistics
    assert response.status_code < 500, response.content[:500]
    if fmt == "json":
        json.loads(response.content)
    else:
        ET.fromstring(response.content)


@pytest.fixture
def known(world, report) -> dict[str, list[str]]:
    """Real values to mix into the generated ones: codes, a filed request's number and token."""
    client = Client()
    filed = client.post(f"{BASE}/requests.json", report())
    assert filed.status_code == 201, filed.content
    first = json.loads(filed.content)[0]
    return {
        "services": [s.code for s in all_services()],
        "divisions": [world.district.code, world.grid.code, world.other_grid.code],
        "numbers": [first["service_request_id"]],
        "tokens": [first["token"]],
    }


# Parameters POST looks things up by, and free text it stores (normalised at intake: taizhang.text).
LOOKUPS = ("jurisdiction_id", "service_code", "lat", "long", "media_url")
STORED = ("address_string", "address_id", "email", "device_id", "account_id", "first_name", "last_name")
STORED += ("phone", "description", "attribute[topic]")


@BOUNDED
@given(data=st.data(), fmt=FORMATS, multipart=st.booleans())
def test_post_requests_with_arbitrary_form_values(report, known, data, fmt, multipart):
    """A valid request with a few parameters changed, dropped or added, so the changes reach the action."""
    draw = data.draw
    form = report()
    plausible = {
        "jurisdiction_id": st.sampled_from(known["divisions"]),
        "service_code": st.sampled_from(known["services"]),
        "lat": st.floats(allow_nan=True).map(str),
        "long": st.floats(allow_nan=True).map(str),
    }
    for name in draw(st.sets(st.sampled_from(LOOKUPS + STORED), min_size=1, max_size=4)):
        form[name] = draw(st.one_of(st.none(), plausible.get(name, TEXT), TEXT))
    for _ in range(draw(st.integers(0, 2))):
        key = "attribute[" + draw(st.one_of(st.sampled_from(["topic", "urgency"]), TEXT)) + "]"
        form[key + draw(st.sampled_from(["", "[]"]))] = draw(st.one_of(TEXT, st.lists(TEXT, max_size=3)))
    if draw(st.integers(0, 9)) == 0:  # now and then a wrong key: refused before anything else
        form["api_key"] = draw(TEXT)
    form = {k: v for k, v in form.items() if v is not None}
    client, url = Client(), f"{BASE}/requests.{fmt}"
    if multipart:
        response = client.post(url, form)
    else:
        response = client.post(url, urlencode(form, doseq=True), "application/x-www-form-urlencoded")
    assert_well_formed(response, fmt)


@BOUNDED
@given(data=st.data(), fmt=FORMATS)
def test_get_requests_and_updates_with_arbitrary_parameters(known, data, fmt):
    draw = data.draw
    params = {
        "service_request_id": draw(maybe(st.sampled_from(known["numbers"]))),
        "service_code": draw(maybe(st.sampled_from(known["services"]))),
        "start_date": draw(maybe(DATES)),
        "end_date": draw(maybe(DATES)),
        "updated_after": draw(maybe(DATES)),
        "status": draw(maybe(st.sampled_from(["open", "closed", "open,closed"]))),
        "jurisdiction_id": draw(maybe(st.sampled_from(known["divisions"]))),
    }
    params = {k: v for k, v in params.items() if v is not None}
    path = draw(st.sampled_from(["requests", "servicerequestupdates", "services", "discovery"]))
    assert_well_formed(Client().get(f"{BASE}/{path}.{fmt}", params), fmt)


@BOUNDED
@given(data=st.data(), fmt=FORMATS)
def test_get_one_resource_by_arbitrary_code(known, data, fmt):
    draw = data.draw
    kind, values = draw(
        st.sampled_from(
            [("services", known["services"]), ("requests", known["numbers"]), ("tokens", known["tokens"])]
        )
    )
    value = draw(st.one_of(st.sampled_from(values), TEXT))
    query = {"jurisdiction_id": draw(TEXT)} if draw(st.booleans()) else {}
    response = Client().get(f"{BASE}/{kind}/{quote(value, safe='')}.{fmt}", query)
    assert_well_formed(response, fmt)

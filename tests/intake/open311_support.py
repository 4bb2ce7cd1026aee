"""Open311 test helpers: a 受理员 with an Open311 api_key, a client that fetches both formats and checks them.

Every response is validated against the JSON schema written from the GeoReport v2 spec
(open311_schemas/), and the XML of the same call must say the same as the JSON.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import time_machine
from django.test import Client

# A working Tuesday of 2026 in Beijing time (the holiday calendar only knows years up to 2026).
CST = timezone(timedelta(hours=8))
FROZEN_AT = datetime(2026, 11, 24, 10, 0, tzinfo=CST)
BASE = "/open311/v2"
SCHEMAS = Path(__file__).parent / "open311_schemas"
# XML elements whose children are the items of a list (their JSON is an array).
LIST_TAGS = {
    "services",
    "attributes",
    "values",
    "service_requests",
    "service_request_updates",
    "errors",
    "endpoints",
    "formats",
}


def schema(name: str) -> dict:
    return json.loads((SCHEMAS / f"{name}.json").read_text())


def from_xml(element: ET.Element) -> Any:
    """An XML element as the JSON it should match: lists, objects, or the text (None when empty)."""
    if element.tag in LIST_TAGS:
        return [from_xml(child) for child in element]
    if len(element):
        return {child.tag: from_xml(child) for child in element}
    return element.text


def as_text(value: Any) -> Any:
    """A JSON value as the XML carries it: scalars become their text."""
    if isinstance(value, dict):
        return {k: as_text(v) for k, v in value.items()}
    if isinstance(value, list):
        return [as_text(v) for v in value]
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class Open311Client:
    """Calls /open311/v2 in JSON and XML; `get` and `post` return the JSON after comparing both."""

    def __init__(self):
        self.client = Client()

    def raw(self, method: str, path: str, fmt: str, data: dict | None = None):
        url = f"{BASE}/{path}.{fmt}"
        if method == "GET":
            return self.client.get(url, data or {})
        if method == "POST":
            return self.client.post(url, data or {})
        return self.client.generic(method, url)

    def check(self, response, fmt: str, schema_name: str) -> Any:
        """The response's data, validated: JSON against the schema, XML parsed into the same shape."""
        if fmt == "json":
            assert response["Content-Type"] == "application/json; charset=utf-8"
            data = json.loads(response.content)
            jsonschema.validate(data, schema(schema_name))
            return data
        assert response["Content-Type"] == "text/xml; charset=utf-8"
        assert response.content.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
        return from_xml(ET.fromstring(response.content))

    def both(
        self, path: str, schema_name: str, params: dict | None = None, status: int = 200, method: str = "GET"
    ) -> Any:
        """GET (or another safe method) in both formats: same status, same content; returns the JSON."""
        got = {}
        for fmt in ("json", "xml"):
            response = self.raw(method, path, fmt, params)
            assert response.status_code == status, (fmt, response.content.decode())
            got[fmt] = self.check(response, fmt, "errors" if status >= 400 else schema_name)
        assert got["xml"] == as_text(got["json"])
        return got["json"]

    def get(self, path: str, schema_name: str, **params) -> Any:
        return self.both(path, schema_name, params)

    def error(self, path: str, expect: int, method: str = "GET", **params) -> list[str]:
        """An error in both formats: the spec's list with code = status; returns the descriptions."""
        status = expect
        if method == "POST":
            out = []
            for fmt in ("json", "xml"):
                response = self.raw("POST", path, fmt, params)
                assert response.status_code == status, (fmt, response.content.decode())
                out.append(self.check(response, fmt, "errors"))
            assert out[1] == as_text(out[0])
            data = out[0]
        else:
            data = self.both(path, "errors", params, status, method)
        assert all(e["code"] == status for e in data)
        return [e["description"] for e in data]

    def post(self, fmt: str = "json", status: int = 201, **params) -> dict:
        """POST requests in one format (a second POST would be a retry); returns the one item."""
        response = self.raw("POST", "requests", fmt, params)
        assert response.status_code == status, response.content.decode()
        data = self.check(response, fmt, "post_response")
        if fmt == "xml":
            data = [{k: v for k, v in item.items()} for item in data]
        assert len(data) == 1
        return data[0]


@pytest.fixture(autouse=True)
def frozen():
    """Every Open311 test runs at 2026-11-24 10:00 +08:00; `frozen.move_to(...)` moves the clock."""
    with time_machine.travel(FROZEN_AT, tick=False) as traveller:
        yield traveller


@pytest.fixture
def o311() -> Open311Client:
    return Open311Client()


@pytest.fixture
def intake_user(world):
    """A 受理员 of the district (潞州区) — the person behind the api_key."""
    from taizhang.org.models import Membership, User

    user = User.objects.create_user(username="shouli", password="pw-shouli", display_name="邢佳音")
    Membership.objects.create(user=user, role="intake", division=world.district)
    return user


@pytest.fixture
def api_key(intake_user) -> str:
    """An Open311 key of the 受理员 (`taizhang open311 key create`)."""
    from taizhang.intake.open311.keys import issue_key

    return issue_key(intake_user, "外部 12345 系统")[1]


@pytest.fixture
def report(api_key, world):
    """POST parameters of a 12345 complaint at the district, with overrides."""

    def make(**overrides) -> dict[str, Any]:
        params = {
            "api_key": api_key,
            "jurisdiction_id": world.district.code,
            "service_code": "demand.complaint",
            "lat": "36.195",
            "long": "113.116",
            "address_string": "潞州区英雄中路 12 号",
            "description": "小区门口夜间施工噪音扰民\n每晚 23 点后仍在施工。",
            "first_name": "小明",
            "last_name": "王",
            "phone": "13800000000",
            "email": "wang@example.com",
            "media_url": "https://img.example.com/noise.jpg",
            "attribute[topic]": "噪音",
        }
        params.update(overrides)
        return {k: v for k, v in params.items() if v is not None}

    return make

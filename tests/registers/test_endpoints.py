"""Every register endpoint the permission matrix classifies (tests/security/matrix_endpoints.py, kinds
REGISTER_LIST, REGISTER_READ, REGISTER_ACT) asked by every persona: lists hold exactly the visible items,
an item is 200 to who sees it and 404 to anyone else, acting is 404 / 403 role_not_allowed / done as the
register's `actions` say; no credentials: 401 (API) or the login page."""

from __future__ import annotations

import io
import json

import pytest
from django.db import transaction
from django.test import Client
from openpyxl import load_workbook

from taizhang.registers.models import RegisterItem
from tests.security import matrix_endpoints as ep

from .helpers import ours, theirs

LIST_URLS = {
    "GET /api/v1/registers/{code}/items": "/api/v1/registers/enterprise/items?limit=200",
    "registers/<slug:code>/": "/registers/enterprise/",
    "registers/<slug:code>/export.xlsx": "/registers/enterprise/export.xlsx",
    "registers/<slug:code>/map/": "/registers/enterprise/map/",
}
READ_URLS = {
    "GET /api/v1/register-items/{number}": "/api/v1/register-items/{n}",
    "registers/items/<str:number>/": "/registers/items/{n}/",
}
# (url, body, the action it takes: create needs no visible item)
ACT_URLS = {
    "POST /api/v1/registers/{code}/items": ("/api/v1/registers/enterprise/items", "create"),
    "registers/<slug:code>/new/": ("/registers/enterprise/new/", "create"),
    "POST /api/v1/register-items/{number}/changes": ("/api/v1/register-items/{n}/changes", "change"),
    "registers/items/<str:number>/change/": ("/registers/items/{n}/change/", "change"),
    "POST /api/v1/register-items/{number}/assessments": ("/api/v1/register-items/{n}/assessments", "assess"),
    "registers/items/<str:number>/assess/": ("/registers/items/{n}/assess/", "assess"),
}
BODIES = {
    "create": {
        "name": "新建测试企业",
        "category": "retail",
        "division": "WMJD-HX-01",
        "fields": {"credit_code": "9114X"},
    },
    "change": {"address": "新地址1号", "fields": {"employees": 9}},
    "assess": {"fields": {"risk_level": "low"}, "opinion": "复评"},
}
FORMS = {
    "create": {
        "name": "新建测试企业",
        "category": "retail",
        "division": "WMJD-HX-01",
        "field-credit_code": "9114X",
    },
    "change": {"name": "改名企业", "field-employees": "9"},
    "assess": {"field-risk_level": "low", "opinion": "复评"},
}
# Who may do what over which item (the register file's `actions`, worked out by hand for the world).
ALLOWED = {
    ("create", None): {"grid_worker", "dispatcher", "leader"},
    ("change", "ours"): {"grid_worker", "dispatcher", "leader"},
    ("change", "theirs"): {"outsider", "leader", "enterprise_officer"},
    ("assess", "ours"): {"dispatcher", "leader"},
    ("assess", "theirs"): {"leader"},
}


@pytest.fixture
def items(world):
    return {"ours": ours(world), "theirs": theirs(world)}


def people(world):
    return {**world.personas(), "anon": None}


def client_of(user) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def visible(user, items) -> set[str]:
    return {k for k, i in items.items() if RegisterItem.objects.for_user(user).filter(pk=i.pk).exists()}


def shown(key: str, response, items) -> set[str]:
    if key.startswith("GET /api"):
        listed = {i["number"] for i in response.json()["items"]}
    elif key.endswith(".xlsx"):
        ws = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
        listed = {row[0] for row in ws.iter_rows(min_row=2, values_only=True)}
    else:
        text = response.content.decode()
        listed = {i.number for i in items.values() if i.number in text}
    return {k for k, i in items.items() if i.number in listed}


def test_every_register_endpoint_is_asked_here():
    for kind, urls in (
        (ep.REGISTER_LIST, LIST_URLS),
        (ep.REGISTER_READ, READ_URLS),
        (ep.REGISTER_ACT, ACT_URLS),
    ):
        assert set(ep.of_kind(kind)) == set(urls), kind


def unauthenticated(key: str, response) -> bool:
    if "api/v1" in key:
        return response.status_code == 401
    return response.status_code == 302 and "/login/" in response["Location"]


@pytest.mark.parametrize("key", sorted(LIST_URLS))
def test_lists_hold_exactly_the_visible_items(world, items, key):
    for name, user in people(world).items():
        response = client_of(user).get(LIST_URLS[key])
        if user is None:
            assert unauthenticated(key, response), key
            continue
        assert response.status_code == 200, (name, key)
        assert shown(key, response, items) == visible(user, items), (name, key)


@pytest.mark.parametrize("key", sorted(READ_URLS))
def test_an_item_is_read_by_who_sees_it_and_404_for_anyone_else(world, items, key):
    for name, user in people(world).items():
        client = client_of(user)
        for which, item in items.items():
            response = client.get(READ_URLS[key].format(n=item.number))
            if user is None:
                assert unauthenticated(key, response)
            elif which in visible(user, items):
                assert response.status_code == 200, (name, key, which)
            else:
                missing = client.get(READ_URLS[key].format(n="QY-999999"))
                assert response.status_code == 404 == missing.status_code, (name, key, which)
                if key.startswith("GET /api"):
                    assert response.json() == missing.json()


def rolled_back(call):
    with transaction.atomic():
        response = call()
        transaction.set_rollback(True)
    return response


@pytest.mark.parametrize("key", sorted(ACT_URLS))
def test_acting_follows_the_registers_actions(world, items, key):
    url, action = ACT_URLS[key]
    api = "api/v1" in key
    targets = [None] if action == "create" else ["ours", "theirs"]
    for name, user in people(world).items():
        client = client_of(user)
        for which in targets:
            item_url = url.format(n=items[which].number) if which else url

            def call(client=client, item_url=item_url):
                if api:
                    return client.post(item_url, json.dumps(BODIES[action]), content_type="application/json")
                return client.post(item_url, FORMS[action])

            response = rolled_back(call)
            what = (name, key, which)
            if user is None:
                assert unauthenticated(key, response), what
            elif which is not None and which not in visible(user, items):
                assert response.status_code == 404, what
            elif name not in ALLOWED[(action, which)]:
                assert response.status_code == 403, what
                if api:
                    assert response.json()["code"] == "role_not_allowed"
            else:
                assert response.status_code in ((201, 200) if api else (302,)), (what, response.content[:300])

"""Every request has an id (header, log lines, error answers); an unexpected error in a page or an API
endpoint is logged once, as JSON with its traceback, and answered with the request id; no database
connection is 503, not 500."""

from __future__ import annotations

import io
import json
import logging
import logging.config

import pytest
from django.conf import settings as django_settings
from django.db import OperationalError
from django.http import HttpResponse
from django.test import RequestFactory
from psycopg_pool import PoolTimeout

from taizhang.ops.config import logging_config
from taizhang.ops.requestid import RequestIdMiddleware

pytestmark = pytest.mark.django_db


@pytest.fixture
def json_log():
    """The production logging configuration (JSON), writing into a buffer instead of stderr."""
    config = logging_config("json", "INFO")
    buffer = io.StringIO()
    config["handlers"]["stderr"]["stream"] = buffer
    logging.config.dictConfig(config)
    yield lambda: [json.loads(line) for line in buffer.getvalue().splitlines() if line.strip()]
    logging.config.dictConfig(django_settings.LOGGING)


@pytest.fixture
def client(client):
    client.raise_request_exception = False  # answer as in production instead of re-raising
    return client


def test_every_answer_carries_a_fresh_request_id(client):
    first, second = client.get("/portal/"), client.get("/portal/")
    assert first.status_code == 200
    assert len(first["X-Request-ID"]) == 32 and first["X-Request-ID"] != second["X-Request-ID"]


def test_the_trusted_proxys_request_id_is_kept_and_anybody_elses_is_not(client, settings):
    settings.TAIZHANG_TRUSTED_PROXIES = ["10.0.0.0/8"]
    given = {"HTTP_X_REQUEST_ID": "nginx-7f3a9c"}
    assert client.get("/healthz", REMOTE_ADDR="10.1.2.3", **given)["X-Request-ID"] == "nginx-7f3a9c"
    assert client.get("/healthz", REMOTE_ADDR="203.0.113.9", **given)["X-Request-ID"] != "nginx-7f3a9c"
    bad = {"HTTP_X_REQUEST_ID": "a b\nc"}  # not a token: a new id rather than a forged log line
    assert " " not in client.get("/healthz", REMOTE_ADDR="10.1.2.3", **bad)["X-Request-ID"]


def test_client_address_and_https_header_only_from_the_trusted_proxy(settings):
    settings.TAIZHANG_TRUSTED_PROXIES = ["127.0.0.1/32"]
    settings.TAIZHANG_TRUSTED_PROXY_HEADER = "X-Forwarded-For"
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    seen = {}

    def view(request):
        seen.update(addr=request.META["REMOTE_ADDR"], secure=request.is_secure())
        return HttpResponse()

    middleware = RequestIdMiddleware(view)
    headers = {"HTTP_X_FORWARDED_FOR": "198.51.100.7, 127.0.0.1", "HTTP_X_FORWARDED_PROTO": "https"}
    middleware(RequestFactory().get("/", REMOTE_ADDR="127.0.0.1", **headers))
    assert seen == {"addr": "198.51.100.7", "secure": True}
    middleware(RequestFactory().get("/", REMOTE_ADDR="203.0.113.9", **headers))
    assert seen == {"addr": "203.0.113.9", "secure": False}  # a client cannot claim another address or HTTPS


def test_log_lines_of_a_request_carry_its_id(client, json_log, monkeypatch):
    from taizhang.web.portal import views

    original = views.portal_mechanisms

    def noisy():
        logging.getLogger("taizhang.portal").warning("looked up the portal's mechanisms")
        return original()

    monkeypatch.setattr(views, "portal_mechanisms", noisy)
    response = client.get("/portal/")
    line = next(r for r in json_log() if r["logger"] == "taizhang.portal")
    assert line["request_id"] == response["X-Request-ID"]
    assert line["level"] == "WARNING" and line["message"] == "looked up the portal's mechanisms"
    logging.getLogger("taizhang.portal").warning("outside a request")
    assert json_log()[-1]["request_id"] == "-"


def boom(*args, **kwargs):
    raise RuntimeError("boom: a bug in the code")


def test_a_500_in_a_page_is_logged_with_traceback_and_answered_with_the_request_id(
    client, json_log, monkeypatch
):
    from taizhang.web.portal import views

    monkeypatch.setattr(views, "portal_mechanisms", boom)
    response = client.get("/portal/")
    rid = response["X-Request-ID"]
    assert response.status_code == 500
    assert rid in response.content.decode() and "服务器内部错误" in response.content.decode()
    errors = [r for r in json_log() if r["level"] == "ERROR"]
    assert len(errors) == 1, errors
    assert errors[0]["logger"] == "django.request" and errors[0]["request_id"] == rid
    assert errors[0]["path"] == "/portal/" and errors[0]["status_code"] == 500
    assert (
        "Traceback" in errors[0]["exc_info"]
        and "RuntimeError: boom: a bug in the code" in errors[0]["exc_info"]
    )


def test_a_500_in_an_api_endpoint_is_logged_once_and_answered_as_json(client, world, json_log, monkeypatch):
    from taizhang.web.api import cases

    monkeypatch.setattr(cases, "get_case", boom)
    client.force_login(world.dispatcher)
    response = client.get("/api/v1/cases/YH-2026-000001")
    rid = response["X-Request-ID"]
    assert response.status_code == 500 and response["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["code"] == "server_error" and body["request_id"] == rid and rid in body["message"]
    errors = [r for r in json_log() if r["level"] == "ERROR"]
    assert len(errors) == 1, errors  # not a second line without traceback from Django
    assert errors[0]["request_id"] == rid and errors[0]["path"] == "/api/v1/cases/YH-2026-000001"
    assert "RuntimeError: boom: a bug in the code" in errors[0]["exc_info"]


def test_djangos_own_exceptions_in_the_api_keep_their_status(client, world, monkeypatch):
    from django.core.exceptions import PermissionDenied

    from taizhang.web.api import cases

    def refuse(*args, **kwargs):
        raise PermissionDenied

    monkeypatch.setattr(cases, "get_case", refuse)
    client.force_login(world.dispatcher)
    assert client.get("/api/v1/cases/YH-2026-000001").status_code == 403


def no_connection(*args, **kwargs):
    """What Django raises when the psycopg pool has no connection to give within its timeout."""
    try:
        raise PoolTimeout("couldn't get a connection after 10.00 sec")
    except PoolTimeout as exc:
        raise OperationalError("couldn't get a connection after 10.00 sec") from exc


def test_no_database_connection_is_503_with_retry_after_in_the_api(client, world, json_log, monkeypatch):
    from taizhang.web.api import cases

    monkeypatch.setattr(cases, "get_case", no_connection)
    client.force_login(world.dispatcher)
    response = client.get("/api/v1/cases/YH-2026-000001")
    assert response.status_code == 503 and response["Retry-After"] == "5"
    assert response.json()["code"] == "service_unavailable"
    assert [r["status_code"] for r in json_log() if r["level"] == "ERROR"] == [503]


def test_no_database_connection_is_503_on_a_page(client, monkeypatch):
    from taizhang.web.portal import views

    monkeypatch.setattr(views, "portal_mechanisms", no_connection)
    response = client.get("/portal/")
    assert response.status_code == 503 and response["Retry-After"] == "5"
    assert "系统繁忙" in response.content.decode()
    response = client.get("/portal/", HTTP_ACCEPT="application/json")
    assert response.json()["code"] == "service_unavailable"


def test_other_database_errors_stay_500(client, monkeypatch):
    from taizhang.web.portal import views

    def deadlock(*args, **kwargs):
        import psycopg

        try:
            raise psycopg.errors.DeadlockDetected("deadlock detected")
        except psycopg.Error as exc:
            raise OperationalError("deadlock detected") from exc

    monkeypatch.setattr(views, "portal_mechanisms", deadlock)
    assert client.get("/portal/").status_code == 500

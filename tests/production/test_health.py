"""/healthz and /readyz: cheap, no login, any Host, no HTTPS redirect; /readyz says why it is not ready."""

from __future__ import annotations

import pytest

from taizhang.ops import readiness

from .helpers import UNREACHABLE_PG, child_env, shell_json

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_checks():
    readiness.forget()
    yield
    readiness.forget()


def test_healthz_needs_no_database_no_login_and_no_known_host(client, settings, django_assert_num_queries):
    settings.SECURE_SSL_REDIRECT = True  # probes speak plain HTTP to the app itself
    with django_assert_num_queries(0):
        response = client.get("/healthz", HTTP_HOST="app:8000")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert response["Cache-Control"] == "no-store"
    assert response["X-Request-ID"]


def test_readyz_checks_database_migrations_mechanisms_and_static(client):
    response = client.get("/readyz", HTTP_HOST="app:8000")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "ready"
    assert body["checks"] == {"database": "ok", "migrations": "ok", "mechanisms": "ok", "static": "ok"}


def test_readyz_costs_one_query_once_the_rest_has_passed(client, django_assert_max_num_queries):
    client.get("/readyz")
    with django_assert_max_num_queries(1):
        assert client.get("/readyz").status_code == 200


def test_only_get(client):
    response = client.post("/readyz")
    assert response.status_code == 405 and response["Allow"] == "GET, HEAD"


def test_readyz_is_503_when_static_files_are_not_collected(client, settings, tmp_path):
    settings.STATIC_ROOT = tmp_path / "static"  # production's hashed names, and no collectstatic yet
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    }
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["reason"] == "static: static files not collected (run: taizhang collectstatic)"


READYZ = """
import json
from django.test import Client
r = Client().get("/readyz")
print(json.dumps({**r.json(), "http": r.status_code, "retry": r.get("Retry-After")}, ensure_ascii=False))
"""


@pytest.mark.parametrize("url", [UNREACHABLE_PG, "sqlite:////nonexistent-dir/taizhang/db.sqlite3"])
def test_readyz_is_503_with_the_reason_when_the_database_is_unreachable(url):
    got = shell_json(READYZ, child_env({"DATABASE_URL": url}))
    assert got["http"] == 503 and got["retry"] == "5"
    assert got["checks"] == {"database": "failed"}
    assert got["reason"].startswith("database: OperationalError")


def test_readyz_is_503_when_migrations_are_not_applied(tmp_path):
    got = shell_json(READYZ, child_env({"DATABASE_URL": f"sqlite:///{tmp_path / 'empty.sqlite3'}"}))
    assert got["http"] == 503
    assert got["checks"]["database"] == "ok" and got["checks"]["migrations"] == "failed"
    assert "migrations not applied (run: taizhang migrate)" in got["reason"]

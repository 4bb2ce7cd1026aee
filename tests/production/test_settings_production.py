"""TAIZHANG_ENV=production refuses to start with unsafe settings, naming the variable; with sane values
`check --deploy` is clean and the database gets a bounded pool."""

from __future__ import annotations

import pytest

from .helpers import SANE, UNREACHABLE_PG, child_env, shell_json, taizhang

REFUSALS = [
    ({"TAIZHANG_DEBUG": "1"}, "TAIZHANG_DEBUG is on"),
    ({"TAIZHANG_SECRET_KEY": ""}, "TAIZHANG_SECRET_KEY must be set"),
    ({"TAIZHANG_SECRET_KEY": "dev-only-insecure-key-do-not-use-in-production" + "x" * 10}, "development key"),
    ({"TAIZHANG_SECRET_KEY": "django-insecure-" + "abcdefghij" * 5}, "development key"),
    ({"TAIZHANG_SECRET_KEY": "Sh0rt-but-random-9f3Jq"}, "TAIZHANG_SECRET_KEY has 22 characters"),
    ({"TAIZHANG_SECRET_KEY": "ab" * 30}, "fewer than 5 distinct"),
    ({"TAIZHANG_ALLOWED_HOSTS": "*"}, "TAIZHANG_ALLOWED_HOSTS='*'"),
    ({"TAIZHANG_ALLOWED_HOSTS": "taizhang.example.cn,*"}, "TAIZHANG_ALLOWED_HOSTS="),
    ({"TAIZHANG_ALLOWED_HOSTS": " , "}, "TAIZHANG_ALLOWED_HOSTS=''"),
    ({"DATABASE_URL": "sqlite:///tmp/taizhang-prod.sqlite3"}, "TAIZHANG_ALLOW_SQLITE=1"),
    ({"TAIZHANG_SECURE_COOKIES": "0"}, "TAIZHANG_SECURE_COOKIES=0"),
    (
        {"TAIZHANG_TRUSTED_PROXIES": "", "TAIZHANG_TRUSTED_PROXY_HEADER": ""},
        "TAIZHANG_TRUSTED_PROXIES is empty",
    ),
    ({"TAIZHANG_ENV": "staging"}, "TAIZHANG_ENV='staging': expected one of development, production"),
    ({"TAIZHANG_TRUSTED_PROXIES": "nginx"}, "TAIZHANG_TRUSTED_PROXIES='nginx': 'nginx' is not an IP"),
    (
        {"TAIZHANG_PROXY_SSL_HEADER": "https"},
        "TAIZHANG_PROXY_SSL_HEADER='https': expected 'Header-Name: value'",
    ),
    ({"TAIZHANG_DB_POOL_MIN": "8", "TAIZHANG_DB_POOL_MAX": "4"}, "TAIZHANG_DB_POOL_MIN=8 exceeds"),
    ({"TAIZHANG_DB_POOL_MAX": "0"}, "TAIZHANG_DB_POOL_MAX='0': must be at least 1"),
    ({"TAIZHANG_WEB_WORKERS": "many"}, "TAIZHANG_WEB_WORKERS='many': expected a whole number"),
    ({"TAIZHANG_LOG_FORMAT": "xml"}, "TAIZHANG_LOG_FORMAT='xml'"),
    ({"TAIZHANG_METRICS_TOKEN": "short"}, "TAIZHANG_METRICS_TOKEN"),
    ({"TAIZHANG_METRICS_ALLOW": "10.0.0.0/33"}, "TAIZHANG_METRICS_ALLOW="),
]


@pytest.mark.parametrize(("env", "message"), REFUSALS)
def test_unsafe_production_settings_stop_start_up_naming_the_variable(env, message):
    proc = taizhang(["check"], child_env({**SANE, **env}))
    assert proc.returncode != 0
    assert "ImproperlyConfigured" in proc.stderr
    assert message in proc.stderr, proc.stderr[-2000:]


def test_sqlite_in_production_only_when_accepted_knowingly(tmp_path):
    env = {**SANE, "DATABASE_URL": f"sqlite:///{tmp_path / 'small.sqlite3'}", "TAIZHANG_ALLOW_SQLITE": "1"}
    proc = taizhang(["check", "--deploy", "--fail-level", "WARNING"], child_env(env))
    assert proc.returncode == 0, proc.stderr


def test_sane_production_settings_pass_check_deploy_without_a_warning():
    proc = taizhang(["check", "--deploy", "--fail-level", "WARNING"], child_env(SANE))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "no issues" in proc.stdout


def test_development_defaults_would_fail_check_deploy():
    """The deploy check is not trivially clean: the development defaults (debug, HTTP) fail it."""
    proc = taizhang(
        ["check", "--deploy", "--fail-level", "WARNING"], child_env({"DATABASE_URL": UNREACHABLE_PG})
    )
    assert proc.returncode != 0
    assert "security.W018" in proc.stderr + proc.stdout  # DEBUG


SETTINGS_JSON = """
import json
from django.conf import settings as s
db = s.DATABASES["default"]
print(json.dumps({"engine": db["ENGINE"], "max_age": db["CONN_MAX_AGE"], "pool": db.get("OPTIONS", {}).get("pool"),
    "health": db.get("CONN_HEALTH_CHECKS"), "debug": s.DEBUG, "ssl": s.SECURE_SSL_REDIRECT, "hsts": s.SECURE_HSTS_SECONDS,
    "cookies": s.SESSION_COOKIE_SECURE and s.CSRF_COOKIE_SECURE, "proxy": s.SECURE_PROXY_SSL_HEADER,
    "static": s.STORAGES["staticfiles"]["BACKEND"], "server_cursors": s.DISABLE_SERVER_SIDE_CURSORS,
    "log": s.TAIZHANG_LOG_FORMAT}))
"""


def test_production_gets_a_bounded_pool_secure_defaults_and_json_logs():
    env = {**SANE, "TAIZHANG_WEB_THREADS": "6", "TAIZHANG_DB_POOL_TIMEOUT": "3"}
    got = shell_json(SETTINGS_JSON, child_env(env))
    assert got["engine"] == "django_prometheus.db.backends.postgresql"
    assert got["max_age"] == 0 and got["health"] is True
    assert got["pool"] == {"min_size": 1, "max_size": 6, "timeout": 3, "name": "taizhang"}  # one per thread
    assert got["debug"] is False and got["ssl"] is True and got["hsts"] == 31536000 and got["cookies"] is True
    assert got["proxy"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert got["static"] == "whitenoise.storage.CompressedManifestStaticFilesStorage"
    assert got["server_cursors"] is False and got["log"] == "json"


def test_behind_pgbouncer_no_pool_and_no_server_side_cursors():
    got = shell_json(SETTINGS_JSON, child_env({**SANE, "TAIZHANG_DB_PGBOUNCER": "1"}))
    assert got["pool"] is None and got["server_cursors"] is True


def test_development_keeps_its_defaults():
    got = shell_json(SETTINGS_JSON, child_env({"DATABASE_URL": UNREACHABLE_PG}))
    assert got["pool"] is None and got["max_age"] == 60 and got["debug"] is True
    assert got["ssl"] is False and got["hsts"] == 0 and got["log"] == "text"
    assert got["static"] == "whitenoise.storage.CompressedStaticFilesStorage"

"""Failed sign-ins are limited per account and address pair, and per address over all accounts and tokens:
the web log-in, the admin log-in, API Bearer tokens and Open311 api_keys; the limit lifts after the cool-off; the client's address is REMOTE_ADDR unless
the request comes through a configured trusted proxy, and the portal's hourly limit uses the same address."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta

import pytest
import time_machine
from axes.models import AccessAttempt
from django.test import Client, RequestFactory
from django.utils import timezone

from taizhang.cases.models import Case
from taizhang.web.api.auth import issue_token
from taizhang.web.client import client_address
from tests.web.test_portal import demand_form

A, B = "198.51.100.7", "203.0.113.9"
LIMIT = 5  # TAIZHANG_LOGIN_FAILURE_LIMIT's default
ADDRESS_LIMIT = 30  # TAIZHANG_LOGIN_ADDRESS_FAILURE_LIMIT's default


def log_in(client, username: str, password: str, address: str = A, url: str = "/login/", **extra):
    return client.post(url, {"username": username, "password": password}, REMOTE_ADDR=address, **extra)


def locked(response) -> bool:
    """The lock-out page: 429 with the Chinese explanation and when to retry."""
    if response.status_code != 429:
        return False
    assert "登录失败次数过多" in response.content.decode() and response["Retry-After"] == "900"
    return True


def signed_in(response) -> bool:
    return response.status_code == 302 and not response["Location"].startswith("/login/")


# -- the web log-in ----------------------------------------------------------------------------------


def test_an_account_is_locked_at_an_address_after_the_limit_from_it(client, world):
    for _ in range(1, LIMIT):
        response = log_in(client, "paiqian", "wrong")
        assert response.status_code == 200 and "用户名或密码不正确" in response.content.decode()
    assert locked(log_in(client, "paiqian", "wrong"))
    # now even the right password is refused from that address; other accounts there are not affected
    assert locked(log_in(client, "paiqian", "pw-paiqian"))
    assert signed_in(log_in(Client(), "lingdao", "pw-lingdao"))
    # and the owner elsewhere signs in: failures from one address lock no one out at another
    assert signed_in(log_in(Client(), "paiqian", "pw-paiqian", address=B))


def test_failures_from_many_addresses_do_not_lock_the_account(client, world):
    for n in range(LIMIT * 3):
        assert log_in(client, "paiqian", "wrong", address=f"192.0.2.{n}").status_code == 200
    assert signed_in(log_in(Client(), "paiqian", "pw-paiqian", address=B))


def test_an_address_is_locked_after_its_own_limit_over_any_accounts(client, world):
    for n in range(ADDRESS_LIMIT - 1):  # password spraying: a few guesses at each of many accounts
        assert log_in(client, f"user{n // 2}", "wrong").status_code == 200
    assert locked(log_in(client, "nobody", "wrong"))
    assert locked(log_in(Client(), "jiwei", "pw-jiwei", address=A))
    assert signed_in(log_in(Client(), "jiwei", "pw-jiwei", address=B))


def test_the_address_limit_is_a_setting(client, world, settings):
    settings.TAIZHANG_LOGIN_ADDRESS_FAILURE_LIMIT = 3
    assert log_in(client, "paiqian", "wrong").status_code == 200
    assert log_in(client, "chuzhi", "wrong").status_code == 200
    assert locked(log_in(client, "hecha", "wrong"))


def test_success_clears_the_accounts_own_failures_only(client, world):
    for _ in range(LIMIT - 1):
        log_in(client, "paiqian", "wrong", address=B)
    assert signed_in(log_in(Client(), "paiqian", "pw-paiqian", address=B))
    for _ in range(LIMIT - 1):  # counting starts again
        assert log_in(Client(), "paiqian", "wrong", address=B).status_code == 200
    # guesses at others' accounts are not wiped by signing in to one's own in between
    for _ in range(LIMIT - 1):
        log_in(client, "chuzhi", "wrong", address=A)
    assert signed_in(log_in(Client(), "wangge", "pw-wangge", address=A))
    assert locked(log_in(Client(), "chuzhi", "wrong", address=A))


def test_success_clears_the_failures_from_its_own_address_only(client, world):
    for _ in range(LIMIT - 1):
        log_in(client, "paiqian", "wrong", address=A)  # a stranger's guesses
    assert signed_in(log_in(Client(), "paiqian", "pw-paiqian", address=B))
    assert locked(log_in(client, "paiqian", "wrong", address=A))


def test_the_lock_lifts_after_the_cool_off(client, world):
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        for _ in range(LIMIT):
            log_in(client, "paiqian", "wrong")
        clock.move_to(start + timedelta(minutes=14))
        assert locked(log_in(client, "paiqian", "pw-paiqian"))  # a try during the lock-out counts again
        clock.move_to(start + timedelta(minutes=14 + 16))
        assert signed_in(log_in(client, "paiqian", "pw-paiqian"))


def test_the_limit_is_a_setting(client, world, settings):
    settings.TAIZHANG_LOGIN_FAILURE_LIMIT = 2
    assert log_in(client, "paiqian", "wrong").status_code == 200
    assert log_in(client, "paiqian", "wrong").status_code == 429


def test_the_admin_log_in_is_limited_too(client, world):
    from taizhang.org.models import User

    User.objects.create_superuser("root", password="pw-root")
    for _ in range(LIMIT - 1):
        assert log_in(client, "root", "wrong", url="/admin/login/").status_code == 200
    assert locked(log_in(client, "root", "wrong", url="/admin/login/"))
    assert locked(log_in(client, "root", "pw-root", url="/admin/login/"))
    assert log_in(Client(), "root", "pw-root", url="/admin/login/", address=B).status_code == 302  # per pair


def test_the_lock_out_page_is_translated(client, world):
    client.cookies["django_language"] = "en"
    for _ in range(LIMIT - 1):
        log_in(client, "paiqian", "wrong")
    response = log_in(client, "paiqian", "wrong", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 429 and "Too many failed sign-ins" in response.content.decode()


# -- API tokens --------------------------------------------------------------------------------------


def api_get(token: str, address: str = A):
    return Client().get("/api/v1/cases", HTTP_AUTHORIZATION=f"Bearer {token}", REMOTE_ADDR=address)


def test_wrong_bearer_tokens_lock_the_address(world):
    good = issue_token(world.dispatcher, "对接系统")
    for n in range(ADDRESS_LIMIT - 1):  # a token names no account: the address's limit
        response = api_get(f"tz_guess{n}")
        assert response.status_code == 401 and response.json()["code"] == "unauthenticated"
    response = api_get("tz_guess-last")
    assert response.status_code == 429, response.content
    assert response.json()["code"] == "too_many_attempts" and "分钟" in response.json()["message"]
    assert response["Retry-After"] == "900"
    # the right token from that address is refused as well; from another address it works
    assert api_get(good).status_code == 429
    assert api_get(good, address=B).status_code == 200
    # a web log-in from the address is locked by the same count
    assert locked(log_in(Client(), "paiqian", "pw-paiqian"))


def test_good_tokens_are_not_counted(world):
    good = issue_token(world.dispatcher, "对接系统")
    for _ in range(LIMIT * 2):
        assert api_get(good).status_code == 200


def test_wrong_open311_keys_count_with_bearer_tokens(world):
    for n in range(ADDRESS_LIMIT - 2):
        assert api_get(f"tz_guess{n}").status_code == 401
    body = {"api_key": "tz_wrong", "jurisdiction_id": "LZQ", "service_code": "x", "description": "x"}
    response = Client().post("/open311/v2/requests.json", body, REMOTE_ADDR=A)
    assert response.status_code == 403
    response = Client().post("/open311/v2/requests.json", body | {"phone": "13912345678"}, REMOTE_ADDR=A)
    assert response.status_code == 429
    assert response.json()[0]["code"] == 429 and "认证失败次数过多" in response.json()[0]["description"]
    stored = " ".join(a.post_data for a in AccessAttempt.objects.all())
    assert "api_key=" in stored and "tz_wrong" not in stored and "13912345678" not in stored


# -- the client's address ----------------------------------------------------------------------------


def address_of(remote: str, forwarded: str | None = None) -> str:
    extra = {"HTTP_X_FORWARDED_FOR": forwarded} if forwarded is not None else {}
    return client_address(RequestFactory().get("/", REMOTE_ADDR=remote, **extra))


def test_without_a_trusted_proxy_forwarded_headers_are_ignored(client, world):
    assert address_of(A, "1.2.3.4") == A
    for n in range(LIMIT - 1):  # a spoofed, changing X-Forwarded-For changes nothing
        assert log_in(client, "paiqian", "wrong", HTTP_X_FORWARDED_FOR=f"10.9.9.{n}").status_code == 200
    assert locked(log_in(client, "paiqian", "wrong", HTTP_X_FORWARDED_FOR="10.9.9.200"))


@pytest.fixture
def behind_proxy(settings):
    settings.TAIZHANG_TRUSTED_PROXY_HEADER = "X-Forwarded-For"
    settings.TAIZHANG_TRUSTED_PROXIES = ["10.0.0.0/8", "fd00::/8"]


@pytest.mark.parametrize(
    ("remote", "forwarded", "client"),
    [
        ("10.0.0.2", "203.0.113.9", "203.0.113.9"),
        ("10.0.0.2", "6.6.6.6, 203.0.113.9", "203.0.113.9"),  # the left part is the client's own writing
        ("10.0.0.2", "203.0.113.9, 10.0.0.5", "203.0.113.9"),  # through two trusted proxies
        ("10.0.0.2", "203.0.113.9:5678", "203.0.113.9"),
        ("10.0.0.2", "[2001:db8::1]:443", "2001:db8::1"),
        ("10.0.0.2", "garbage, 10.0.0.5", "10.0.0.5"),  # not an address: the last proxy we know of
        ("10.0.0.2", "", "10.0.0.2"),
        ("10.0.0.2", "10.0.0.7, 10.0.0.5", "10.0.0.7"),  # all proxies: the request began inside
        ("198.51.100.1", "203.0.113.9", "198.51.100.1"),  # not from a trusted proxy: the header is ignored
        ("fd00::1", "203.0.113.9", "203.0.113.9"),
        ("", "203.0.113.9", "203.0.113.9"),  # a unix socket: only a local proxy can connect
    ],
)
def test_the_client_address_behind_trusted_proxies(behind_proxy, remote, forwarded, client):
    assert address_of(remote, forwarded) == client


def test_log_ins_through_a_trusted_proxy_count_per_client(client, world, behind_proxy):
    proxy = {"address": "10.0.0.2"}
    for n in range(LIMIT - 1):
        spoof = f"1.1.1.{n}, {A}"  # the client varies the part it writes itself
        assert log_in(client, "jiwei", "wrong", HTTP_X_FORWARDED_FOR=spoof, **proxy).status_code == 200
    assert locked(log_in(client, "jiwei", "wrong", HTTP_X_FORWARDED_FOR=A, **proxy))
    assert signed_in(log_in(Client(), "jiwei", "pw-jiwei", HTTP_X_FORWARDED_FOR=B, **proxy))


def test_the_portal_limit_counts_the_client_behind_the_proxy(client, world, behind_proxy, settings):
    settings.TAIZHANG_PORTAL_MAX_PER_HOUR = 1
    settings.TAIZHANG_CALENDAR_UNKNOWN_YEAR = "weekends"
    proxy = {"REMOTE_ADDR": "10.0.0.2"}
    first = client.post(
        "/portal/new/", demand_form(world, idempotency_key="a"), HTTP_X_FORWARDED_FOR=A, **proxy
    )
    assert first.status_code == 302
    other = Client().post(
        "/portal/new/", demand_form(world, idempotency_key="b"), HTTP_X_FORWARDED_FOR=B, **proxy
    )
    assert other.status_code == 302  # another resident behind the same proxy
    again = Client().post(
        "/portal/new/", demand_form(world, idempotency_key="c"), HTTP_X_FORWARDED_FOR=f"9.9.9.9, {A}", **proxy
    )
    assert again.status_code == 429 and Case.objects.count() == 2


# -- settings ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"TAIZHANG_LOGIN_FAILURE_LIMIT": "0"}, "TAIZHANG_LOGIN_FAILURE_LIMIT='0': must be at least 1"),
        ({"TAIZHANG_LOGIN_COOLOFF_MINUTES": "soon"}, "TAIZHANG_LOGIN_COOLOFF_MINUTES='soon'"),
        ({"TAIZHANG_LOGIN_ADDRESS_FAILURE_LIMIT": "x"}, "TAIZHANG_LOGIN_ADDRESS_FAILURE_LIMIT='x'"),
        (
            {"TAIZHANG_LOGIN_ADDRESS_FAILURE_LIMIT": "4"},
            "TAIZHANG_LOGIN_ADDRESS_FAILURE_LIMIT=4: must be at least TAIZHANG_LOGIN_FAILURE_LIMIT=5",
        ),
        ({"TAIZHANG_IPV6_LIMIT_PREFIX": "16"}, "TAIZHANG_IPV6_LIMIT_PREFIX='16': must be at least 32"),
        ({"TAIZHANG_IPV6_LIMIT_PREFIX": "129"}, "TAIZHANG_IPV6_LIMIT_PREFIX=129: must be at most 128"),
        (
            {"TAIZHANG_TRUSTED_PROXIES": "10.0.0.0/8,proxy"},
            "TAIZHANG_TRUSTED_PROXIES='10.0.0.0/8,proxy': 'proxy' is not an IP",
        ),
        ({"TAIZHANG_TRUSTED_PROXY_HEADER": "X-Forwarded-For"}, "needs TAIZHANG_TRUSTED_PROXIES"),
        (
            {"TAIZHANG_TRUSTED_PROXY_HEADER": "X Forwarded", "TAIZHANG_TRUSTED_PROXIES": "10.0.0.1"},
            "header name",
        ),
        ({"TAIZHANG_MAP_TILES": "https://{x}.example.cn/{z}/{x}/{y}.png"}, "only {s} may stand in the host"),
    ],
)
def test_bad_security_settings_stop_start_up_naming_them(env, message):
    full = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"} | env
    proc = subprocess.run(
        [sys.executable, "-m", "taizhang.cli", "check"], env=full, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode != 0
    assert message in proc.stderr

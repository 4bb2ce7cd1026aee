"""Per-address limits count one subscriber: `limit_address` gives an IPv6 client's TAIZHANG_IPV6_LIMIT_PREFIX
network (one subscriber picks any address of its /64 at will) and an IPv4-mapped address as IPv4; the log-in
lock-out, the portal's hourly limit and the anonymous upload quota all count by it."""

from __future__ import annotations

import pytest
import time_machine
from django.test import Client, RequestFactory

from taizhang.cases.models import Attachment
from taizhang.web.client import limit_address
from tests.security.test_login_throttling import LIMIT, locked, log_in, signed_in
from tests.security.test_upload_quotas import NOW, jpegs, portal_form


def limit_of(remote: str, forwarded: str | None = None) -> str:
    extra = {"HTTP_X_FORWARDED_FOR": forwarded} if forwarded is not None else {}
    return limit_address(RequestFactory().get("/", REMOTE_ADDR=remote, **extra))


@pytest.mark.parametrize(
    ("remote", "limit"),
    [
        ("203.0.113.9", "203.0.113.9"),  # IPv4: the address itself
        ("2001:db8:1:2::9", "2001:db8:1:2::"),
        ("2001:db8:1:2:aaaa:bbbb:cccc:dddd", "2001:db8:1:2::"),  # the same subscriber
        ("2001:DB8:1:2:0:0:0:1", "2001:db8:1:2::"),  # one spelling
        ("2001:db8:1:3::9", "2001:db8:1:3::"),  # the next /64: another subscriber
        ("::ffff:203.0.113.9", "203.0.113.9"),  # IPv4-mapped (dual-stack socket): the IPv4 client
        ("::1", "::"),
        ("", ""),  # a unix socket without a proxy header: nothing to group
    ],
)
def test_the_limit_address_groups_ipv6_by_prefix(remote, limit):
    assert limit_of(remote) == limit


@pytest.mark.parametrize(
    ("prefix", "limit"),
    [(48, "2001:db8:1::"), (56, "2001:db8:1:200::"), (128, "2001:db8:1:2ff::9")],
)
def test_the_ipv6_prefix_is_a_setting(settings, prefix, limit):
    settings.TAIZHANG_IPV6_LIMIT_PREFIX = prefix
    assert limit_of("2001:db8:1:2ff::9") == limit


@pytest.fixture
def behind_proxy(settings):
    settings.TAIZHANG_TRUSTED_PROXY_HEADER = "X-Forwarded-For"
    settings.TAIZHANG_TRUSTED_PROXIES = ["10.0.0.0/8"]


@pytest.mark.parametrize(
    ("remote", "forwarded", "limit"),
    [
        ("10.0.0.2", "[2001:db8:1:2::5]:443", "2001:db8:1:2::"),  # the client behind the proxy, grouped
        ("::ffff:10.0.0.2", "203.0.113.9", "203.0.113.9"),  # a trusted proxy reaching a dual-stack socket
        ("198.51.100.1", "2001:db8:1:2::5", "198.51.100.1"),  # untrusted: the header is still ignored
    ],
)
def test_the_limit_address_behind_trusted_proxies(behind_proxy, remote, forwarded, limit):
    assert limit_of(remote, forwarded) == limit


def test_log_in_failures_from_one_ipv6_subscriber_count_together(client, world):
    for n in range(1, LIMIT):
        assert log_in(client, "paiqian", "wrong", address=f"2001:db8:1:2::{n}").status_code == 200
    assert locked(log_in(client, "paiqian", "wrong", address="2001:db8:1:2:ffff::1"))
    assert locked(log_in(Client(), "paiqian", "pw-paiqian", address="2001:db8:1:2::abcd"))
    assert signed_in(log_in(Client(), "paiqian", "pw-paiqian", address="2001:db8:1:3::1"))


def test_the_anonymous_upload_quota_counts_one_ipv6_subscriber(client, world, settings):
    settings.TAIZHANG_UPLOAD_QUOTA_COUNT = 3
    with time_machine.travel(NOW, tick=False):
        form = portal_form(world, photos=jpegs(3))
        assert client.post("/portal/new/", form, REMOTE_ADDR="2001:db8:1:2::1").status_code == 302
        form = portal_form(world, idempotency_key="p-2", photos=jpegs(1))
        response = client.post("/portal/new/", form, REMOTE_ADDR="2001:db8:1:2::2")
        assert response.status_code == 429 and "上传已达上限" in response.content.decode()
        form = portal_form(world, idempotency_key="p-3", photos=jpegs(1))
        assert client.post("/portal/new/", form, REMOTE_ADDR="2001:db8:1:3::1").status_code == 302
    assert Attachment.objects.count() == 4

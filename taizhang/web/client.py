"""Who is calling: the client's address, and `limit_address`, the one answer every per-address limit uses.

Behind a reverse proxy REMOTE_ADDR is the proxy. Its forwarding header is honoured only when the request
comes from one of TAIZHANG_TRUSTED_PROXIES, and then read from the right: each trusted proxy appends the
address it received from, so the right-most address that is not a trusted proxy is the client. What lies
to its left was written by the client and is ignored (a spoofed X-Forwarded-For changes nothing).

A limit counts one subscriber, not one address: an IPv6 subscriber is given a whole prefix (usually a /64,
TAIZHANG_IPV6_LIMIT_PREFIX) and may pick any address in it for each request, so limits count the prefix;
an IPv4-mapped IPv6 address (::ffff:a.b.c.d, from a dual-stack socket) is the IPv4 address it carries.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache

from django.conf import settings
from django.http import HttpRequest

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


@lru_cache(maxsize=8)
def _networks(proxies: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(p, strict=False) for p in proxies)


def _address(text: str) -> Address | None:
    """An IP address from a header entry ("1.2.3.4", "1.2.3.4:5678", "[2001:db8::1]:443"), or None."""
    text = text.strip()
    if text.startswith("[") and "]" in text:
        text = text[1 : text.index("]")]
    elif text.count(":") == 1:  # IPv4 with a port
        text = text.split(":", 1)[0]
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def _plain(address: Address) -> Address:
    """An IPv4-mapped IPv6 address as the IPv4 address it carries; any other address as it is."""
    mapped = getattr(address, "ipv4_mapped", None)
    return mapped or address


def _trusted(address: Address | None, networks: tuple[Network, ...]) -> bool:
    return address is not None and any(_plain(address) in net for net in networks)


def from_trusted_proxy(request: HttpRequest) -> bool:
    """Whether the peer is one of TAIZHANG_TRUSTED_PROXIES (a unix socket counts: only this machine)."""
    networks = _networks(tuple(getattr(settings, "TAIZHANG_TRUSTED_PROXIES", ())))
    remote = request.META.get("REMOTE_ADDR", "") or ""
    return bool(networks) and (remote == "" or _trusted(_address(remote), networks))


def client_address(request: HttpRequest) -> str:
    """The client's IP address: REMOTE_ADDR, or the trusted proxies' forwarding header read from the right."""
    remote = request.META.get("REMOTE_ADDR", "") or ""
    header = getattr(settings, "TAIZHANG_TRUSTED_PROXY_HEADER", "")
    networks = _networks(tuple(getattr(settings, "TAIZHANG_TRUSTED_PROXIES", ())))
    # A unix-socket connection has no address and can only come from this machine: a local proxy.
    if not header or not networks or not (remote == "" or _trusted(_address(remote), networks)):
        return remote
    meta_key = "HTTP_" + header.upper().replace("-", "_")
    hops = [h for h in request.META.get(meta_key, "").split(",") if h.strip()]
    nearest = remote  # the last address known to be real: the proxy that handed the request on
    for hop in reversed(hops):
        address = _address(hop)
        if address is None:
            return nearest  # not an address: written by the client, nothing left of it is reliable
        if not _trusted(address, networks):
            return str(address)
        nearest = str(address)
    return nearest  # every hop is a trusted proxy: the request began inside


def limit_address(request: HttpRequest) -> str:
    """What every per-address limit counts (log-in and token failures, the portal's hourly limit, anonymous
    upload quotas): the client's address, an IPv6 one cut to the first address of its
    TAIZHANG_IPV6_LIMIT_PREFIX network (2001:db8:1:2::9 -> 2001:db8:1:2:: for /64), an IPv4-mapped one as
    IPv4. Still an address, so axes can store it; what is not an address (a unix socket's "") stays as it is."""
    text = client_address(request)
    try:
        address = _plain(ipaddress.ip_address(text))
    except ValueError:
        return text
    if address.version == 4:
        return str(address)
    prefix = settings.TAIZHANG_IPV6_LIMIT_PREFIX
    return str(ipaddress.IPv6Network((address, prefix), strict=False).network_address)

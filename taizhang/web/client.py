"""Who is calling: the client's address, the one answer used by every per-address limit.

Behind a reverse proxy REMOTE_ADDR is the proxy. Its forwarding header is honoured only when the request
comes from one of TAIZHANG_TRUSTED_PROXIES, and then read from the right: each trusted proxy appends the
address it received from, so the right-most address that is not a trusted proxy is the client. What lies
to its left was written by the client and is ignored (a spoofed X-Forwarded-For changes nothing).
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


def _trusted(address: Address | None, networks: tuple[Network, ...]) -> bool:
    return address is not None and any(address in net for net in networks)


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

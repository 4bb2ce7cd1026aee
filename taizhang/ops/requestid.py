"""Every request gets an id: the trusted proxy's `X-Request-ID`, or a new one. It is returned in the
`X-Request-ID` header, carried by every log line of the request (taizhang.ops.logs) and shown on error
pages, so a person's "请求编号" leads to the exact log lines.

Behind a reverse proxy the peer address is the proxy's. From a peer in TAIZHANG_TRUSTED_PROXIES the
client address is read from `X-Forwarded-For` (the nearest address that is not a trusted proxy) and put
in REMOTE_ADDR, where the portal's rate limit and the audit trail read it; from anybody else the
forwarding headers (and the HTTPS header of SECURE_PROXY_SSL_HEADER) are dropped, so a client cannot
pretend to be another address, to have been checked by the proxy, or to use HTTPS.
"""

from __future__ import annotations

import ipaddress
import re
import uuid
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from .context import request_id

HEADER = "X-Request-ID"
VALID_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$")
FORWARDING = ("HTTP_X_FORWARDED_FOR", "HTTP_X_REQUEST_ID", "HTTP_X_REAL_IP")


def parse_ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text.strip())
    except ValueError:
        return None


def is_trusted(address: str, networks) -> bool:
    ip = parse_ip(address)
    return ip is not None and any(ip in net for net in networks)


def client_address(forwarded_for: str, networks) -> str | None:
    """The nearest address of X-Forwarded-For that is not one of our proxies (proxies append on the right)."""
    hops = [h.strip() for h in forwarded_for.split(",") if h.strip()]
    for hop in reversed(hops):
        ip = parse_ip(hop)
        if ip is None:
            return None  # a malformed chain: keep the peer address rather than guess
        if not any(ip in net for net in networks):
            return str(ip)
    return str(parse_ip(hops[0])) if hops else None


class RequestIdMiddleware:
    """Outermost middleware: the request id, and the client address from the trusted proxy."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response
        self.networks = settings.TAIZHANG_TRUSTED_PROXIES
        ssl_header = getattr(settings, "SECURE_PROXY_SSL_HEADER", None)
        self.dropped = FORWARDING + ((ssl_header[0],) if ssl_header else ())

    def __call__(self, request: HttpRequest) -> HttpResponse:
        meta = request.META
        given = ""
        if is_trusted(meta.get("REMOTE_ADDR", ""), self.networks):
            client = client_address(meta.get("HTTP_X_FORWARDED_FOR", ""), self.networks)
            if client:
                meta["REMOTE_ADDR"] = client
            given = meta.get("HTTP_X_REQUEST_ID", "")
        else:
            for key in self.dropped:
                meta.pop(key, None)
        rid = given if VALID_ID.match(given) else uuid.uuid4().hex
        request.request_id = rid
        token = request_id.set(rid)
        try:
            response = self.get_response(request)
        finally:
            request_id.reset(token)
        response[HEADER] = rid
        return response

"""Every request gets an id: the trusted proxy's `X-Request-ID`, or a new one. It is returned in the
`X-Request-ID` header, carried by every log line of the request (taizhang.ops.logs) and shown on error
pages, so a person's "请求编号" leads to the exact log lines.

Behind a reverse proxy the peer address is the proxy's. From a peer in TAIZHANG_TRUSTED_PROXIES the
client address is the one `taizhang.web.client.client_address` reads from TAIZHANG_TRUSTED_PROXY_HEADER,
and it is put in REMOTE_ADDR for everything after (logs, the audit trail); from anybody else the
forwarding headers (and the HTTPS header of SECURE_PROXY_SSL_HEADER) are dropped, so a client cannot
pretend to be another address, to have been checked by the proxy, or to use HTTPS.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from taizhang.web.client import client_address, from_trusted_proxy

from .context import request_id

HEADER = "X-Request-ID"
VALID_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$")
FORWARDING = ("HTTP_X_FORWARDED_FOR", "HTTP_X_REQUEST_ID", "HTTP_X_REAL_IP")


class RequestIdMiddleware:
    """Outermost middleware: the request id, and the client address from the trusted proxy."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response
        ssl_header = getattr(settings, "SECURE_PROXY_SSL_HEADER", None)
        forwarded = settings.TAIZHANG_TRUSTED_PROXY_HEADER
        self.dropped = (
            FORWARDING
            + ((ssl_header[0],) if ssl_header else ())
            + (("HTTP_" + forwarded.upper().replace("-", "_"),) if forwarded else ())
        )

    def __call__(self, request: HttpRequest) -> HttpResponse:
        meta = request.META
        given = ""
        if from_trusted_proxy(request):
            meta["REMOTE_ADDR"] = client_address(request)
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

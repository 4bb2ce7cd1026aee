"""/healthz, /readyz and /metrics, answered before host validation, HTTPS redirects, sessions and login:
probes and Prometheus call the app directly (http://app:8000/healthz, any Host header), and these answers
need neither a person nor, for /healthz, the database.

* /healthz — the process serves requests (no database): 200 {"status": "ok"}.
* /readyz — the database answers, migrations are applied, mechanisms and static files are there: 200
  {"status": "ready", "checks": {…}}, else 503 {"status": "unavailable", "reason": "…", "checks": {…}}.
* /metrics — Prometheus text, only for TAIZHANG_METRICS_ALLOW addresses or the TAIZHANG_METRICS_TOKEN
  bearer token (taizhang.ops.metrics).
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, JsonResponse

from .metrics import metrics_view
from .readiness import readiness


def no_store(response: HttpResponse) -> HttpResponse:
    response["Cache-Control"] = "no-store"
    return response


def healthz(request: HttpRequest) -> HttpResponse:
    return JsonResponse({"status": "ok"})


def readyz(request: HttpRequest) -> HttpResponse:
    result = readiness()
    if result.ready:
        return JsonResponse({"status": "ready", "checks": result.checks})
    body = {"status": "unavailable", "reason": result.reason, "checks": result.checks}
    response = JsonResponse(body, status=503, json_dumps_params={"ensure_ascii": False})
    response["Retry-After"] = "5"
    return response


ENDPOINTS: dict[str, Callable[[HttpRequest], HttpResponse]] = {
    "/healthz": healthz,
    "/readyz": readyz,
    "/metrics": metrics_view,
}


class OpsEndpointsMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        view = ENDPOINTS.get(request.path_info)
        if view is None:
            return self.get_response(request)
        if request.method not in ("GET", "HEAD"):
            body = {"code": "method_not_allowed", "message": "只支持 GET"}
            response = JsonResponse(body, status=405, json_dumps_params={"ensure_ascii": False})
            response["Allow"] = "GET, HEAD"
            return response
        return no_store(view(request))

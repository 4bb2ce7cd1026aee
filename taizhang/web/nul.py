"""Requests with a NUL character in the path or a parameter are refused (400) before any view runs.

PostgreSQL cannot store or compare text holding U+0000: such a value reaching a query (a filter, a case
number, a division code) raised DataError, a server error, on public pages too. No valid identifier or
search holds NUL, so the request is answered with a clear error instead — on every database alike.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse

MESSAGE = "请求中含有空字符（NUL），无法处理"


def has_nul(request: HttpRequest) -> bool:
    """Whether the path, a query parameter or a url-encoded form field (name or value) holds NUL."""
    if "\x00" in request.path:
        return True
    params = [request.GET]
    if request.method == "POST" and request.content_type == "application/x-www-form-urlencoded":
        params.append(request.POST)
    return any("\x00" in key or any("\x00" in v for v in q.getlist(key)) for q in params for key in q)


class RefuseNulMiddleware:
    """400 for a request `has_nul` finds: `invalid_characters` in the API's error format under /api/,
    Open311's own error list (JSON for a .json path, else XML) under /open311/, plain text elsewhere."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not has_nul(request):
            return self.get_response(request)
        if request.path.startswith("/open311/"):
            from taizhang.intake.open311.render import error_response

            return error_response("json" if request.path.endswith(".json") else "xml", 400, [MESSAGE])
        if request.path.startswith("/api/"):
            body = {"code": "invalid_characters", "message": MESSAGE, "errors": []}
            return JsonResponse(body, status=400, json_dumps_params={"ensure_ascii": False})
        return HttpResponseBadRequest(MESSAGE, content_type="text/plain; charset=utf-8")

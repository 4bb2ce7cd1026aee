"""Requests that cannot be read, answered in one place: 400 (413 when too big) in the format of the part
of the site asked — the API's JSON error, Open311's error list, a page — never a server error.

Django parses the query string and the body lazily, wherever a view or another middleware first touches
`request.GET`, `request.POST` or `request.body`; a multipart body without a boundary, a body cut short by
a client that went away, too many fields or a body over `DATA_UPLOAD_MAX_MEMORY_SIZE` then raise there,
and each place would answer differently (ninja turns them into a 500 when debugging, a dropped
connection is always a 500). This middleware reads them first, the way the views will (Django keeps the
result), and answers every such failure the same way.

A NUL character (%00) in the path or a query parameter is refused here too: no code, number or search
term of the platform contains one, and PostgreSQL cannot compare text with it (every lookup would fail).
Bodies are the actions' business (text is normalised at intake).
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import BadRequest, RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.http import HttpRequest, HttpResponse, JsonResponse, UnreadablePostError
from django.http.multipartparser import MultiPartParserError
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

from taizhang.errors import NUL, NUL_MESSAGE, ActionError, FieldError, contains_nul, invalid
from taizhang.intake.open311.actions import error_of
from taizhang.intake.open311.render import error_response

from .pages import refused_page

# Form bodies Django parses into request.POST (multipart streams to the upload handlers, never whole in memory).
FORM_TYPES = ("multipart/form-data", "application/x-www-form-urlencoded")
# Parts of the site with their own error format, by path (see taizhang/urls.py).
API_PREFIX = "/api/"
OPEN311_PREFIX = "/open311/"


class MalformedRequestMiddleware:
    """Read the query string and the body before any view; answer what cannot be read (see the module)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            read_request(request)
        except ActionError as exc:
            return malformed_response(request, exc)
        return self.get_response(request)


def read_request(request: HttpRequest) -> None:
    """Parse the query string and the body now (Django caches both); ActionError when they cannot be read."""
    try:
        check_no_nul(request)
        if not content_length(request):
            return
        if request.method == "POST" and request.content_type in FORM_TYPES:
            request.POST  # noqa: B018
        else:
            request.body  # noqa: B018
    except RequestDataTooBig:
        limit = filesizeformat(settings.DATA_UPLOAD_MAX_MEMORY_SIZE)
        message = f"请求体过大：JSON 或表单字段不得超过 {limit}（上传的文件另有上限）"
        raise ActionError("request_too_large", message, 413) from None
    except (TooManyFieldsSent, TooManyFilesSent):
        raise ActionError("too_many_fields", "请求中的字段或文件过多", 400) from None
    except (MultiPartParserError, UnreadablePostError, BadRequest):
        raise malformed_body() from None


def check_no_nul(request: HttpRequest) -> None:
    """400 for a NUL in the path, 422 naming each query parameter with one in its name or value."""
    if NUL in request.path_info:
        raise ActionError("malformed_request", "请求路径含有空字符（%00）", 400)
    names = sorted(
        name.replace(NUL, "%00")
        for name, values in request.GET.lists()  # parsing it also counts the fields (too many: 400)
        if contains_nul([name, values])
    )
    if names:
        raise invalid(
            [FieldError(name, "nul_character", NUL_MESSAGE) for name in names],
            f"查询参数{NUL_MESSAGE}：{'、'.join(names)}",
        )


def content_length(request: HttpRequest) -> int:
    """The declared length of the body; ActionError when the header is not a number."""
    raw = request.META.get("CONTENT_LENGTH") or "0"
    if not (raw.isascii() and raw.isdigit()):  # "²" is a digit int() refuses
        raise malformed_body()
    return int(raw)


def malformed_body() -> ActionError:
    return ActionError(
        "malformed_body",
        "请求体无法解析：内容不完整、长度与 Content-Length 不符，或 multipart/form-data 缺少有效的 boundary",
        400,
    )


def malformed_response(request: HttpRequest, exc: ActionError) -> HttpResponse:
    """The error in the format of the part of the site the request was for."""
    path = request.path_info
    if path.startswith(API_PREFIX):
        return JsonResponse(exc.as_dict(), status=exc.status)
    if path.startswith(OPEN311_PREFIX):
        err = error_of(exc)
        return error_response("json" if path.endswith(".json") else "xml", err.status, err.descriptions)
    return refused_page(request, _("请求无法处理"), exc)

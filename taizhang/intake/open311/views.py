"""Open311 GeoReport v2 views: parse the request, call one action or query, render XML or JSON."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from functools import wraps
from pathlib import Path
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, QueryDict
from django.views.decorators.csrf import csrf_exempt

from taizhang.errors import ActionError
from taizhang.mechanisms.registry import get_registry

from . import requests as reqs
from .actions import Open311Post, do_open311_create, error_of
from .keys import authenticate
from .render import FORMATS, Open311Error, error_response, respond, w3c
from .services import all_services, definition_data, get_service, service_data

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
ATTRIBUTE = re.compile(r"^attribute\[([^\]]+)\](\[\])?$")


def endpoint(*methods: str) -> Callable:
    """Allow these methods, and turn Open311 and action errors into the spec's error list."""

    def wrap(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def run(request: HttpRequest, fmt: str = "xml", **kwargs: Any) -> HttpResponse:
            if request.method not in methods:
                response = error_response(fmt, 405, [f"不支持 {request.method} 方法"])
                response["Allow"] = ", ".join(methods)
                return response
            try:
                return view(request, fmt, **kwargs)
            except Open311Error as exc:
                return error_response(fmt, exc.status, exc.descriptions)
            except ActionError as exc:
                err = error_of(exc)
                return error_response(fmt, err.status, err.descriptions)

        return run

    return wrap


def params(query: QueryDict, cls: type) -> Any:
    """A dataclass of string parameters from a query string (unknown parameters are ignored)."""
    return cls(**{name: query.get(name, "") for name in cls.__dataclass_fields__ if name in query})


def changeset() -> str | None:
    """When the services last changed: the newest mechanism file's modification time."""
    directory = Path(settings.TAIZHANG_MECHANISM_DIR)
    times = []
    for mech in get_registry().mechanisms.values():
        try:
            times.append((directory / mech.file).stat().st_mtime)
        except OSError:
            continue
    return w3c(datetime.fromtimestamp(max(times), tz=UTC)) if times else None


@endpoint("GET")
def discovery(request: HttpRequest, fmt: str) -> HttpResponse:
    changed = changeset()
    url = request.build_absolute_uri("/open311/v2/")
    body = {
        "changeset": changed,
        "contact": getattr(settings, "TAIZHANG_OPEN311_CONTACT", "") or "请联系平台管理员",
        "key_service": "api_key 为 Open311 密钥（请求头 X-API-Key 或参数 api_key）：由管理员以"
        " `taizhang open311 key create 用户名` 签发，用户须为受理员；台账接口令牌不能用于 Open311",
        "endpoints": [
            {
                "specification": SPECIFICATION,
                "url": url,
                "changeset": changed,
                "type": "production",
                "formats": ["text/xml", "application/json"],
            }
        ],
    }
    return respond(fmt, "discovery", body)


@endpoint("GET")
def services(request: HttpRequest, fmt: str) -> HttpResponse:
    reqs.jurisdiction_of(request.GET.get("jurisdiction_id", ""))
    return respond(fmt, "services", [service_data(s) for s in all_services()])


@endpoint("GET")
def service_definition(request: HttpRequest, fmt: str, code: str) -> HttpResponse:
    reqs.jurisdiction_of(request.GET.get("jurisdiction_id", ""))
    return respond(fmt, "service_definition", definition_data(get_service(code)))


def post_of(request: HttpRequest) -> Open311Post:
    """The POST parameters (form-encoded or multipart); api_key from the X-API-Key header, the form or
    the query string — two different keys in one request are a 400, not a guess."""
    form = request.POST
    post = params(form, Open311Post)
    sent = {
        k for k in (request.headers.get("X-API-Key", ""), post.api_key, request.GET.get("api_key", "")) if k
    }
    if len(sent) > 1:
        raise Open311Error(400, "请求头 X-API-Key 与参数 api_key 不一致，只能提供一个密钥")
    post.api_key = sent.pop() if sent else ""
    for name in form:
        match = ATTRIBUTE.match(name)
        if match:
            values = form.getlist(name)
            post.attributes[match.group(1)] = values if match.group(2) else values[-1]
    return post


@csrf_exempt
@endpoint("GET", "POST")
def service_requests(request: HttpRequest, fmt: str) -> HttpResponse:
    if request.method == "POST":
        post = post_of(request)
        key = authenticate(request, post.api_key.strip())
        case, created, token = do_open311_create(key, post)
        body = [
            {
                "service_request_id": case.number,
                "token": token,
                "service_notice": notice(case),
                "account_id": post.account_id or None,
            }
        ]
        return respond(fmt, "service_requests", body, status=201 if created else 200)
    cases = reqs.find_requests(params(request.GET, reqs.RequestQuery))
    return respond(fmt, "service_requests", reqs.requests_data(cases))


def notice(case: Any) -> str:
    """What the reporter can expect: the public state and, if there is one, the current deadline."""
    state = reqs.public_state(case.mechanism, case.state)
    if case.due_at is None:
        return state
    return f"{state}，当前环节办理时限至 {w3c(case.due_at)}"


@endpoint("GET")
def service_request(request: HttpRequest, fmt: str, ref: str) -> HttpResponse:
    return respond(fmt, "service_requests", reqs.requests_data([reqs.get_request(ref)]))


@endpoint("GET")
def token(request: HttpRequest, fmt: str, token: str) -> HttpResponse:
    return respond(fmt, "service_requests", reqs.token_data(token))


@endpoint("GET")
def updates(request: HttpRequest, fmt: str) -> HttpResponse:
    rows = reqs.find_updates(params(request.GET, reqs.UpdateQuery))
    return respond(fmt, "service_request_updates", rows)


@csrf_exempt
def not_found(request: HttpRequest, rest: str = "") -> HttpResponse:
    """Any other path under /open311/v2/: a 404 in the suffix's format (XML by default)."""
    name, _, fmt = rest.rpartition(".") if "." in rest else (rest, "", "xml")
    if fmt not in FORMATS:
        name, fmt = rest, "xml"
    return error_response(fmt, 404, [f"没有这个资源：{name or '/'}"])

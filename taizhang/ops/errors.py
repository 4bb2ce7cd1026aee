"""The answer to an unexpected error: logged once with its traceback and the request id, answered with
the request id so that a report can be matched with the log line.

* No database connection to be had — the pool gave none within TAIZHANG_DB_POOL_TIMEOUT, PostgreSQL
  refuses or is down, SQLite stayed locked — is 503 with `Retry-After`: the request may be retried and
  nothing was written (its transaction never began or was rolled back).
* Anything else is 500.

The API (and Open311, and any client asking for JSON) gets the API's error format
`{"code": "server_error" | "service_unavailable", "message", "request_id"}`; pages get a short page.
`server_error` is Django's handler500 (taizhang/urls.py), called with the exception being handled;
the API's own handler (taizhang/web/api/api.py) calls `api_error` with the exception.
"""

from __future__ import annotations

import html
import logging
import sqlite3
import sys

import psycopg
from django.db import OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from psycopg_pool import PoolTimeout

from .context import request_id

log = logging.getLogger("django.request")
RETRY_AFTER = "5"
# SQLSTATEs of "no connection": connection exceptions (08…), too many connections, server shutting down.
NO_CONNECTION_STATES = ("08", "53300", "57P01", "57P02", "57P03")
JSON_PREFIXES = ("/api/", "/open311/")
PAGE = """<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>{title}</title></head>
<body style="font-family:sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem;line-height:1.6">
<h1>{title}</h1><p>{message}</p><p>请求编号：<code>{rid}</code></p><p><a href="/">返回首页</a></p></body></html>"""


def no_connection(exc: BaseException | None) -> bool:
    """Whether the exception (or one it was raised from) means no database connection could be had."""
    seen = 0
    while exc is not None and seen < 10:
        if isinstance(exc, PoolTimeout):
            return True
        if isinstance(exc, psycopg.OperationalError):
            state = exc.sqlstate or ""
            return not state or state.startswith(NO_CONNECTION_STATES)
        if isinstance(exc, sqlite3.OperationalError):
            return "locked" in str(exc) or "unable to open" in str(exc)
        exc, seen = exc.__cause__ or exc.__context__, seen + 1
    return False


def describe(exc: BaseException | None) -> tuple[int, str, str, str]:
    """(status, code, title, message) for an unexpected exception."""
    if isinstance(exc, OperationalError | PoolTimeout) and no_connection(exc):
        return 503, "service_unavailable", "系统繁忙", "系统繁忙，暂时无法连接数据库，请稍后重试。"
    return (
        500,
        "server_error",
        "服务器内部错误",
        "服务器内部错误，已记录在案。如需反馈，请提供下面的请求编号。",
    )


def wants_json(request: HttpRequest) -> bool:
    accept = request.META.get("HTTP_ACCEPT", "")
    return request.path.startswith(JSON_PREFIXES) or (
        "application/json" in accept and "text/html" not in accept
    )


def error_response(request: HttpRequest, exc: BaseException | None) -> HttpResponse:
    status, code, title, message = describe(exc)
    rid = getattr(request, "request_id", None) or request_id.get()
    if wants_json(request):
        body = {"code": code, "message": f"{message}（请求编号 {rid}）", "request_id": rid}
        response: HttpResponse = JsonResponse(body, status=status, json_dumps_params={"ensure_ascii": False})
    else:
        page = PAGE.format(title=title, message=html.escape(message), rid=html.escape(rid))
        response = HttpResponse(page, status=status, content_type="text/html; charset=utf-8")
    if status == 503:
        response["Retry-After"] = RETRY_AFTER
    return response


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500: Django logs the exception (django.request, with its traceback) after this returns."""
    return error_response(request, sys.exc_info()[1])


def api_error(request: HttpRequest, exc: Exception) -> HttpResponse:
    """For an API exception handler, which keeps the exception from Django: log it here, once."""
    response = error_response(request, exc)
    log.error(
        "%s: %s",
        response.reason_phrase,
        request.path,
        exc_info=(type(exc), exc, exc.__traceback__),
        extra={"status_code": response.status_code, "request": request},
    )
    response._has_been_logged = True  # Django's own log_response would write it again, without traceback
    return response

"""The JSON API at /api/v1: every error is {code, message, errors[]} with a fitting HTTP status."""

from __future__ import annotations

from django.core.exceptions import BadRequest, PermissionDenied, SuspiciousOperation
from django.http import Http404, RawPostDataException
from django.http.multipartparser import MultiPartParserError
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError

from taizhang.errors import ActionError, pydantic_message
from taizhang.ops.errors import api_error
from taizhang.web.lockout import TooManyAttempts

from .auth import API_AUTH

# What taizhang.web.malformed answers for any operation before it runs, so the schema says it too.
REQUEST_ERRORS = {
    400: "请求无法读取：multipart 缺少 boundary、内容不完整、Content-Length 有误或路径含空字符（malformed_body、malformed_request）",
    413: "请求体过大（request_too_large）",
    422: "查询参数含空字符（invalid，字段错误 nul_character）",
}


class TaizhangApi(NinjaAPI):
    """The API whose OpenAPI schema also lists the errors of reading a request (REQUEST_ERRORS)."""

    def get_openapi_schema(self, **kwargs):
        schema = super().get_openapi_schema(**kwargs)
        content = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorOut"}}}
        for operations in schema["paths"].values():
            for operation in operations.values():
                for status, description in REQUEST_ERRORS.items():
                    operation["responses"].setdefault(
                        status, {"description": description, "content": content}
                    )
        return schema


api = TaizhangApi(
    title="台账 Taizhang API",
    version="1",
    urls_namespace="api-1",
    auth=API_AUTH,
    description="基层治理闭环平台接口。认证：`Authorization: Bearer <令牌>` 或登录会话。",
)


def error(request, status: int, code: str, message: str, errors: list[dict] | None = None):
    body = {"code": code, "message": message}
    if errors:
        body["errors"] = errors
    return api.create_response(request, body, status=status)


@api.exception_handler(ActionError)
def on_action_error(request, exc: ActionError):
    return api.create_response(request, exc.as_dict(), status=exc.status)


@api.exception_handler(TooManyAttempts)
def on_too_many_attempts(request, exc: TooManyAttempts):
    response = on_action_error(request, exc)
    response["Retry-After"] = str(exc.retry_after)
    return response


SOURCES = ("body", "query", "path", "form", "file", "header", "cookie")


def field_of(loc: list) -> str:
    """The field a pydantic error is about: its location without the source and the body's parameter name.

    ("body", "payload", "fields", "x") -> "fields.x"; ("query", "limit") -> "limit";
    ("file", "file") -> "file".
    """
    parts = list(loc)
    if parts and parts[0] in SOURCES:
        source = parts.pop(0)
        if source == "body" and parts and parts[0] == "payload":
            parts.pop(0)
    return ".".join(str(p) for p in parts) or "body"


# Errors only the API's request parsing produces, beyond taizhang.errors.PYDANTIC_MESSAGES.
API_MESSAGES = {
    "model_attributes_type": "请求体应为 JSON 对象",
    "model_type": "请求体应为 JSON 对象",
}


@api.exception_handler(NinjaValidationError)
def on_validation_error(request, exc: NinjaValidationError):
    errors = []
    for e in exc.errors:
        field = field_of(list(e.get("loc", [])))
        code = e.get("type", "invalid")
        message = API_MESSAGES.get(code) if field == "body" else None
        errors.append({"field": field, "code": code, "message": message or pydantic_message(e)})
    return error(request, 422, "invalid", "提交的内容有误", errors)


@api.exception_handler(AuthenticationError)
def on_auth_error(request, exc):
    return error(request, 401, "unauthenticated", "请先登录或提供有效的接口令牌")


@api.exception_handler(Http404)
def on_404(request, exc):
    return error(request, 404, "not_found", "找不到该资源或无权查看")


JSON_BODY = "请求体无法解析：须为有效的 JSON（上传文件用 multipart/form-data）"


@api.exception_handler(HttpError)
def on_http_error(request, exc: HttpError):
    if exc.status_code == 400:
        return error(request, 400, "malformed_body", JSON_BODY)
    if exc.status_code == 403 and "CSRF" in str(exc):
        return error(request, 403, "csrf_failed", "CSRF 校验失败：会话认证的写请求须带 X-CSRFToken 请求头")
    return error(request, exc.status_code, "error", str(exc))


@api.exception_handler(RawPostDataException)
def on_form_body(request, exc):
    """A form body (already parsed by taizhang.web.malformed) sent to an endpoint that takes JSON."""
    return error(request, 400, "malformed_body", JSON_BODY)


# Django's own exceptions keep their meaning (403, 400) when they are raised inside an endpoint.
DJANGO_HANDLED = (PermissionDenied, SuspiciousOperation, BadRequest, MultiPartParserError)


@api.exception_handler(Exception)
def on_unexpected(request, exc: Exception):
    """A bug or an outage: logged with its traceback and answered in the API's error format with the
    request id (500 server_error; 503 service_unavailable when no database connection could be had).
    Without this, django-ninja answers with a traceback (DEBUG) or leaves it to Django's HTML page."""
    if isinstance(exc, DJANGO_HANDLED):
        raise exc
    return api_error(request, exc)


from . import cases  # noqa: E402  (routes register on import)

api.add_router("/", cases.router)
api.add_router("/", "taizhang.web.api.kpis.router")  # 考核指标
api.add_router("/", "taizhang.web.api.notices.router")  # written notices (书面告知)
api.add_router("/", "taizhang.insight.api.router")  # similar cases, me too
api.add_router("/", "taizhang.insight.hotspot_api.router")  # hot spots
api.add_router("/", "taizhang.insight.reply_api.router")  # reply quality
api.add_router("/", "taizhang.web.api.registers.router")  # registers (台账): never cases

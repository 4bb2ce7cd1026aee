"""Errors an action can end with: an HTTP status, a stable machine code and a Chinese message."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class FieldError:
    field: str
    code: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "code": self.code, "message": self.message}


@dataclass
class ActionError(Exception):
    """Raised by check_* and do_* actions; views and API endpoints turn it into a response."""

    code: str
    message: str
    status: int = 400
    errors: list[FieldError] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__init__(self.message)

    def as_dict(self) -> dict:
        body: dict = {"code": self.code, "message": self.message}
        if self.errors:
            body["errors"] = [e.as_dict() for e in self.errors]
        return body


def invalid(errors: list[FieldError], message: str = "提交的内容有误") -> ActionError:
    return ActionError("invalid", message, 422, errors)


def forbidden(code: str, message: str) -> ActionError:
    return ActionError(code, message, 403)


def not_found(message: str = "找不到该案件或无权查看") -> ActionError:
    return ActionError("not_found", message, 404)


def conflict(code: str, message: str) -> ActionError:
    return ActionError(code, message, 409)


# No text of the platform holds a NUL character, and PostgreSQL can neither store nor compare one.
NUL = "\x00"
NUL_MESSAGE = "不能含有空字符（NUL）"


def contains_nul(value: Any) -> bool:
    """Whether text, or lists and mappings of it (keys included), hold a NUL character."""
    if isinstance(value, str):
        return NUL in value
    if isinstance(value, dict):
        return any(contains_nul(k) or contains_nul(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(contains_nul(v) for v in value)
    return False


def refuse_nul(**values: Any) -> None:
    """422 naming each of the given fields that holds a NUL (before it reaches a lookup or a write)."""
    errors = [FieldError(name, "nul_character", NUL_MESSAGE) for name, v in values.items() if contains_nul(v)]
    if errors:
        raise invalid(errors)


PYDANTIC_MESSAGES = {
    "missing": "缺少必填项",
    "extra_forbidden": "未知的键",
    "string_pattern_mismatch": "格式不符",
    "literal_error": "取值不在允许范围内",
    "too_short": "不能为空",
    "list_type": "应为列表",
    "dict_type": "应为映射",
    "string_type": "应为字符串",
    "int_type": "应为整数",
    "int_parsing": "应为整数",
    "bool_type": "应为 true 或 false",
    "bool_parsing": "应为 true 或 false",
    "greater_than_equal": "数值过小",
    "less_than_equal": "数值过大",
    "greater_than": "数值过小",
    "model_type": "应为映射",
    "string_too_long": "内容过长",
    "float_parsing": "应为数字",
    "decimal_parsing": "应为数字",
    "date_from_datetime_parsing": "日期格式应为 YYYY-MM-DD",
    "date_parsing": "日期格式应为 YYYY-MM-DD",
    "json_invalid": "不是有效的 JSON",
}


def pydantic_message(err: dict) -> str:
    """A Chinese message for one pydantic error (the type code stays the machine-readable part)."""
    message = PYDANTIC_MESSAGES.get(err["type"], err.get("msg", "取值无效"))
    ctx = err.get("ctx") or {}
    if err["type"] == "literal_error":
        message = f"{message}：{ctx.get('expected', '')}"
    elif err["type"] == "string_pattern_mismatch":
        message = f"{message}（应匹配 {ctx.get('pattern', '')}）：{err.get('input')!r}"
    elif err["type"] == "string_too_long":
        message = f"{message}（最多 {ctx.get('max_length', '')} 个字符）"
    return message

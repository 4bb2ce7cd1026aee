"""Errors an action can end with: an HTTP status, a stable machine code and a Chinese message."""

from __future__ import annotations

from dataclasses import dataclass, field


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

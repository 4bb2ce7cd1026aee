"""The shape of a mechanism, pack or rules file: pydantic errors as Problems on the right line, in Chinese."""

from __future__ import annotations

import difflib
import types
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError

from taizhang.errors import pydantic_message

from .errors import MechanismError
from .yamlfile import LinedData

# Keys whose values are durations ("3 工作日"): a bare number there gets a hint about the unit.
DURATION_KEYS = {"limit", "after", "extend_max", "within"}


def parse_model(lined: LinedData, model: type[BaseModel]) -> Any:
    """Validate the shape; every pydantic error becomes a Problem on the right line."""
    if not isinstance(lined.data, dict):
        message = "文件为空" if lined.data is None else "文件顶层应为映射（键: 值），不是列表或单个值"
        raise MechanismError([lined.problem((), message)])
    try:
        return model.model_validate(lined.data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            loc = tuple(part for part in err["loc"] if part != "[key]")
            problems.append(lined.problem(loc, shape_message(err, model)))
        raise MechanismError(problems) from None


def shape_message(err: dict, root: type[BaseModel]) -> str:
    """A Chinese message for one pydantic error, with what the author can write instead."""
    kind, loc, value = err["type"], tuple(err["loc"]), err.get("input")
    ctx = err.get("ctx") or {}
    if kind == "extra_forbidden":
        key = str(loc[-1])
        allowed = allowed_keys(root, loc[:-1])
        message = f"未知的键 '{key}'"
        guess = difflib.get_close_matches(key, allowed, n=1)
        if guess:
            message += f"，是否应为 '{guess[0]}'？"
        return message + (f"（可用：{'、'.join(allowed)}）" if allowed else "")
    if kind == "literal_error":
        return f"取值 {value!r} 不在允许范围内（可用：{ctx.get('expected', '')}）"
    if kind == "string_too_short":
        return "不能为空"
    if kind == "too_short" and (ctx.get("min_length") or 0) > 1:
        return f"至少要有 {ctx['min_length']} 项"
    if kind in ("model_type", "dict_type", "model_attributes_type"):
        return "应为映射（键: 值）"
    if kind == "int_type":
        return "应为整数"
    if kind == "float_type":
        return "应为数字"
    if kind == "string_type":
        if isinstance(value, bool):
            return "应为字符串（未加引号的 yes/no/on/off/true/false 会被读成布尔值，请加引号）"
        in_duration = any(part in DURATION_KEYS or part == "remind_before" for part in loc[-2:])
        if in_duration and isinstance(value, int | float):
            return "时限须写明单位，例如 '3 工作日'、'2 小时'"
        if isinstance(value, int | float):
            return "应为字符串（数字请加引号）"
    message = pydantic_message(err)
    return f"取值无效：{message}" if message == err.get("msg") else message


def _unwrap(tp: Any) -> Any:
    while True:
        origin = get_origin(tp)
        if origin is Annotated:
            tp = get_args(tp)[0]
        elif origin in (Union, types.UnionType):
            tp = next(arg for arg in get_args(tp) if arg is not type(None))
        else:
            return tp


def allowed_keys(root: type[BaseModel], loc: tuple) -> list[str]:
    """The keys the model at `loc` (a pydantic error location) accepts, by their names in the file."""
    tp: Any = root
    for part in loc:
        tp = _unwrap(tp)
        if get_origin(tp) in (list, dict):
            tp = get_args(tp)[-1]
            continue
        if not (isinstance(tp, type) and issubclass(tp, BaseModel)):
            return []
        field = next((f for name, f in tp.model_fields.items() if part in (name, f.alias)), None)
        if field is None:
            return []
        tp = field.annotation
    tp = _unwrap(tp)
    if not (isinstance(tp, type) and issubclass(tp, BaseModel)):
        return []
    return [f.alias or name for name, f in tp.model_fields.items()]

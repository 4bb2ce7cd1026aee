"""Checking the values of a mechanism's form fields."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from taizhang.errors import FieldError
from taizhang.mechanisms.schema import FieldDef


def clean_value(field: FieldDef, value: Any) -> tuple[Any, str | None]:
    """The stored (JSON-safe) form of a value, or an error message in Chinese."""
    if value is None or value == "" or value == []:
        return None, None
    kind = field.type
    if kind == "computed":
        return None, "由系统根据其他字段计算，不能填写"
    if kind in ("text", "textarea"):
        if not isinstance(value, str):
            return None, "应为文本"
        value = value.strip()
        if field.max_length and len(value) > field.max_length:
            return None, f"不能超过 {field.max_length} 个字"
        return value, None
    if kind == "int":
        if isinstance(value, bool):
            return None, "应为整数"
        try:
            number = int(str(value))
        except ValueError:
            return None, "应为整数"
        return number, None
    if kind == "decimal":
        try:
            number = Decimal(str(value))
        except InvalidOperation:
            return None, "应为数字"
        if not number.is_finite():
            return None, "应为数字"
        return str(number), None
    if kind == "date":
        try:
            return date.fromisoformat(str(value)).isoformat(), None
        except ValueError:
            return None, "日期格式应为 YYYY-MM-DD"
    if kind == "datetime":
        try:
            return datetime.fromisoformat(str(value)).isoformat(), None
        except ValueError:
            return None, "时间格式应为 ISO 8601"
    if kind == "bool":
        if isinstance(value, bool):
            return value, None
        return None, "应为 true 或 false"
    if kind == "reference":
        # An item number; whether the item exists and the person may see it is checked by the action
        # that takes the value (taizhang.registers.references), which knows the person.
        if not isinstance(value, str) or not 0 < len(value.strip()) <= 40:
            return None, "应为台账条目编号"
        return value.strip(), None
    codes = {c.code for c in field.choices}
    if kind == "choice":
        return (value, None) if value in codes else (None, f"不是可选项：{value}")
    if kind == "multichoice":
        if not isinstance(value, list) or any(v not in codes for v in value):
            return None, "含有不可选的项"
        return value, None
    return None, f"未知字段类型 {kind}"


def clean_fields(
    defs: dict[str, FieldDef], values: dict[str, Any], prefix: str = "fields"
) -> tuple[dict[str, Any], list[FieldError]]:
    """Check submitted values against field definitions; unknown names are errors too."""
    cleaned: dict[str, Any] = {}
    errors: list[FieldError] = []
    if not isinstance(values, dict):
        return cleaned, [FieldError(prefix, "type", "应为对象")]
    for name, raw in values.items():
        definition = defs.get(name)
        if definition is None:
            errors.append(FieldError(f"{prefix}.{name}", "unknown_field", f"没有名为 {name} 的字段"))
            continue
        value, message = clean_value(definition, raw)
        if message:
            errors.append(FieldError(f"{prefix}.{name}", "invalid", f"{definition.label}：{message}"))
        else:
            cleaned[name] = value
    return cleaned, errors


def missing_fields(defs: dict[str, FieldDef], data: dict[str, Any], names: list[str], prefix: str = "fields"):
    """Errors for each required name whose value in `data` is empty."""
    return [
        FieldError(f"{prefix}.{name}", "required", f"请填写{defs[name].label}")
        for name in names
        if data.get(name) in (None, "", [])
    ]

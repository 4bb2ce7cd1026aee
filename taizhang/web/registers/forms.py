"""The forms of the register pages: inputs built from the register's fields (the report page's widgets),
and a POST parsed into the action's input."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from taizhang.errors import ActionError
from taizhang.mechanisms.register import Register
from taizhang.registers.actions import ATTRS, ItemInput
from taizhang.registers.models import RegisterItem

from ..report.spec import field_input_name, parse_fields
from ..report.widgets import Input, from_field


def errors_by_input(exc: ActionError | None) -> dict[str, list[str]]:
    """{input name: messages}: "fields.risk_level" → "field-risk_level", "name" → "name"."""
    out: dict[str, list[str]] = {}
    for e in exc.errors if exc else []:
        key = "field-" + e.field[7:] if e.field.startswith("fields.") else e.field
        out.setdefault(key, []).append(e.message)
    return out


def field_inputs(reg: Register, names, values: dict, errors: dict, prefix: str) -> list[Input]:
    return [from_field(reg.fields[n], prefix, values.get(n), errors) for n in names]


def attribute_inputs(reg: Register, item: RegisterItem | None, post, errors: dict) -> list[Input]:
    """名称, 类别, 区划/单位 codes, 地址, coordinates: what the person typed, else the item's values."""

    def value(name: str, current: Any) -> Any:
        return post.get(name, "") if post is not None else ("" if current is None else current)

    d = reg.definition
    out = [
        Input(
            "i-name",
            "name",
            _("名称"),
            value=value("name", item and item.name),
            required=True,
            max_length=200,
            errors=errors.get("name", []),
        ),
    ]
    if d.categories:
        out.append(
            Input(
                "i-category",
                "category",
                _("类别"),
                kind="choice",
                value=value("category", item and item.category),
                choices=[(c.code, c.name) for c in d.categories],
                required=True,
                blank=_("请选择"),
                errors=errors.get("category", []),
            )
        )
    if d.placement.division != "none":
        out.append(
            Input(
                "i-division",
                "division",
                _("所在区划编码"),
                required=d.placement.division == "required",
                value=value("division", item and item.division_id and item.division.code),
                errors=errors.get("division", []),
            )
        )
    if d.placement.unit != "none":
        out.append(
            Input(
                "i-unit",
                "unit",
                _("所属单位编码"),
                required=d.placement.unit == "required",
                value=value("unit", item and item.unit_id and item.unit.code),
                errors=errors.get("unit", []),
            )
        )
    out.append(
        Input(
            "i-address",
            "address",
            _("地址"),
            value=value("address", item and item.address),
            max_length=300,
            errors=errors.get("address", []),
        )
    )
    for name, label in (("lat", _("纬度")), ("lon", _("经度"))):
        out.append(
            Input(
                f"i-{name}",
                name,
                label,
                value=value(name, item and getattr(item, name)),
                attrs={"inputmode": "decimal"},
                errors=errors.get(name, []),
            )
        )
    return out


def parse_item(reg: Register, post, names, item: RegisterItem | None = None) -> ItemInput:
    """The action's input from a form: every attribute the form has (a change sends them all); on an
    item's page, the fields it showed and left empty or unticked clear the item's values."""
    given = {a: post.get(a, "") for a in ATTRS if a in post}
    version = post.get("version", "")
    fields = parse_fields([reg.fields[n] for n in names], post)
    if item is not None:
        fields.update(cleared_fields(reg, post, names, item))
    return ItemInput(
        **given,
        fields=fields,
        opinion=post.get("opinion", ""),
        version=int(version) if version.isdecimal() else None,
        given=frozenset(given),
    )


def cleared_fields(reg: Register, post, names, item: RegisterItem) -> dict[str, Any]:
    """{name: None or False} for each field the form showed (its hidden `shown` input: an unticked box and
    an empty multiple choice send nothing) with no value now while the item has one. An unticked box is
    False (a no, as the API would take it); a field the item has no value for stays unset, so an
    untouched form changes nothing."""
    shown = set(post.getlist("shown"))
    data = item.data or {}
    out: dict[str, Any] = {}
    for name in names:
        if field_input_name(name) not in shown or data.get(name) in (None, "", []):
            continue
        f = reg.fields[name]
        if f.type == "multichoice":
            empty = not post.getlist(field_input_name(name))
        elif f.type == "bool":
            empty = field_input_name(name) not in post
        else:
            empty = not (post.get(field_input_name(name)) or "").strip()
        if empty:
            out[name] = False if f.type == "bool" else None
    return out

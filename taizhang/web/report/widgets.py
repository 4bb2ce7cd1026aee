"""Form inputs as template-ready data: one `Input` per control with its value and errors.

Templates cannot look up "field-<name>" in a dict, so the view binds every control beforehand and
`web/report/input.html` renders any of them (label for, aria-invalid, aria-describedby, role=alert).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _

from taizhang.mechanisms.schema import FieldDef

# Input types of the mechanisms' field types (text, textarea and the choices have their own markup).
HTML_TYPES = {
    "int": "number",
    "decimal": "text",
    "date": "date",
    "datetime": "datetime-local",
    "reference": "text",
}


@dataclass
class Input:
    id: str
    name: str
    label: str
    kind: str = "text"  # text, textarea, number, date, datetime-local, choice, multichoice, bool, …
    value: Any = ""
    choices: list[tuple[str, str]] = field(default_factory=list)
    required: bool = False
    help: str = ""
    max_length: int | None = None
    errors: list[str] = field(default_factory=list)
    attrs: dict[str, str] = field(default_factory=dict)
    blank: str = ""  # the empty option's text of a choice ("" for none)

    @property
    def values(self) -> list[str]:
        return self.value if isinstance(self.value, list) else [self.value] if self.value else []

    @property
    def inputmode(self) -> str:
        return self.attrs.get("inputmode", "")


def from_field(definition: FieldDef, prefix: str, value: Any, errors: dict[str, list[str]]) -> Input:
    """An input for a mechanism form field (named field-<name>, as `spec.parse_fields` reads it)."""
    name = f"field-{definition.name}"
    kind = definition.type
    kind = HTML_TYPES.get(kind, kind)
    attrs = {"inputmode": "decimal"} if definition.type == "decimal" else {}
    if definition.type == "int":
        attrs["step"] = "1"
    return Input(
        id=f"{prefix}-f-{definition.name}",
        name=name,
        label=definition.label,
        kind=kind,
        value=value if value is not None else "",
        choices=[(c.code, c.name) for c in definition.choices],
        required=definition.required,
        help=definition.help,
        max_length=definition.max_length,
        errors=errors.get(name, []),
        attrs=attrs,
        blank=_("请选择") if kind == "choice" else "",
    )


def choice(
    id: str, name: str, label: str, choices, value, errors, *, required=True, blank=None, help=""
) -> Input:
    return Input(
        id=id,
        name=name,
        label=label,
        kind="choice",
        value=value or "",
        choices=list(choices),
        required=required,
        errors=errors.get(name, []),
        blank=_("请选择") if blank is None else blank,
        help=help,
    )

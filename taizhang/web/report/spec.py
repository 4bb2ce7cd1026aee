"""The report form as data, built from the mechanism definitions (never from a hard-coded mechanism).

Which fields a reporter fills in: the mechanism's required fields and those no transition asks staff
for (as Open311 decides, `filled_by_transitions`). Which divisions: the subtrees where the person
holds a role that the mechanism's intake admits; a grid worker's own grid comes first and is chosen.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from taizhang.cases.create import CaseInput
from taizhang.intake.open311.services import filled_by_transitions
from taizhang.mechanisms.registry import Mechanism, get_registry
from taizhang.mechanisms.schema import FieldDef
from taizhang.org.models import Division
from taizhang.org.scopes import grants_of, self_only, staff_roles


@dataclass
class MechanismForm:
    mech: Mechanism
    fields: list[FieldDef]
    needs_channel: bool

    @property
    def code(self) -> str:
        return self.mech.code

    @property
    def name(self) -> str:
        return self.mech.name

    @property
    def definition(self):
        return self.mech.definition


def intake_fields(mech: Mechanism, *, public_only: bool = False) -> list[FieldDef]:
    """Fields a reporter fills in: required ones and those no transition fills (public ones for residents)."""
    staff = filled_by_transitions(mech)
    return [
        f
        for f in mech.definition.fields
        if f.type != "computed" and (f.required or (f.name not in staff and (f.public or not public_only)))
    ]


def report_forms(user) -> list[MechanismForm]:
    """The mechanisms the person may report in (by their roles), each with its form."""
    roles = staff_roles(user)  # residents file on the portal
    out = []
    for mech in get_registry().mechanisms.values():
        intake = mech.definition.intake
        mine = [r for r in intake.roles if r in roles]
        if not mine:
            continue
        needs_channel = any(r not in intake.channel_by_role for r in mine)
        out.append(MechanismForm(mech, intake_fields(mech), needs_channel))
    # The mechanism that names the person's role first is their main one (a grid worker's 隐患).
    return sorted(
        out,
        key=lambda f: min(
            f.definition.intake.roles.index(r) for r in roles if r in f.definition.intake.roles
        ),
    )


def division_choices(user, forms: list[MechanismForm]) -> tuple[list[tuple[str, str]], str]:
    """(code, indented name) of the divisions the person may report at, and the one to preselect."""
    allowed = {r for f in forms for r in f.definition.intake.roles}
    roots: list[Division] = []
    for g in grants_of(user):
        if g.role not in allowed or self_only(g.role):
            continue
        if g.division is not None:
            roots.append(g.division)
        elif g.unit is not None:
            roots.append(g.unit.division)
    if not roots:
        return [], ""
    q = Q(pk__in=[])
    for root in roots:
        q |= Q(path__startswith=root.path)
    rows = list(Division.objects.filter(q).order_by("path").values_list("code", "name", "depth", "level"))
    top = min(depth for _, _, depth, _ in rows) if rows else 0
    options = [(code, "\u3000" * (depth - top) + name) for code, name, depth, _ in rows]
    grids = [r for r in roots if r.level == Division.Level.GRID]
    default = (grids or sorted(roots, key=lambda d: -d.depth))[0].code
    return options, default


def field_input_name(name: str) -> str:
    return f"field-{name}"


def parse_fields(fields: list[FieldDef], post) -> dict[str, Any]:
    """Form-field values from a POST, in the shapes `clean_fields` checks (empty ones left out)."""
    out: dict[str, Any] = {}
    for f in fields:
        key = field_input_name(f.name)
        if f.type == "multichoice":
            values = post.getlist(key)
            if values:
                out[f.name] = values
        elif f.type == "bool":
            if key in post:
                out[f.name] = post.get(key) in ("on", "true", "1")
        else:
            value = (post.get(key) or "").strip()
            if value:
                out[f.name] = value
    return out


def parse_ids(values: list[str]) -> list[int]:
    """Attachment ids from hidden inputs; anything else is dropped (the engine reports unknown ids)."""
    return [int(v) for v in values if v.strip().isdecimal()]


def case_input(form: MechanismForm, post) -> CaseInput:
    """The create request a report form describes."""
    return CaseInput(
        mechanism=form.code,
        title=(post.get("title") or "").strip(),
        division=(post.get("division") or "").strip(),
        category=(post.get("category") or "").strip(),
        description=(post.get("description") or "").strip(),
        grade=(post.get("grade") or "").strip(),
        channel=(post.get("channel") or "").strip() if form.needs_channel else "",
        address=(post.get("address") or "").strip(),
        lat=(post.get("lat") or "").strip() or None,
        lon=(post.get("lon") or "").strip() or None,
        fields=parse_fields(form.fields, post),
        attachments=parse_ids(post.getlist("attachments")),
    )


def errors_by_field(errors) -> dict[str, list[str]]:
    """{form input name: messages} for the template ("fields.topic" → "field-topic")."""
    out: dict[str, list[str]] = {}
    for e in errors:
        name = e.field
        if name.startswith("fields."):
            name = field_input_name(name.removeprefix("fields."))
        elif name in ("attachments", "file"):
            name = "photos"
        out.setdefault(name, []).append(e.message)
    return out


def bind_sections(forms: list[MechanismForm], current: str, values: dict, errors) -> list[dict]:
    """Each mechanism's own inputs (category, grade, channel, intake fields) bound to the posted values.

    Only the current mechanism's section carries the values and errors; the others start empty.
    """
    from .widgets import choice, from_field

    sections = []
    for form in forms:
        mine = form.code == current
        vals = values if mine else {}
        errs = errors if mine else {}
        prefix = f"r-{form.code}"
        d = form.definition
        inputs = [
            choice(
                f"{prefix}-category",
                "category",
                _("类别"),
                [(c.code, c.name) for c in d.categories],
                vals.get("category"),
                errs,
            )
        ]
        if d.grades:
            inputs.append(
                choice(
                    f"{prefix}-grade",
                    "grade",
                    _("等级"),
                    [(g.code, g.name) for g in d.grades],
                    vals.get("grade") or d.grades[0].code,
                    errs,
                    blank="",
                )
            )
        if form.needs_channel:
            inputs.append(
                choice(
                    f"{prefix}-channel",
                    "channel",
                    _("来源渠道"),
                    [(c.code, c.name) for c in d.channels],
                    vals.get("channel"),
                    errs,
                    help=_("网格员、企业安全员的渠道由岗位决定，无需选择"),
                )
            )
        field_values = vals.get("fields") or {}
        inputs += [from_field(f, prefix, field_values.get(f.name), errs) for f in form.fields]
        sections.append({"form": form, "current": mine, "inputs": inputs})
    return sections


CHOICE_LABELS = {
    "category": gettext_lazy("类别"),
    "grade": gettext_lazy("等级"),
    "channel": gettext_lazy("来源渠道"),
    "division": gettext_lazy("所在区划"),
}


def plain_errors(errors, post) -> list:
    """The engine's errors, with "请选择…" for a choice left empty instead of "无效的类别：" (nothing)."""
    from taizhang.errors import FieldError

    out = []
    for e in errors:
        if e.field in CHOICE_LABELS and not (post.get(e.field) or "").strip():
            e = FieldError(e.field, "required", _("请选择%(label)s") % {"label": CHOICE_LABELS[e.field]})
        out.append(e)
    return out

"""The form of each transition, built from the mechanism definition, and the request read back from it.

Input names are the engine's error keys (`opinion`, `fields.measures`, `params.unit`, `attachments`), so
an ActionError's field errors land next to the inputs they are about without any mapping table.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.http import QueryDict
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from taizhang.cases.actions import TransitionRequest
from taizhang.cases.attachments import discard_uploads, do_upload_attachment
from taizhang.cases.models import Attachment, Case
from taizhang.cases.quotas import check_upload_batch
from taizhang.cases.rules import form_requirements
from taizhang.errors import ActionError, FieldError
from taizhang.mechanisms.registry import Mechanism, get_mechanism
from taizhang.mechanisms.schema import FieldDef, TransitionDef
from taizhang.org.models import Unit
from taizhang.org.roles import role_label

from .insight import suggested_unit

# The units a deadline extension may be asked in (the clock's Chinese unit names).
EXTEND_UNITS = ("工作日", "自然日", "工作时", "小时")
CORE_NAMES = {
    "grade": gettext_lazy("等级"),
    "category": gettext_lazy("类别"),
    "title": gettext_lazy("标题"),
    "description": gettext_lazy("描述"),
    "address": gettext_lazy("地址"),
}


@dataclass
class Widget:
    """One input of an action form."""

    name: str  # the POST name, which is also the engine's error key
    label: str
    kind: str  # a FieldDef type, or "unit", "units", "master", "duration", "photos"
    required: bool = False
    value: Any = ""
    choices: list[tuple[str, str]] = field(default_factory=list)
    groups: list[tuple[str, list[tuple[str, str]]]] = field(default_factory=list)
    help: str = ""
    max_length: int | None = None
    extra: Any = None  # the unit of a duration; the kept attachments of a photo input
    errors: list[str] = field(default_factory=list)

    @property
    def dom_id(self) -> str:
        return self.name.replace(".", "-")


@dataclass
class ActionForm:
    """A transition the person may take, with everything its form needs to render."""

    code: str
    name: str
    role: str
    version: int  # the case version the form was rendered from (a stale one is refused with 409)
    approval: str = ""
    widgets: list[Widget] = field(default_factory=list)
    message: str = ""  # the error of the last attempt, shown in the form's alert
    status: int = 200
    open: bool = False  # unfolded (after an error, or when asked for by the URL)

    @property
    def role_name(self) -> str:
        return role_label(self.role) if self.role else ""


@dataclass
class Needs:
    """What a transition requires of this case: check_content's rules, for the form."""

    opinion: bool
    photos: int
    fields: list[str]


def needs_of(t: TransitionDef, case: Case) -> Needs:
    opinion, photos, names = t.opinion, t.photos, list(t.fields)
    for r in form_requirements(get_mechanism(case.mechanism), t, case):
        opinion = opinion or r.opinion
        photos = max(photos, r.photos)
        names += r.fields
    return Needs(opinion, photos, list(dict.fromkeys(names)))


def spawns_per_unit(t: TransitionDef) -> bool:
    """Whether the transition opens a case per unit the person names (`spawn` with `units: param`)."""
    return any(s.units == "param" for s in t.spawn)


@dataclass
class Choices:
    """Look-ups the forms of one page share (one query for units whatever the number of forms)."""

    units: list[Unit]

    @classmethod
    def for_case(cls, case: Case, transitions: list[TransitionDef]) -> Choices:
        if not any(t.assign or t.co_units or spawns_per_unit(t) for t in transitions):
            return cls([])
        qs = Unit.objects.order_by("path")
        marker = f"/{case.region}/"
        path = case.division.path
        if marker in path:  # the district's own units (check_unit would take any; these are the useful ones)
            qs = qs.filter(division__path__startswith=path[: path.index(marker) + len(marker)])
        return cls(list(qs.only("code", "name", "kind", "depth", "enforcement", "discipline")))

    def unit_groups(self, assign: str | None) -> list[tuple[str, list[tuple[str, str]]]]:
        """The units a transition's `assign` accepts (联合执法 units, 纪检监察 bodies, any), by kind."""
        kinds = dict(Unit.Kind.choices)
        groups: dict[str, list[tuple[str, str]]] = {}
        top = min((u.depth for u in self.units), default=0)
        for u in self.units:
            if (assign == "enforcement_unit" and not u.enforcement) or (
                assign == "discipline_unit" and not u.discipline
            ):
                continue
            indent = "　" * (u.depth - top)
            groups.setdefault(kinds.get(u.kind, u.kind), []).append((u.code, indent + u.name))
        return list(groups.items())


def field_widget(f: FieldDef, value: Any, required: bool) -> Widget:
    return Widget(
        name=f"fields.{f.name}",
        label=f.label,
        kind=f.type,
        required=required,
        value=value if value is not None else ([] if f.type == "multichoice" else ""),
        choices=[(c.code, c.name) for c in f.choices],
        help=f.help,
        max_length=f.max_length,
    )


def extend_cap(mech: Mechanism, case: Case, t: TransitionDef) -> str:
    """The cap of an extension where the case is (the rule pack's, else the mechanism's), as written."""
    return mech.transition_rule(t, "extend_max", case.division.path) or ""


def build_form(
    mech: Mechanism,
    case: Case,
    t: TransitionDef,
    role: str,
    choices: Choices,
    posted: QueryDict | None = None,
    kept: list[Attachment] | None = None,
    master: str = "",
) -> ActionForm:
    """The form of transition `t` on `case`, filled from `posted` (a failed attempt) or from the case."""
    needs = needs_of(t, case)
    version = posted.get("version", "") if posted is not None else ""
    form = ActionForm(
        code=t.code,
        name=t.name,
        role=role,
        version=int(version) if version.isdecimal() else case.version,
        approval=t.approval.name if t.approval else "",
    )

    def value(name: str, default: Any = "") -> Any:
        return posted.get(name, "") if posted is not None else default

    widgets = form.widgets
    if t.assign:
        special = t.assign != "unit"
        label = {"enforcement_unit": _("执法单位"), "discipline_unit": _("纪检监察机关")}.get(t.assign)
        widgets.append(
            Widget(
                name="params.unit",
                label=label or _("责任单位"),
                kind="unit",
                required=True,
                value=value("params.unit", "" if special else suggested_unit(case)),
                groups=choices.unit_groups(t.assign),
            )
        )
    if t.co_units:
        widgets.append(
            Widget(
                name="params.co_units",
                label=_("协办单位"),
                kind="units",
                value=posted.getlist("params.co_units")
                if posted is not None
                else [u.code for u in case.co_units.all()],
                groups=choices.unit_groups(None),
                help=_("可多选；主办单位不能同时协办"),
            )
        )
    if spawns_per_unit(t):  # links.py: one new case per unit named
        widgets.append(
            Widget(
                name="params.units",
                label=_("承办单位"),
                kind="units",
                required=True,
                value=posted.getlist("params.units") if posted is not None else [],
                groups=choices.unit_groups(None),
                help=_("可多选；每个单位生成一件下级案件"),
            )
        )
    for attr in t.sets:
        current = getattr(case, attr, "") or ""
        kind = {"grade": "grades", "category": "categories"}.get(attr)
        options = [(c.code, c.name) for c in getattr(mech.definition, kind)] if kind else []
        widgets.append(
            Widget(
                name=f"params.{attr}",
                label=str(CORE_NAMES.get(attr, attr)),
                kind="choice" if kind else ("textarea" if attr == "description" else "text"),
                value=value(f"params.{attr}", current),
                choices=options,
            )
        )
    if t.merge:
        widgets.append(
            Widget(
                name="params.master",
                label=_("并入的主案件编号"),
                kind="master",
                required=True,
                value=value("params.master", master),
                help=_("重复的诉求并入主案件，两边的记录都保留"),
            )
        )
    if t.deadline == "extend":
        unit = posted.get("params.extend_unit", "") if posted is not None else default_extend_unit(case)
        widgets.append(
            Widget(
                name="params.extend_by",
                label=_("延期时长"),
                kind="duration",
                required=True,
                value=value("params.extend_by"),
                choices=[(u, u) for u in EXTEND_UNITS],
                extra=unit,
                help=_("最多可延长{cap}").format(cap=cap) if (cap := extend_cap(mech, case, t)) else "",
            )
        )
    data = case.data or {}
    for name in needs.fields:
        f = mech.fields.get(name)
        if f is None:
            continue
        if posted is not None:
            raw = (
                posted.getlist(f"fields.{name}")
                if f.type == "multichoice"
                else posted.get(f"fields.{name}", "")
            )
            widgets.append(field_widget(f, raw, True))
        else:
            widgets.append(field_widget(f, data.get(name), True))
    widgets.append(
        Widget(
            name="opinion",
            label=_("意见") if needs.opinion else _("意见（选填）"),
            kind="textarea",
            required=needs.opinion,
            value=value("opinion"),
        )
    )
    if needs.photos:
        widgets.append(
            Widget(
                name="attachments",
                label=_("照片"),
                kind="photos",
                required=True,
                extra=kept or [],
                help=_("至少 {n} 张；可多选，支持 JPEG、PNG、WebP").format(n=needs.photos),
            )
        )
    return form


def default_extend_unit(case: Case) -> str:
    """The unit the current time limit is counted in (an extension reads best in the same unit)."""
    from taizhang.clock.clock import Duration

    try:
        unit = Duration.parse(case.limit_text).unit if case.limit_text else "workdays"
    except ValueError:
        unit = "workdays"
    return {"workdays": "工作日", "days": "自然日", "workhours": "工作时", "hours": "小时"}[unit]


def attach_errors(form: ActionForm, error: ActionError) -> ActionForm:
    """Put an ActionError into a form: field errors next to their inputs, the rest in its alert."""
    by_name = {w.name: w for w in form.widgets}
    stray = []
    for e in error.errors:
        name = "attachments" if e.field == "file" else e.field
        if name == "params.extend_unit":
            name = "params.extend_by"
        widget = by_name.get(name)
        if widget is None:
            stray.append(e.message)
        else:
            widget.errors.append(e.message)
    form.message = "；".join([error.message, *stray]) if stray or not error.errors else error.message
    form.status = error.status
    form.open = True
    return form


def read_request(mech: Mechanism, post: QueryDict, attachments: list[int]) -> TransitionRequest:
    """The TransitionRequest a submitted action form stands for (empty inputs are left out, so a blank
    input never erases a stored value)."""
    fields: dict[str, Any] = {}
    for key in post:
        if not key.startswith("fields."):
            continue
        name = key.removeprefix("fields.")
        f = mech.fields.get(name)
        if f is not None and f.type == "multichoice":
            values = [v for v in post.getlist(key) if v]
            if values:
                fields[name] = values
        elif f is not None and f.type == "bool":
            fields[name] = post.get(key) in ("1", "on", "true")
        elif post.get(key, "").strip():
            fields[name] = post.get(key)
        elif f is None:
            fields[name] = post.get(key)  # let the engine name the unknown field
    params: dict[str, Any] = {}
    for key in ("unit", "master", "grade", "category", "title", "description", "address"):
        raw = post.get(f"params.{key}", "").strip()
        if raw:
            params[key] = raw
    if "params.co_units" in post:
        params["co_units"] = [c for c in post.getlist("params.co_units") if c]
    if "params.units" in post:
        params["units"] = [c for c in post.getlist("params.units") if c]
    amount = post.get("params.extend_by", "").strip()
    if amount:
        params["extend_by"] = f"{amount} {post.get('params.extend_unit', '').strip()}".strip()
    version = post.get("version", "")
    return TransitionRequest(
        code=post.get("code", ""),
        opinion=post.get("opinion", ""),
        fields=fields,
        params=params,
        attachments=attachments,
        expected_version=int(version) if version.isdecimal() else None,
    )


def kept_ids(post: QueryDict) -> list[int]:
    """Photos uploaded by an earlier, failed attempt of the same form (kept so nothing is re-sent)."""
    return [int(v) for v in post.getlist("attachments") if v.isdecimal()]


def upload_photos(user, files, kept: int = 0) -> tuple[list[int], ActionError | None]:
    """Store the photos of a submitted form: the ids stored, and the error of the first unusable file
    (as an error of the form's photo input; the files stored before it are kept for the next attempt).

    The photo count (with the `kept` ones of an earlier attempt) and the upload quota are checked for
    the whole form first: past them nothing is stored."""
    ids: list[int] = []
    try:
        check_upload_batch(user, "", [f.size or 0 for f in files], already=kept)
        for f in files:
            ids.append(do_upload_attachment(user, f.name or "photo", f, f.size).pk)
    except ActionError as exc:
        if exc.status != 422:  # a refusal of the whole form (the quota, reached meanwhile): keep nothing
            discard_uploads(ids)
            ids = []
        errors = [FieldError("attachments", e.code, e.message) for e in exc.errors]
        return ids, ActionError(exc.code, exc.message, exc.status, errors)
    return ids, None


def kept_attachments(user, ids: list[int]) -> list[Attachment]:
    """The person's own unused uploads among `ids`, to show (and resend) with the re-rendered form."""
    if not ids:
        return []
    rows = Attachment.objects.filter(pk__in=ids, uploaded_by=user, transition__isnull=True)
    return sorted(rows, key=lambda a: ids.index(a.pk))

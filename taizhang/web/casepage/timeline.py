"""The history of a case as the page shows it: every row with who, role, when, opinion, photos, the fields
it changed (in words, not codes) and the deadline at that moment."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from taizhang.cases.models import Attachment, Case, Transition
from taizhang.mechanisms.registry import Mechanism
from taizhang.org.models import Division, Unit
from taizhang.org.roles import role_label

# Labels of the core attributes and effects a history row may record.
CHANGE_LABELS = {
    "grade": gettext_lazy("等级"),
    "category": gettext_lazy("类别"),
    "title": gettext_lazy("标题"),
    "description": gettext_lazy("描述"),
    "address": gettext_lazy("地址"),
    "unit_id": gettext_lazy("责任单位"),
    "co_units": gettext_lazy("协办单位"),
    "limit_text": gettext_lazy("时限"),
    "clock_left": gettext_lazy("停表剩余"),
    "supervision_level": gettext_lazy("督办层级"),
    "supervising_division_id": gettext_lazy("督办区划"),
    "extend_by": gettext_lazy("延期"),
    "due_at": gettext_lazy("截止时间"),
    "merged_into": gettext_lazy("并入主案件"),
    "merged_from": gettext_lazy("并入的重复件"),
    "from_case": gettext_lazy("来自主案件"),
    "supporters": gettext_lazy("附议人数"),
    "requested_by": gettext_lazy("申请人"),
    "params": gettext_lazy("申请内容"),
    "spawned": gettext_lazy("生成的下级案件"),
}
# Shown elsewhere in the entry (the state move, the deadline) or bookkeeping with nothing to read.
SKIPPED = {"state", "person_id", "pending", "pending_lapsed", "limit_text", "supervising_division"}
# What a member of the public never sees in a row.
PRIVATE = {"requested_by", "supervising_division_id", "supervision_level", "params", "spawned"}


@dataclass
class Photo:
    id: int
    url: str
    name: str
    is_image: bool
    step: str  # the history row it came with (上报, 整改完成 …)
    before: bool  # came with the report (处置前) rather than with the handling (处置后)
    at: datetime


@dataclass
class Change:
    label: str
    old: str
    new: str


@dataclass
class Entry:
    seq: int
    kind: str
    name: str
    actor: str
    role: str
    at: datetime
    opinion: str
    from_state: str
    to_state: str
    due_at: datetime | None
    changes: list[Change] = field(default_factory=list)
    files: list[Photo] = field(default_factory=list)
    # The answer's reply-quality scores (casepage/insight.py), for the people who may read them.
    quality: Any = None


class Names:
    """Names of the units and divisions the rows refer to by id or code (two queries at most)."""

    def __init__(self, rows: list[Transition]):
        unit_ids, unit_codes, division_ids = set(), set(), set()
        for row in rows:
            ch = row.changes or {}
            unit_ids.update(v for v in ch.get("unit_id", []) if v)
            for side in ch.get("co_units", []):
                unit_codes.update(side or [])
            params = (ch.get("params") or [None, None])[1]
            if isinstance(params, dict) and params.get("unit"):
                unit_codes.add(str(params["unit"]))
            division_ids.update(v for v in ch.get("supervising_division_id", []) if v)
        self.units: dict[Any, str] = {}
        if unit_ids or unit_codes:
            for pk, code, name in Unit.objects.filter(
                Q(pk__in=unit_ids) | Q(code__in=unit_codes)
            ).values_list("pk", "code", "name"):
                self.units[pk] = self.units[code] = name
        self.divisions: dict[Any, str] = {}
        if division_ids:
            self.divisions = dict(Division.objects.filter(pk__in=division_ids).values_list("pk", "name"))


def moment(value: Any) -> str:
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return value
    if isinstance(value, datetime):
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")
    return str(value)


def show(mech: Mechanism, key: str, value: Any, names: Names) -> str:
    """A recorded value in words."""
    if value in (None, "", []):
        return "—"
    if key in ("grade", "category", "channel"):
        return mech.choice_name(key, value)
    if key == "unit_id":
        return names.units.get(value, str(value))
    if key == "co_units":
        return "、".join(names.units.get(c, c) for c in value)
    if key == "supervising_division_id":
        return names.divisions.get(value, str(value))
    if key == "due_at":
        return moment(value)
    if key == "params" and isinstance(value, dict):
        return "；".join(f"{param_label(k)}：{show_param(k, v, names)}" for k, v in value.items())
    if key.startswith("fields."):
        return field_value(mech, key.removeprefix("fields."), value)
    if isinstance(value, list):
        return "、".join(str(v) for v in value)
    return str(value)


def param_label(key: str) -> str:
    return str(
        {"unit": _("单位"), "extend_by": _("延期时长"), "master": _("主案件")}.get(
            key, CHANGE_LABELS.get(key, key)
        )
    )


def show_param(key: str, value: Any, names: Names) -> str:
    if key == "unit":
        return names.units.get(str(value), str(value))
    if isinstance(value, list):
        return "、".join(names.units.get(v, str(v)) for v in value)
    return str(value)


def field_value(mech: Mechanism, name: str, value: Any) -> str:
    """A form field's value as its label reads it (choice names, 是/否)."""
    f = mech.fields.get(name)
    if value in (None, "", []):
        return "—"
    if f is None:
        return "、".join(map(str, value)) if isinstance(value, list) else str(value)
    if f.type == "bool":
        return _("是") if value else _("否")
    names = {c.code: c.name for c in f.choices}
    if f.type == "multichoice" and isinstance(value, list):
        return "、".join(names.get(v, str(v)) for v in value)
    if f.type == "choice":
        return names.get(value, str(value))
    return str(value)


def changes_of(mech: Mechanism, row: Transition, names: Names, public: bool) -> list[Change]:
    out = []
    changes = row.changes or {}
    for key, pair in changes.items():
        if row.kind == "create" and not key.startswith("fields."):
            continue  # the report's own values are the case's attributes, shown above
        if key in SKIPPED or (key == "due_at" and "extend_by" not in changes):
            continue
        if public and key in PRIVATE:
            continue
        if key.startswith("fields."):
            f = mech.fields.get(key.removeprefix("fields."))
            if f is None or (public and not f.public):
                continue
            label = f.label
        else:
            label = str(CHANGE_LABELS.get(key, key))
        old, new = (pair + [None, None])[:2] if isinstance(pair, list) else (None, pair)
        out.append(
            Change(label, show(mech, key, old, names) if old is not None else "", show(mech, key, new, names))
        )
    return out


def file_of(a: Attachment, row: Transition) -> Photo:
    return Photo(
        id=a.pk,
        url=reverse("api-1:attachment_download", kwargs={"attachment_id": a.pk}),
        name=a.original_name,
        is_image=a.content_type.startswith("image/"),
        step=row.name,
        before=row.kind == "create",
        at=row.created_at,
    )


def state_label(mech: Mechanism, code: str, public: bool) -> str:
    state = mech.states.get(code)
    if state is None:
        return code
    return (state.public_name or state.name) if public else state.name


def history_rows(case: Case, public: bool) -> list[Transition]:
    """The rows the person may read, oldest first, with their attachments (two queries)."""
    rows = case.transitions.order_by("seq").prefetch_related("attachments")
    return list(rows.filter(public=True) if public else rows)


def timeline(mech: Mechanism, rows: list[Transition], public: bool, names: Names) -> list[Entry]:
    """The page's history entries; a member of the public sees staff by role, not by name."""
    out = []
    for row in rows:
        role = role_label(row.role) if row.role else ""
        actor = row.actor_name
        if public and row.kind != "create":
            actor = role or _("工作人员")
        out.append(
            Entry(
                seq=row.seq,
                kind=row.kind,
                name=row.name,
                actor=actor,
                role=role,
                at=row.created_at,
                opinion=row.opinion,
                from_state=state_label(mech, row.from_state, public) if row.from_state else "",
                to_state=state_label(mech, row.to_state, public),
                due_at=row.due_at,
                changes=changes_of(mech, row, names, public),
                files=[file_of(a, row) for a in sorted(row.attachments.all(), key=lambda a: a.pk)],
            )
        )
    return out

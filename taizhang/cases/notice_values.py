"""The values of a written notice, from the sources its mechanism file names (`notices:`).

A source is read from the case and the history row that issued the notice, so the notice reads the same
whenever it is printed again: `field.<name>` (a form field as that row left it), `label.<name>` (its
choice's name), `limit.<state>` (the case's time limit of a state, as a notice writes it: 60日),
`extend_max.<transition>` (that transition's extension cap where the case lies), `due` and `due_before`
(the deadline the row set and the one before it), `extend_by` (the extension it granted), `opinion`,
`request_opinion` (the opinion of the request the row approved), `reporter`, `description`, `title`.
A list of sources gives the first that is not empty. The names are checked when the file is loaded
(`taizhang.mechanisms.validate_notices`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.utils import timezone

from taizhang.clock.clock import Duration
from taizhang.mechanisms.registry import Mechanism
from taizhang.mechanisms.schema import NoticeValue

from .models import Case, Transition

EMPTY = (None, "", [])


def cn_date(moment: datetime | None) -> str:
    """2026年3月10日 (local date)."""
    if moment is None:
        return ""
    d = timezone.localtime(moment).date()
    return f"{d.year}年{d.month}月{d.day}日"


def period(duration: Duration | None) -> str:
    """A time limit as a notice writes it: 30日, 5个工作日, 48小时."""
    if duration is None:
        return ""
    amount = f"{duration.amount.normalize():f}"
    return {"days": f"{amount}日", "workdays": f"{amount}个工作日"}.get(duration.unit, str(duration))


def field_at(case: Case, row: Transition, name: str) -> Any:
    """A form field's value as the row left it (later rows may have changed the case since)."""
    change = (row.changes or {}).get(f"fields.{name}")
    return change[1] if change else (case.data or {}).get(name)


def choice_label(mech: Mechanism, name: str, code: Any) -> str:
    """The name of a choice (names joined for a multichoice), else the code as text."""
    field = mech.fields.get(name)
    names = {c.code: c.name for c in field.choices} if field else {}
    if isinstance(code, list):
        return "、".join(names.get(c, str(c)) for c in code)
    return names.get(code, str(code or ""))


def parse_moment(value: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(value) if value else None
    except (TypeError, ValueError):
        return None


class NoticeSources:
    """Reads the sources for one notice: the case, its mechanism and the row that issued the notice."""

    def __init__(self, mech: Mechanism, case: Case, row: Transition):
        self.mech, self.case, self.row = mech, case, row

    def value(self, sources: NoticeValue) -> Any:
        """The first source that is not empty, else ""."""
        for source in sources if isinstance(sources, list) else [sources]:
            found = self.read(source)
            if found not in EMPTY:
                return found
        return ""

    def read(self, source: str) -> Any:
        prefix, _, arg = source.partition(".")
        case, row, mech = self.case, self.row, self.mech
        if prefix == "field":
            return field_at(case, row, arg)
        if prefix == "label":
            return choice_label(mech, arg, field_at(case, row, arg))
        if prefix == "limit":
            path = case.division.path
            # With the case's values: a limit entry may hold only `when` they satisfy (集体访 in 30日).
            return period(mech.limit_for(arg, case.grade, case.category, case.channel, path, case.data))
        if prefix == "extend_max":
            t = mech.transitions.get(arg)
            cap = mech.transition_rule(t, "extend_max", case.division.path) if t else None
            return period(Duration.parse(cap)) if cap else ""
        changes = row.changes or {}
        if source == "due":
            return cn_date(row.due_at)
        if source == "due_before":
            return cn_date(parse_moment((changes.get("due_at") or [None, None])[0]))
        if source == "extend_by":
            granted = (changes.get("extend_by") or [None, ""])[1]
            return period(Duration.parse(granted)) if granted else ""
        if source == "request_opinion":
            request = (
                case.transitions.filter(kind="request", code=row.code, seq__lt=row.seq)
                .order_by("-seq")
                .first()
            )
            return request.opinion if request else ""
        if source == "reporter":
            return str(case.reporter) if case.reporter_id else ""
        return {"opinion": row.opinion, "description": case.description, "title": case.title}.get(source, "")

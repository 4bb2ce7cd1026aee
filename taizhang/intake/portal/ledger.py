"""The public ledger (为民办事台账): what was asked and what was done, for everybody, redacted.

It lists the public cases (`taizhang.intake.public`: the mechanism file's `public:` block decides):
by default those handled (a state of kind closed), or those in progress, where a signed-in resident
can say "我也遇到" instead of filing the same problem again. Duplicates merged into another case are
left out of the list (their master is listed). What a row shows is `public.public_items`: redacted,
places cut to the community — the same as Open311 and every other public output.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time

from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from taizhang.cases.models import Case
from taizhang.errors import FieldError
from taizhang.mechanisms.registry import Mechanism, get_registry
from taizhang.org.models import Division

from ..public import PublicItem, public_cases, public_items

STATUSES = {"done": _("已办结"), "open": _("办理中")}
MONTH_RE = re.compile(r"^(\d{4})-(\d{2})$")
EXCERPT = 120
RELATED = ("division", "unit", "reporter")  # what `public_items` reads of each case


@dataclass
class LedgerQuery:
    status: str = "done"
    division: str = ""
    kind: str = ""  # "<mechanism>" or "<mechanism>.<category>"
    month: str = ""  # YYYY-MM of 受理
    page: str = "1"
    errors: list[FieldError] = field(default_factory=list)


def parse_ledger_query(params) -> LedgerQuery:
    """The filters from a query string; a bad value is dropped and reported, never a 500."""
    q = LedgerQuery(
        status=params.get("status") or "done",
        division=(params.get("division") or "").strip(),
        kind=(params.get("kind") or "").strip(),
        month=(params.get("month") or "").strip(),
        page=params.get("page") or "1",
    )
    if q.status not in STATUSES:
        q.errors.append(FieldError("status", "invalid_choice", "无效的办理状态"))
        q.status = "done"
    match = MONTH_RE.match(q.month) if q.month else None
    if q.month and (match is None or not 1 <= int(match.group(2)) <= 12):
        q.errors.append(FieldError("month", "invalid", "月份格式应为 YYYY-MM，例如 2026-11"))
        q.month = ""
    if q.kind and q.kind not in dict(kind_options()):
        q.errors.append(FieldError("kind", "invalid_choice", "无效的事项类型"))
        q.kind = ""
    return q


def public_mechanisms() -> list[Mechanism]:
    """Mechanisms the ledger lists (some public channel, `public.ledger.listed`), in registry order."""
    return [
        m
        for m in get_registry().mechanisms.values()
        if m.definition.public.channels and m.definition.public.ledger.listed
    ]


def kind_options() -> list[tuple[str, str]]:
    """(value, label) of the type filter: each public mechanism, then its categories."""
    out = []
    for mech in public_mechanisms():
        out.append((mech.code, f"{mech.name}（全部）"))
        out += [(f"{mech.code}.{c.code}", f"{mech.name} · {c.name}") for c in mech.definition.categories]
    return out


def division_options() -> list[tuple[str, str, str]]:
    """(code, name, level) of the streets and communities, in tree order."""
    rows = Division.objects.filter(level__in=["street", "community"]).order_by("path")
    return list(rows.values_list("code", "name", "level"))


def ledger_base() -> QuerySet[Case]:
    """The cases the ledger lists: the public ones, not merged into another case."""
    return public_cases(ledger=True).filter(merged_into__isnull=True)


def month_range(month: str) -> tuple[datetime, datetime]:
    year, mon = (int(x) for x in month.split("-"))
    start = date(year, mon, 1)
    end = date(year + (mon == 12), mon % 12 + 1, 1)
    tz = timezone.get_current_timezone()
    return datetime.combine(start, time(), tz), datetime.combine(end, time(), tz)


def ledger_cases(q: LedgerQuery) -> QuerySet[Case]:
    """The filtered ledger, newest first (handled: by 办结 time; in progress: by 受理 time)."""
    qs = ledger_base().select_related(*RELATED).annotate(supporters_count=Count("supporters"))
    if q.status == "done":
        qs = qs.filter(state_kind="closed").order_by("-closed_at", "-pk")
    else:
        qs = qs.exclude(state_kind="closed").order_by("-created_at", "-pk")
    if q.division:
        division = Division.objects.filter(code=q.division).values_list("path", flat=True).first()
        qs = qs.filter(division__path__startswith=division) if division else qs.none()
    if q.kind:
        mechanism, _, category = q.kind.partition(".")
        qs = qs.filter(Q(mechanism=mechanism) & (Q(category=category) if category else Q()))
    if q.month:
        start, end = month_range(q.month)
        qs = qs.filter(created_at__gte=start, created_at__lt=end)
    return qs


def ledger_rows(cases: list[Case]) -> list[PublicItem]:
    """The public items of a page of the ledger, the reply cut to an excerpt."""
    rows = public_items(cases)
    for row in rows:
        row.reply = row.reply[:EXCERPT] + ("…" if len(row.reply) > EXCERPT else "")
    return rows


def ledger_case(number: str) -> Case | None:
    """One public case by number (None when the public may not see it; a merged duplicate is shown)."""
    return (
        public_cases(ledger=True)
        .select_related(*RELATED)
        .annotate(supporters_count=Count("supporters"))
        .filter(number=number)
        .first()
    )

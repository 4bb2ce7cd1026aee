"""The dashboard's figures: totals by state, mechanism, grade and division, overdue and escalated cases,
the units with most overdue cases. Each figure is a `Figure` (a number and the list URL behind it).

The counts use a handful of grouped queries on the scope's cases; the filtered counts below use the
same conditions as the case list's `overdue=1`, `escalated=1` and `state_kind=closed` filters.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import Count, Q
from django.utils.translation import gettext as _

from taizhang.cases.models import STATE_KINDS
from taizhang.mechanisms.registry import get_registry
from taizhang.org.models import Division

from ..presenters import case_rows
from .scope import Scope

OVERDUE_Q = Q(overdue_since__isnull=False) & ~Q(state_kind="closed")
ESCALATED_Q = Q(supervision_level__gt=0) & ~Q(state_kind="closed")
CLOSED_Q = Q(state_kind="closed")
LIST_SIZE = 10
TOP_UNITS = 10


@dataclass(frozen=True)
class Figure:
    label: str
    count: int
    url: str
    tone: str = ""  # "bad", "warn" or ""


@dataclass
class MechanismTotals:
    code: str
    name: str
    total: Figure
    states: list[Figure] = field(default_factory=list)
    grades: list[Figure] = field(default_factory=list)


def grouped_counts(base) -> list[dict]:
    """One row per (mechanism, state, grade) with the number of cases, overdue and escalated."""
    return list(
        base.order_by()
        .values("mechanism", "state", "state_kind", "grade")
        .annotate(
            n=Count("id"),
            overdue=Count("id", filter=OVERDUE_Q),
            escalated=Count("id", filter=ESCALATED_Q),
        )
    )


def headline(scope: Scope, rows: list[dict]) -> list[Figure]:
    """Total, overdue, escalated, then one figure per state kind (办理中, 待处理 … 已办结)."""
    kinds: dict[str, int] = defaultdict(int)
    for r in rows:
        kinds[r["state_kind"]] += r["n"]
    figures = [
        Figure(_("案件总数"), sum(r["n"] for r in rows), scope.link()),
        Figure(_("超期"), sum(r["overdue"] for r in rows), scope.link(overdue=1), "bad"),
        Figure(_("督办中"), sum(r["escalated"] for r in rows), scope.link(escalated=1), "warn"),
    ]
    figures += [Figure(name, kinds[code], scope.link(state_kind=code)) for code, name in STATE_KINDS]
    return figures


def by_mechanism(scope: Scope, rows: list[dict]) -> list[MechanismTotals]:
    """Per mechanism with cases in scope: its total, its states (in the mechanism's order) and grades."""
    per_state: dict[tuple[str, str], int] = defaultdict(int)
    per_grade: dict[tuple[str, str], int] = defaultdict(int)
    totals: dict[str, int] = defaultdict(int)
    for r in rows:
        per_state[r["mechanism"], r["state"]] += r["n"]
        per_grade[r["mechanism"], r["grade"]] += r["n"]
        totals[r["mechanism"]] += r["n"]
    out = []
    for mech in get_registry().mechanisms.values():
        if not totals.get(mech.code):
            continue
        m = mech.code
        out.append(
            MechanismTotals(
                code=m,
                name=mech.name,
                total=Figure(mech.name, totals[m], scope.link(mechanism=m)),
                states=[
                    Figure(s.name, per_state[m, s.code], scope.link(mechanism=m, state=s.code))
                    for s in mech.definition.states
                ],
                grades=[
                    Figure(g.name, per_grade[m, g.code], scope.link(mechanism=m, grade=g.code))
                    for g in mech.definition.grades
                ],
            )
        )
    return out


def children_of(scope: Scope) -> list[Division]:
    if scope.division is None:
        return list(Division.objects.filter(parent__isnull=True).order_by("path"))
    return list(Division.objects.filter(parent=scope.division).order_by("path"))


def by_division(scope: Scope, base, children: list[Division]) -> list[dict]:
    """Per child division of the current one: total, overdue, escalated and closed, with drill-down."""
    rows = list(
        base.order_by()
        .values("division__path")
        .annotate(
            n=Count("id"),
            overdue=Count("id", filter=OVERDUE_Q),
            escalated=Count("id", filter=ESCALATED_Q),
            closed=Count("id", filter=CLOSED_Q),
        )
    )
    out = []
    for child in children:
        under = [r for r in rows if r["division__path"].startswith(child.path)]
        out.append(
            {
                "division": child,
                "drill": scope.dashboard_url(division=child),
                "total": Figure(child.name, sum(r["n"] for r in under), scope.link(division=child.code)),
                "overdue": Figure(
                    _("超期"), sum(r["overdue"] for r in under), scope.link(division=child.code, overdue=1)
                ),
                "escalated": Figure(
                    _("督办中"),
                    sum(r["escalated"] for r in under),
                    scope.link(division=child.code, escalated=1),
                ),
                "closed": Figure(
                    _("已办结"),
                    sum(r["closed"] for r in under),
                    scope.link(division=child.code, state_kind="closed"),
                ),
            }
        )
    return out


def top_units(scope: Scope, base) -> list[Figure]:
    """Units by overdue cases (a unit counts the cases of the units below it, as the list's filter does)."""
    rows = list(
        base.filter(OVERDUE_Q, unit__isnull=False)
        .order_by()
        .values("unit__path", "unit__code", "unit__name")
        .annotate(n=Count("id"))
    )
    figures = []
    for r in rows:
        count = sum(o["n"] for o in rows if o["unit__path"].startswith(r["unit__path"]))
        figures.append(Figure(r["unit__name"], count, scope.link(unit=r["unit__code"], overdue=1), "bad"))
    figures.sort(key=lambda f: (-f.count, f.label))
    return figures[:TOP_UNITS]


def case_list_panel(scope: Scope, base, kind: str, figure: Figure) -> dict:
    """The first overdue (longest overdue first) or escalated (highest level first) cases."""
    if kind == "overdue":
        qs = base.filter(OVERDUE_Q).order_by("overdue_since", "pk")
        title = _("超期案件")
    else:
        qs = base.filter(ESCALATED_Q).order_by("-supervision_level", "due_at", "pk")
        title = _("督办案件")
    rows = case_rows(qs.select_related("division", "unit")[:LIST_SIZE], scope.now)
    return {"key": kind, "title": title, "figure": figure, "rows": rows}

"""The monthly report's figures: received, closed, closed on time, overdue now and the on-time rate, in
total and per mechanism (each against the month before), per child division and per responsible unit.

Definitions (the same in the page, the PDF and the workbook):

- **受理** received: cases created in the month.
- **办结** closed: cases whose `closed_at` falls in the month (whenever they were received).
- **按期办结** closed on time: of those, the cases that never got a system 超期 timer row — the
  definition of the 12345 按期办结率 (taizhang/insight/kpi.py); **按期办结率** = on time / closed.
- **超期未办结** overdue now: of the cases received in the month, those overdue and not closed at the
  moment the report is made (the case list's `overdue=1`).

Two grouped queries (received, closed) cover both months and every mechanism, division and unit.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Count, Exists, OuterRef, Q
from django.utils.translation import gettext as _

from taizhang.cases.models import Transition
from taizhang.mechanisms.registry import get_registry
from taizhang.org.models import Division

from ..dashboard.stats import OVERDUE_Q, Figure, children_of
from .scope import MonthScope

TOP_UNITS = 10
GROUPING = ("mechanism", "division__path", "unit__path", "unit__code", "unit__name")
# A case that ever went past its deadline: the system wrote an 超期 timer row (kpi.OVERDUE).
LATE_Q = Q(Exists(Transition.objects.filter(case_id=OuterRef("pk"), kind="timer", code="overdue")))


@dataclass(frozen=True)
class Compared:
    """A number this month and the month before, each with its case list (url "" when none)."""

    label: str
    current: Figure
    before: Figure
    better: str = ""  # "up", "down" or "" (neither direction is better)

    @property
    def delta(self) -> int:
        return self.current.count - self.before.count

    @property
    def delta_text(self) -> str:
        return signed(self.delta)

    @property
    def tone(self) -> str:
        """ "good" or "bad" for a change in the better or worse direction."""
        if not self.delta or not self.better:
            return ""
        return "good" if (self.delta > 0) == (self.better == "up") else "bad"


@dataclass(frozen=True)
class Rate:
    """A share this month and the month before (None: nothing to divide by)."""

    label: str
    current: float | None
    before: float | None

    @property
    def text(self) -> str:
        return percent(self.current)

    @property
    def before_text(self) -> str:
        return percent(self.before)

    @property
    def delta_text(self) -> str:
        """The change in percentage points, e.g. "+2.5"; "—" when either month has no rate."""
        if self.current is None or self.before is None:
            return "—"
        points = round((self.current - self.before) * 100, 1)
        return signed(points)

    @property
    def tone(self) -> str:
        if self.current is None or self.before is None or self.current == self.before:
            return ""
        return "good" if self.current > self.before else "bad"


def signed(value: float) -> str:
    return f"+{value:g}" if value > 0 else (f"−{-value:g}" if value < 0 else "0")


def percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


@dataclass
class Tally:
    """Counts of one group of cases for one month."""

    received: int = 0
    overdue: int = 0
    closed: int = 0
    on_time: int = 0

    @property
    def rate(self) -> float | None:
        return share(self.on_time, self.closed)


@dataclass
class Counts:
    """The tallies of the month and the month before, by mechanism, division path and unit."""

    rows_received: list[dict] = field(default_factory=list)
    rows_closed: list[dict] = field(default_factory=list)

    def tally(self, keep=lambda row: True, previous: bool = False) -> Tally:
        suffix = "_prev" if previous else ""
        t = Tally()
        for r in self.rows_received:
            if keep(r):
                t.received += r["n" + suffix]
                t.overdue += r["overdue" + suffix]
        for r in self.rows_closed:
            if keep(r):
                t.closed += r["n" + suffix]
                t.on_time += r["on_time" + suffix]
        return t


def count_months(scope: MonthScope) -> Counts:
    """Both months' cases received and closed, grouped by mechanism, division and unit (two queries)."""
    month, prev = scope.month, scope.month.previous
    this = Q(created_at__gte=month.start)
    received = (
        scope.cases(created_from=prev.first.isoformat(), created_to=month.last.isoformat())
        .order_by()
        .values(*GROUPING)
        .annotate(
            n=Count("id", filter=this),
            n_prev=Count("id", filter=~this),
            overdue=Count("id", filter=this & OVERDUE_Q),
            overdue_prev=Count("id", filter=~this & OVERDUE_Q),
        )
    )
    this = Q(closed_at__gte=month.start)
    closed = (
        scope.cases(closed_from=prev.first.isoformat(), closed_to=month.last.isoformat())
        .order_by()
        .values(*GROUPING)
        .annotate(
            n=Count("id", filter=this),
            n_prev=Count("id", filter=~this),
            on_time=Count("id", filter=this & ~LATE_Q),
            on_time_prev=Count("id", filter=~this & ~LATE_Q),
        )
    )
    return Counts(list(received), list(closed))


def compared(scope: MonthScope, counts: Counts, keep=lambda row: True, **link) -> list:
    """受理, 办结, 按期办结, 超期未办结 and 按期办结率 against the month before, with their lists."""
    now, before = counts.tally(keep), counts.tally(keep, previous=True)
    prev = scope.month.previous

    def pair(label: str, attr: str, filters: dict | None, prev_filters: dict | None, better: str):
        url = scope.link(**link, **filters) if filters is not None else ""
        prev_url = scope.link(**link, **prev_filters) if prev_filters is not None else ""
        return Compared(
            label,
            Figure(label, getattr(now, attr), url),
            Figure(label, getattr(before, attr), prev_url),
            better,
        )

    return [
        pair(_("受理"), "received", scope.received(), scope.received(prev), ""),
        pair(_("办结"), "closed", scope.closed(), scope.closed(prev), "up"),
        pair(_("按期办结"), "on_time", None, None, "up"),
        pair(
            _("超期未办结"),
            "overdue",
            {**scope.received(), "overdue": 1},
            {**scope.received(prev), "overdue": 1},
            "down",
        ),
        Rate(_("按期办结率"), now.rate, before.rate),
    ]


def by_mechanism(scope: MonthScope, counts: Counts) -> list[dict]:
    """Per mechanism with cases in either month: its figures against the month before."""
    present = {r["mechanism"] for r in counts.rows_received + counts.rows_closed}
    out = []
    for mech in get_registry().mechanisms.values():
        if mech.code not in present:
            continue
        figures = compared(scope, counts, lambda r, m=mech.code: r["mechanism"] == m, mechanism=mech.code)
        out.append({"code": mech.code, "name": mech.name, "figures": figures})
    return out


def by_division(scope: MonthScope, counts: Counts) -> list[dict]:
    """Per child division of the report's division: this month's figures, and its own report."""
    out = []
    for child in children_of(scope):
        t = counts.tally(lambda r, p=child.path: r["division__path"].startswith(p))
        out.append(
            {
                "division": child,
                "report": scope.url(division=child),
                **tally_figures(scope, t, division=child.code),
            }
        )
    return out


def tally_figures(scope: MonthScope, t: Tally, **link) -> dict:
    """One row of this month's figures, each with its list where the list can hold it."""
    return {
        "received": Figure(_("受理"), t.received, scope.link(**link, **scope.received())),
        "closed": Figure(_("办结"), t.closed, scope.link(**link, **scope.closed())),
        "on_time": Figure(_("按期办结"), t.on_time, ""),
        "rate": percent(t.rate),
        "overdue": Figure(
            _("超期未办结"), t.overdue, scope.link(**link, **scope.received(), overdue=1), "bad"
        ),
    }


def by_unit(scope: MonthScope, counts: Counts) -> list[dict]:
    """The responsible units with most cases overdue now (then most received), this month.

    A unit counts the cases of the units below it, as the list's `unit=` filter does."""
    units = {
        r["unit__path"]: (r["unit__code"], r["unit__name"])
        for r in counts.rows_received + counts.rows_closed
        if r["unit__path"]
    }
    rows = []
    for path, (code, name) in units.items():
        t = counts.tally(lambda r, p=path: bool(r["unit__path"]) and r["unit__path"].startswith(p))
        if t.received or t.closed:
            rows.append({"code": code, "name": name, "tally": t, **tally_figures(scope, t, unit=code)})
    rows.sort(key=lambda row: (-row["tally"].overdue, -row["tally"].received, row["name"]))
    return rows[:TOP_UNITS]


def division_name(division: Division | None) -> str:
    return division.name if division is not None else _("全部区划")

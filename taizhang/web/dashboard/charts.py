"""Data for the dashboard's charts and map, embedded in the page as JSON (json_script).

Trend: cases reported and cases closed per day (per week beyond three months), each point with the
case list URL behind it. Map: the open cases with coordinates, coloured by grade, in the basemap's
coordinate system.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from django.db.models import Count
from django.db.models.functions import TruncDate
from django.urls import reverse

from taizhang.mechanisms.registry import get_registry

from ..basemap import basemap_config, to_map
from ..colours import NEUTRAL, marker_colour
from .scope import Scope
from .stats import CLOSED_Q

# Beyond this many days a point per day is unreadable: the trend goes by week.
DAILY_MAX_DAYS = 92
# Most recent open cases drawn on the map (more would only make a solid blot at district scale).
MAX_POINTS = 2000
NO_GRADE_COLOUR = NEUTRAL


@dataclass(frozen=True)
class Bucket:
    first: date
    last: date

    def label(self, weekly: bool) -> str:
        return f"{self.first:%m-%d}" + ("起" if weekly else "")


def daily(qs, field: str) -> dict[date, int]:
    rows = qs.annotate(day=TruncDate(field)).order_by().values("day").annotate(n=Count("id"))
    return {r["day"]: r["n"] for r in rows if r["day"] is not None}


def buckets(start: date, end: date) -> tuple[list[Bucket], bool]:
    """Days from start to end, or weeks (Monday to Sunday, clipped to the range) for long ranges."""
    if (end - start).days < DAILY_MAX_DAYS:
        days = [start + timedelta(days=i) for i in range((end - start).days + 1)]
        return [Bucket(d, d) for d in days], False
    out, first = [], start
    while first <= end:
        last = min(first + timedelta(days=6 - first.weekday()), end)
        out.append(Bucket(first, last))
        first = last + timedelta(days=1)
    return out, True


def trend(scope: Scope, base) -> dict:
    """Reported and closed per bucket, with the list URL of every point (in the scope's period)."""
    created = daily(base, "created_at")
    if scope.start is None:  # "all": from the first case reported
        scope.start = min(created, default=scope.today)
    closed_base = scope.cases(period=False, closed_from=scope.start.isoformat())
    closed = daily(closed_base, "closed_at")
    spans, weekly = buckets(scope.start, scope.today)
    points = []
    for b in spans:
        days = [b.first + timedelta(days=i) for i in range((b.last - b.first).days + 1)]
        window = {"created_from": b.first.isoformat(), "created_to": b.last.isoformat()}
        closed_window = {"closed_from": b.first.isoformat(), "closed_to": b.last.isoformat()}
        points.append(
            {
                "label": b.label(weekly),
                "first": b.first.isoformat(),
                "last": b.last.isoformat(),
                "created": sum(created.get(d, 0) for d in days),
                "closed": sum(closed.get(d, 0) for d in days),
                "created_url": scope.link(**window),
                "closed_url": scope.link(period=False, **closed_window),
            }
        )
    return {"weekly": weekly, "points": points}


def map_data(scope: Scope, base) -> dict:
    """The open cases to draw, coloured by what their grade means (`colour: red` …), with a legend per
    mechanism (the page draws one layer per mechanism), and the basemap settings."""
    registry = get_registry().mechanisms
    colours: dict[tuple[str, str], str] = {}
    for mech in registry.values():
        for g in mech.definition.grades:
            colours[mech.code, g.code] = marker_colour(g.colour)
    rows = (
        base.exclude(CLOSED_Q)
        .filter(lat__isnull=False, lon__isnull=False)
        .order_by("-created_at")
        .values_list("lat", "lon", "mechanism", "grade", "state", "number", "title")[:MAX_POINTS]
    )
    points, present = [], set()
    for lat, lon, mechanism, grade, state, number, title in rows:
        mech = registry.get(mechanism)
        present.add((mechanism, grade))
        y, x = to_map(float(lat), float(lon))
        points.append(
            {
                "lat": round(y, 6),
                "lon": round(x, 6),
                "mechanism": mechanism,
                "colour": colours.get((mechanism, grade), NO_GRADE_COLOUR),
                "grade": mech.choice_name("grade", grade) if mech and grade else "未定级",
                "state": mech.state_name(state) if mech else state,
                "number": number,
                "title": title,
                "url": reverse("case:detail", args=[number]),
            }
        )
    legend = []
    for mech in registry.values():
        items = [
            {"colour": colours[mech.code, g.code], "name": g.name}
            for g in mech.definition.grades
            if (mech.code, g.code) in present
        ]
        if (mech.code, "") in present:
            items.append({"colour": NO_GRADE_COLOUR, "name": "未定级"})
        if items:
            legend.append({"code": mech.code, "name": mech.name, "items": items})
    outline_params = f"?division={scope.division.code}" if scope.division is not None else ""
    return {
        **basemap_config(),
        "outlines": reverse("dashboard:outlines") + outline_params,
        "points": points,
        "legend": legend,
    }

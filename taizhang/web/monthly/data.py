"""Everything a monthly report shows, for its scope, in a fixed number of queries.

The page, the PDF and the workbook are drawn from the same dictionary (`monthly_data`).
"""

from __future__ import annotations

from django.urls import reverse

from taizhang.errors import ActionError
from taizhang.insight.hotspot_queries import top_hotspots
from taizhang.insight.reply_index import check_reply_viewer, reply_quality_list
from taizhang.web.dashboard.data import breadcrumb

from ..dashboard.kpis import kpi_tables
from ..dashboard.stats import Figure
from .chart import daily_points, svg_chart
from .figures import by_division, by_mechanism, by_unit, compared, count_months, division_name
from .scope import Month, MonthScope

HOT_SPOTS = 10
WEAKEST = 10


def hot_spots(scope: MonthScope) -> list[dict]:
    """The hottest hot spots of the month in the division: their demands of the month only, heat at
    the month's end, and the list of exactly those demands."""
    month = scope.month
    found = top_hotspots(
        scope.user,
        limit=HOT_SPOTS,
        window=(month.start, month.end),
        division=scope.division,
        now=scope.now,
    )
    return [
        {
            "id": spot.id,
            "name": spot.name,
            "heat": spot.heat,
            "demands": Figure(spot.name, spot.count, scope.link(hotspot=spot.id, **scope.received())),
            "reporters": spot.reporters,
            "support": spot.support,
            "first_at": spot.first_at,
            "last_at": spot.last_at,
            "span_days": spot.span_days,
        }
        for spot in found
    ]


def weakest_answers(scope: MonthScope) -> dict | None:
    """The month's lowest-scored answers (答复质量) for a person who may read scores; None otherwise.

    Over the cases of the report's division the person sees."""
    try:
        check_reply_viewer(scope.user)
    except ActionError:
        return None
    month = scope.month
    found = reply_quality_list(
        scope.user,
        order="weakest",
        start=month.first,
        end=month.next_first,
        division=scope.division.code if scope.division is not None else "",
        limit=WEAKEST,
    )
    items = [{**item, "url": reverse("case:detail", args=[item["number"]])} for item in found["items"]]
    return {"summary": found["summary"], "items": items}


def monthly_data(scope: MonthScope) -> dict:
    """The report's context: headline figures, mechanisms, divisions, units, KPIs, hot spots, answers."""
    counts = count_months(scope)
    mechanisms = by_mechanism(scope, counts)
    points = daily_points(scope)
    month = scope.month
    return {
        "scope": scope,
        "month": month,
        "area": division_name(scope.division),
        "breadcrumb": breadcrumb(scope.division, scope.home, lambda node: scope.url(division=node)),
        "previous_url": scope.url(month=month.previous),
        # the next month once it has begun (a later one is refused)
        "next_url": "" if scope.partial else scope.url(month=Month(month.next_first)),
        "pdf_url": scope.url("monthly:pdf"),
        "xlsx_url": scope.url("monthly:xlsx"),
        "headline": compared(scope, counts),
        "mechanisms": mechanisms,
        "divisions": by_division(scope, counts),
        "units": by_unit(scope, counts),
        "kpis": kpi_tables(scope, [m["code"] for m in mechanisms]),
        "hot_spots": hot_spots(scope),
        "replies": weakest_answers(scope),
        "points": points,
        "chart": svg_chart(points),
    }

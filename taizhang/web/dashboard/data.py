"""Everything the dashboard page shows for a scope, gathered in a fixed number of queries."""

from __future__ import annotations

from collections.abc import Callable

from taizhang.org.models import Division

from .charts import map_data, trend
from .hotspots import hot_spots, ranking_url
from .kpis import kpi_tables
from .scope import PERIOD_LABELS, PERIODS, Scope
from .stats import (
    by_division,
    by_mechanism,
    case_list_panel,
    children_of,
    grouped_counts,
    headline,
    top_units,
)


def breadcrumb(
    division: Division | None, home: Division | None, url_of: Callable[[Division], str]
) -> list[tuple[Division, str]]:
    """The divisions from the person's home down to `division`, each with its page's URL (`url_of`)."""
    if division is None:
        return []
    codes = division.ancestor_codes()
    if home is not None and home.code in codes:
        codes = codes[codes.index(home.code) :]
    nodes = Division.objects.filter(code__in=codes).order_by("depth")
    return [(node, url_of(node)) for node in nodes]


def dashboard_data(scope: Scope) -> dict:
    """The page's context: figures, lists, chart and map data, 考核 tables, drill-down links."""
    base = scope.cases()
    rows = grouped_counts(base)
    figures = headline(scope, rows)
    mechanisms = by_mechanism(scope, rows)
    trend_data = trend(scope, base)  # fixes the first day of "all" before the links below use it
    children = children_of(scope)
    overdue, escalated = figures[1], figures[2]
    return {
        "scope": scope,
        "periods": [(key, PERIOD_LABELS[key], scope.dashboard_url(period=key)) for key in PERIODS],
        "breadcrumb": breadcrumb(scope.division, scope.home, lambda node: scope.dashboard_url(division=node)),
        "figures": figures,
        "mechanisms": mechanisms,
        "divisions": by_division(scope, base, children),
        "panels": [
            case_list_panel(scope, base, "overdue", overdue),
            case_list_panel(scope, base, "escalated", escalated),
        ],
        "top_units": top_units(scope, base),
        "kpis": kpi_tables(scope, [m.code for m in mechanisms]),
        "hot_spots": hot_spots(scope),
        "hotspots_url": ranking_url(scope),
        "trend": trend_data,
        "map": map_data(scope, base),
    }

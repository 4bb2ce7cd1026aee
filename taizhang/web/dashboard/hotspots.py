"""The hottest hot spots (热点, taizhang.insight) the person may see, for the dashboard."""

from __future__ import annotations

from urllib.parse import urlencode

from django.urls import reverse

from taizhang.insight.hotspot_queries import top_hotspots

from .scope import PERIODS, Scope
from .stats import Figure

SHOWN = 5


def hot_spots(scope: Scope) -> list[dict]:
    """Up to five hot spots active in the period, each with the list of its demands the person sees.

    Hot spots are grouped per district; drilled down to a division, each counts (and lists) only the
    demands filed in that division's subtree, and those without any are left out."""
    days = PERIODS[scope.period]
    found = top_hotspots(scope.user, limit=SHOWN, days=days, now=scope.now, division=scope.division)
    out = []
    for spot in found:
        url = scope.link(period=False, hotspot=spot.id)
        out.append(
            {
                "name": spot.name,
                "demands": Figure(spot.name, spot.count, url),
                "reporters": spot.reporters,
                "last_at": spot.last_at,
                "heat": spot.heat,
            }
        )
    return out


def ranking_url(scope: Scope) -> str:
    """The full ranking (/hotspots/) for the dashboard's period and division."""
    params = {}
    if PERIODS[scope.period] is not None:
        params["days"] = PERIODS[scope.period]
    if scope.division is not None and scope.division != scope.home:
        params["division"] = scope.division.code
    return f"{reverse('hotspots:list')}?{urlencode(params)}" if params else reverse("hotspots:list")

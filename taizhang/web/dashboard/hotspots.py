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

    Hot spots are grouped per district, so they follow the person's whole area, not the drill-down."""
    days = PERIODS[scope.period]
    found = top_hotspots(scope.user, limit=SHOWN, days=days, now=scope.now)
    out = []
    for spot in found:
        url = f"{reverse('cases:list')}?{urlencode({'hotspot': spot.id})}"
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

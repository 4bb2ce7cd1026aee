"""Colours of grades and choices by what they mean (红/橙/黄/蓝 = `red`/`orange`/`yellow`/`blue` in the
mechanism file), never by their position in a list. A choice without a meaning is drawn neutral."""

from __future__ import annotations

# Map markers and legends (hex: ECharts and Leaflet take no CSS variables). Yellow is darkened enough
# to read on white; the shapes of the four differ only in colour, the legend names them.
MARKER = {"red": "#c81e1e", "orange": "#e8730c", "yellow": "#caa000", "blue": "#1f5fbf"}
NEUTRAL = "#6b7280"


def marker_colour(meaning: str | None) -> str:
    """The hex colour of a marker for a choice's `colour` (neutral grey without one)."""
    return MARKER.get(meaning or "", NEUTRAL)


def badge_class(meaning: str | None) -> str:
    """The CSS classes of a badge coloured by meaning ('' without one: the value is shown as plain text)."""
    return f"badge level-{meaning}" if meaning in MARKER else ""

"""The month's cases received and closed per day, drawn on the server as SVG (for the page and the PDF).

No JavaScript and no plotting library: a few rectangles, each with a <title> (its day and number),
and the same numbers in a table next to it for screen readers and for copying.
"""

from __future__ import annotations

from datetime import timedelta
from html import escape

from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from ..dashboard.charts import daily
from .scope import MonthScope

WIDTH, HEIGHT = 720, 200
LEFT, RIGHT, TOP, BOTTOM = 34, 8, 12, 26
COLOURS = {"received": "#0b5cad", "closed": "#1e7b34"}  # the stylesheet's brand and ok colours


def daily_points(scope: MonthScope) -> list[dict]:
    """Per day of the month: received and closed, each with its case list (two queries)."""
    received = daily(scope.cases(**scope.received()), "created_at")
    closed = daily(scope.cases(**scope.closed()), "closed_at")
    points = []
    day = scope.month.first
    while day <= scope.month.last:
        iso = day.isoformat()
        points.append(
            {
                "day": day,
                "received": received.get(day, 0),
                "closed": closed.get(day, 0),
                "received_url": scope.link(created_from=iso, created_to=iso),
                "closed_url": scope.link(closed_from=iso, closed_to=iso),
            }
        )
        day += timedelta(days=1)
    return points


def nice_max(value: int) -> int:
    """The axis top: 2, 4 or 10 times a power of ten, at least `value`, so that its half (the middle
    tick) is a whole number of cases."""
    step = 1
    while True:
        for factor in (2, 4, 10):
            if step * factor >= value:
                return step * factor
        step *= 10


def svg_chart(points: list[dict]) -> SafeString:
    """Grouped bars (received, closed) per day with a y axis of three ticks and a day label every 5 days."""
    top = nice_max(max((max(p["received"], p["closed"]) for p in points), default=0))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_w / max(len(points), 1)
    bar = max(slot * 0.38, 1.0)
    names = {"received": _("受理"), "closed": _("办结")}
    label = _("每日受理与办结（数据见下表）")  # outside the f-string: makemessages does not read those
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" class="month-chart" '
        f'role="img" aria-label="{escape(label)}">',
    ]
    for i in range(3):
        value = top * i / 2
        y = TOP + plot_h - plot_h * i / 2
        parts.append(
            f'<line x1="{LEFT}" y1="{y:.1f}" x2="{WIDTH - RIGHT}" y2="{y:.1f}" stroke="#d9e2ec"/>'
            f'<text x="{LEFT - 4}" y="{y + 4:.1f}" font-size="11" text-anchor="end" fill="#52606d">{value:g}</text>'
        )
    for index, p in enumerate(points):
        x0 = LEFT + index * slot + (slot - 2 * bar) / 2
        for offset, key in enumerate(("received", "closed")):
            h = plot_h * p[key] / top
            label = escape(f"{p['day']:%m-%d} {names[key]} {p[key]}")
            parts.append(
                f'<rect x="{x0 + offset * bar:.1f}" y="{TOP + plot_h - h:.1f}" width="{bar:.1f}" '
                f'height="{h:.1f}" fill="{COLOURS[key]}"><title>{label}</title></rect>'
            )
        if p["day"].day == 1 or p["day"].day % 5 == 0:
            x = LEFT + (index + 0.5) * slot
            parts.append(
                f'<text x="{x:.1f}" y="{HEIGHT - 8}" font-size="11" text-anchor="middle" '
                f'fill="#52606d">{p["day"].day}</text>'
            )
    legend_x = WIDTH - RIGHT - 130
    for offset, key in enumerate(("received", "closed")):
        x = legend_x + offset * 65
        parts.append(
            f'<rect x="{x}" y="2" width="10" height="10" fill="{COLOURS[key]}"/>'
            f'<text x="{x + 14}" y="11" font-size="11" fill="#1f2933">{escape(names[key])}</text>'
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # every text above is escaped

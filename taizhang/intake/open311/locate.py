"""Which division a reported point lies in, from the divisions' stored GeoJSON boundaries."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from taizhang.org.models import Division

from .render import Open311Error

Ring = list[list[float]]


def in_ring(lon: float, lat: float, ring: Ring) -> bool:
    """Ray casting: whether a point is inside a closed ring of [lon, lat] positions."""
    inside = False
    n = len(ring)
    for i in range(n):
        x1, y1 = ring[i][0], ring[i][1]
        x2, y2 = ring[(i + 1) % n][0], ring[(i + 1) % n][1]
        if (y1 > lat) != (y2 > lat):
            x_cross = x1 + (lat - y1) * (x2 - x1) / (y2 - y1)
            if lon < x_cross:
                inside = not inside
    return inside


def polygons(geometry: Any) -> Iterator[list[Ring]]:
    """The polygons (outer ring, then holes) of a GeoJSON geometry, Feature or FeatureCollection."""
    if not isinstance(geometry, dict):
        return
    kind = geometry.get("type")
    if kind == "Feature":
        yield from polygons(geometry.get("geometry"))
    elif kind == "FeatureCollection":
        for feature in geometry.get("features") or []:
            yield from polygons(feature)
    elif kind == "GeometryCollection":
        for part in geometry.get("geometries") or []:
            yield from polygons(part)
    elif kind == "Polygon":
        yield geometry.get("coordinates") or []
    elif kind == "MultiPolygon":
        yield from geometry.get("coordinates") or []


def contains(geometry: Any, lat: float, lon: float) -> bool:
    """Whether a GeoJSON boundary contains the point (inside an outer ring and in none of its holes)."""
    try:
        for rings in polygons(geometry):
            if rings and in_ring(lon, lat, rings[0]) and not any(in_ring(lon, lat, h) for h in rings[1:]):
                return True
    except (TypeError, IndexError, ValueError, ZeroDivisionError):
        return False  # a malformed boundary contains nothing
    return False


def locate(jurisdiction: Division, lat: float | None, lon: float | None) -> Division:
    """The deepest division under the jurisdiction whose boundary contains the point (one query).

    Without a point, or when no boundary below contains it, the jurisdiction itself; a point outside
    the jurisdiction's own boundary (when it has one) is an error.
    """
    if lat is None or lon is None:
        return jurisdiction
    if jurisdiction.geometry and not contains(jurisdiction.geometry, lat, lon):
        raise Open311Error(400, f"坐标（{lat}, {lon}）不在{jurisdiction.name}辖区内")
    candidates = (
        Division.objects.filter(path__startswith=jurisdiction.path, depth__gt=jurisdiction.depth)
        .exclude(geometry__isnull=True)
        .order_by("-depth", "path")
    )
    for division in candidates:
        if contains(division.geometry, lat, lon):
            return division
    return jurisdiction

"""Maps: the configured basemap, points shifted to its coordinate system, and division outlines.

Case coordinates are WGS-84. A basemap declared `gcj02` (TAIZHANG_MAP_CRS) gets every point and
outline shifted to GCJ-02 before it is drawn. With no tile URL the map draws division outlines on a
plain background: those come from `Division.geometry` when an administrator has set it, else from the
outlines shipped with the demo (taizhang/demo/outlines.geojson — invented shapes, matched by code).
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

from django.conf import settings

from taizhang.org.models import Division

from .gcj02 import wgs84_to_gcj02

DEMO_OUTLINES = Path(__file__).resolve().parent.parent / "demo" / "outlines.geojson"


def basemap_config() -> dict:
    """What the page's script needs to set up Leaflet: tiles (may be empty), attribution, CRS."""
    return {
        "tiles": settings.TAIZHANG_MAP_TILES,
        "attribution": settings.TAIZHANG_MAP_ATTRIBUTION,
        "crs": settings.TAIZHANG_MAP_CRS,
    }


def to_map(lat: float, lon: float) -> tuple[float, float]:
    """A WGS-84 point in the basemap's coordinate system."""
    if settings.TAIZHANG_MAP_CRS == "gcj02":
        return wgs84_to_gcj02(lat, lon)
    return lat, lon


def shift_coordinates(coords):
    """GeoJSON coordinates ([lon, lat] at the leaves, nested to any depth) in the basemap's system."""
    if coords and isinstance(coords[0], (int, float)):
        lat, lon = to_map(coords[1], coords[0])
        return [round(lon, 6), round(lat, 6), *coords[2:]]
    return [shift_coordinates(c) for c in coords]


@lru_cache(maxsize=1)
def demo_outlines() -> dict[str, dict]:
    """{division code: GeoJSON geometry} of the demo's invented outlines."""
    doc = json.loads(DEMO_OUTLINES.read_text(encoding="utf-8"))
    return {f["properties"]["code"]: f["geometry"] for f in doc["features"]}


def geometry_of(division: Division) -> dict | None:
    """The division's own outline (a geometry or a Feature in the admin), else the demo's, else None."""
    geom = division.geometry
    if isinstance(geom, dict) and geom.get("type") == "Feature":
        geom = geom.get("geometry")
    if isinstance(geom, dict) and geom.get("coordinates"):
        return geom
    return demo_outlines().get(division.code)


def outlines(divisions, current: Division | None = None) -> dict:
    """A FeatureCollection of the divisions that have an outline, in the basemap's coordinates;
    `current` (the division being looked at, drawn as a frame around the others) is marked."""
    features = []
    for division in divisions:
        geom = geometry_of(division)
        if geom is None:
            continue
        features.append(
            {
                "type": "Feature",
                "properties": {
                    "code": division.code,
                    "name": division.name,
                    "level": division.level,
                    "current": current is not None and division.pk == current.pk,
                },
                "geometry": {"type": geom["type"], "coordinates": shift_coordinates(geom["coordinates"])},
            }
        )
    return {"type": "FeatureCollection", "features": features}

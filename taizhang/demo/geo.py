"""Coordinates of demo cases: near their street's centre and never nearer to another street's centre.

The streets of places.py lie as close as 0.9 km apart (西街 and 南街), so a square spread around each
centre put some cases into the neighbour's area. A point is drawn in a disc whose radius is at most
`SHARE` of half the distance to the nearest other centre: every point is then inside its own street's
Voronoi cell with a margin, whatever outline a map draws from the centres.
"""

from __future__ import annotations

import math
import random
from functools import cache

from .places import STREETS, Street

KM_PER_DEGREE = 111.2
SHARE = 0.8
URBAN_KM, RURAL_KM = 0.6, 1.4  # the spread wanted, before the neighbour limit


def _km(a: tuple[float, float], b: tuple[float, float]) -> float:
    lat = (a[0] + b[0]) / 2
    dy = (a[0] - b[0]) * KM_PER_DEGREE
    dx = (a[1] - b[1]) * KM_PER_DEGREE * math.cos(math.radians(lat))
    return math.hypot(dx, dy)


@cache
def reach_km(code: str) -> float:
    """How far from its centre a case of this street may lie: SHARE of half the nearest neighbour's distance."""
    street = next(s for s in STREETS if s.code == code)
    nearest = min(_km((street.lat, street.lon), (o.lat, o.lon)) for o in STREETS if o.code != code)
    return SHARE * nearest / 2


def point_near(rng: random.Random, street: Street, rural: bool) -> tuple[float, float]:
    """A point uniformly spread in the street's disc (wider for villages), as (lat, lon)."""
    radius = min(RURAL_KM if rural else URBAN_KM, reach_km(street.code))
    r = radius * math.sqrt(rng.random())
    angle = rng.uniform(0, 2 * math.pi)
    dlat = r * math.sin(angle) / KM_PER_DEGREE
    dlon = r * math.cos(angle) / (KM_PER_DEGREE * math.cos(math.radians(street.lat)))
    return street.lat + dlat, street.lon + dlon


def nearest_street(lat: float, lon: float) -> str:
    """The code of the street whose centre is nearest the point (what a Voronoi outline would say)."""
    return min(STREETS, key=lambda s: _km((lat, lon), (s.lat, s.lon))).code

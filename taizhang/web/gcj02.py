"""WGS-84 → GCJ-02, the coordinate system Chinese basemaps (高德, 腾讯, 天地图's GCJ layers) are drawn in.

Cases store WGS-84 (what a phone's GPS gives). A GCJ-02 basemap is shifted by up to a few hundred
metres from WGS-84, so points drawn on it must be shifted the same way or they land in the wrong
street. This is the widely published forward transform (Krasovsky 1940 ellipsoid); outside mainland
China's bounding box GCJ-02 equals WGS-84 and nothing moves.
"""

from __future__ import annotations

import math

# The Krasovsky 1940 ellipsoid the transform is defined on.
SEMI_MAJOR_AXIS = 6378245.0
ECCENTRICITY_SQUARED = 0.00669342162296594323
# The rough box the shift applies to (the published transform leaves everything outside it alone).
CHINA_LON = (72.004, 137.8347)
CHINA_LAT = (0.8293, 55.8271)


def outside_china(lat: float, lon: float) -> bool:
    """True where GCJ-02 coincides with WGS-84."""
    return not (CHINA_LON[0] <= lon <= CHINA_LON[1] and CHINA_LAT[0] <= lat <= CHINA_LAT[1])


def _shift_lat(x: float, y: float) -> float:
    ret = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * math.sqrt(abs(x))
    ret += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    ret += (20.0 * math.sin(y * math.pi) + 40.0 * math.sin(y / 3.0 * math.pi)) * 2.0 / 3.0
    ret += (160.0 * math.sin(y / 12.0 * math.pi) + 320.0 * math.sin(y * math.pi / 30.0)) * 2.0 / 3.0
    return ret


def _shift_lon(x: float, y: float) -> float:
    ret = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * math.sqrt(abs(x))
    ret += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    ret += (20.0 * math.sin(x * math.pi) + 40.0 * math.sin(x / 3.0 * math.pi)) * 2.0 / 3.0
    ret += (150.0 * math.sin(x / 12.0 * math.pi) + 300.0 * math.sin(x / 30.0 * math.pi)) * 2.0 / 3.0
    return ret


def wgs84_to_gcj02(lat: float, lon: float) -> tuple[float, float]:
    """(lat, lon) in WGS-84 → (lat, lon) in GCJ-02; unchanged outside China."""
    if outside_china(lat, lon):
        return lat, lon
    d_lat = _shift_lat(lon - 105.0, lat - 35.0)
    d_lon = _shift_lon(lon - 105.0, lat - 35.0)
    rad_lat = lat / 180.0 * math.pi
    magic = 1 - ECCENTRICITY_SQUARED * math.sin(rad_lat) ** 2
    sqrt_magic = math.sqrt(magic)
    d_lat = (d_lat * 180.0) / (
        (SEMI_MAJOR_AXIS * (1 - ECCENTRICITY_SQUARED)) / (magic * sqrt_magic) * math.pi
    )
    d_lon = (d_lon * 180.0) / (SEMI_MAJOR_AXIS / sqrt_magic * math.cos(rad_lat) * math.pi)
    return lat + d_lat, lon + d_lon

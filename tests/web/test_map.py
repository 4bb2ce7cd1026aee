"""Maps: WGS-84 → GCJ-02 against published reference values, the basemap settings (bad values stop
start-up naming the variable), and the shipped demo outlines."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from taizhang.web.basemap import DEMO_OUTLINES, basemap_config, shift_coordinates, to_map
from taizhang.web.gcj02 import outside_china, wgs84_to_gcj02

# (WGS-84 lat, lon) → (GCJ-02 lat, lon): the reference pairs published with eviltransform's tests
# (上海, 深圳, 北京) and two more from other implementations' test suites.
REFERENCE = [
    ((31.1774276, 121.5272106), (31.17530398364597, 121.531541859215)),
    ((22.543847, 113.912316), (22.540796131694766, 113.9171764808363)),
    ((39.911954, 116.377817), (39.91334545536069, 116.38404722455657)),
    ((40.0, 116.0), (40.001213650174, 116.006141221789)),
    ((39.90734, 116.39089), (39.90874107, 116.39713094)),
]


@pytest.mark.parametrize(("wgs", "gcj"), REFERENCE)
def test_wgs84_to_gcj02_matches_reference_values(wgs, gcj):
    lat, lon = wgs84_to_gcj02(*wgs)
    assert lat == pytest.approx(gcj[0], abs=1e-6)
    assert lon == pytest.approx(gcj[1], abs=1e-6)


@pytest.mark.parametrize("point", [(0.0, 0.0), (35.6812, 139.7671), (51.5074, -0.1278), (-33.87, 151.21)])
def test_no_shift_outside_china(point):
    assert outside_china(*point)
    assert wgs84_to_gcj02(*point) == point


def test_the_shift_in_the_demo_district_is_a_few_hundred_metres():
    lat, lon = wgs84_to_gcj02(36.168, 113.137)
    assert not outside_china(36.168, 113.137)
    assert 0.005 < lon - 113.137 < 0.008 and 0 < lat - 36.168 < 0.001


def test_points_and_outlines_follow_the_setting(settings):
    settings.TAIZHANG_MAP_CRS = "wgs84"
    assert to_map(36.168, 113.137) == (36.168, 113.137)
    assert shift_coordinates([[113.137, 36.168]]) == [[113.137, 36.168]]
    settings.TAIZHANG_MAP_CRS = "gcj02"
    lat, lon = wgs84_to_gcj02(36.168, 113.137)
    assert to_map(36.168, 113.137) == (lat, lon)
    # GeoJSON is [lon, lat] at any depth (Polygon rings, MultiPolygons).
    assert shift_coordinates([[[[113.137, 36.168]]]]) == [[[[round(lon, 6), round(lat, 6)]]]]
    settings.TAIZHANG_MAP_TILES = "/tiles/{z}/{x}/{y}.png"
    assert basemap_config() == {"tiles": "/tiles/{z}/{x}/{y}.png", "attribution": "", "crs": "gcj02"}


def test_demo_outlines_say_they_are_invented_and_cover_every_street():
    from taizhang.demo.places import DISTRICT, STREETS

    doc = json.loads(DEMO_OUTLINES.read_text(encoding="utf-8"))
    assert "INVENTED" in doc["note"]
    codes = [f["properties"]["code"] for f in doc["features"]]
    assert codes == [DISTRICT[0], *(s.code for s in STREETS)]
    for f in doc["features"]:
        ring = f["geometry"]["coordinates"][0]
        assert ring[0] == ring[-1] and len(ring) >= 4
    for street in STREETS:  # each street's centre lies inside its own outline
        ring = next(f for f in doc["features"] if f["properties"]["code"] == street.code)["geometry"]
        assert inside((street.lon, street.lat), ring["coordinates"][0]), street.code


def inside(point, ring) -> bool:
    x, y = point
    hit = False
    for (x1, y1), (x2, y2) in zip(ring, ring[1:], strict=False):
        if (y1 > y) != (y2 > y) and x < (x2 - x1) * (y - y1) / (y2 - y1) + x1:
            hit = not hit
    return hit


BAD = [
    ({"TAIZHANG_MAP_CRS": "bd09"}, "TAIZHANG_MAP_CRS='bd09': expected one of wgs84, gcj02"),
    ({"TAIZHANG_MAP_TILES": "tiles.example.com/{z}/{x}/{y}.png"}, "TAIZHANG_MAP_TILES="),
    ({"TAIZHANG_MAP_TILES": "https://tiles.example.com/{z}/{x}.png"}, "the template lacks {y}"),
]


@pytest.mark.parametrize(("env", "message"), BAD)
def test_bad_map_setting_stops_start_up_naming_it(env, message):
    full = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"} | env
    proc = subprocess.run(
        [sys.executable, "-m", "taizhang.cli", "check"], env=full, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode != 0
    assert message in proc.stderr


def test_good_map_settings_start():
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"} | {
        "TAIZHANG_MAP_TILES": "https://webrd0{s}.example.cn/tile?x={x}&y={y}&z={z}",
        "TAIZHANG_MAP_ATTRIBUTION": "© 示例",
        "TAIZHANG_MAP_CRS": "gcj02",
    }
    code = "from django.conf import settings as s; print(s.TAIZHANG_MAP_CRS, s.TAIZHANG_MAP_ATTRIBUTION)"
    proc = subprocess.run(
        [sys.executable, "-m", "taizhang.cli", "shell", "-c", code],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().splitlines()[-1] == "gcj02 © 示例"

"""Hot spots (热点): grouping as demands arrive, naming, the heat index, rebuild, who sees what."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.test.utils import CaptureQueriesContext

from taizhang.cases.create import CaseInput, do_create_case
from taizhang.cases.models import Case
from taizhang.errors import ActionError
from taizhang.insight.actions import do_metoo
from taizhang.insight.hotspot_index import add_case, rebuild
from taizhang.insight.hotspot_queries import top_hotspots
from taizhang.insight.hotspots import compound_places, heat_at, heat_mass, rank_key
from taizhang.insight.models import HotSpot, HotSpotMember
from taizhang.insight.rules import hotspot_rules, reset_rules
from tests.api.conftest import ApiClient

NOISE = [
    ("金桂苑小区工地夜间施工噪音扰民", "金桂苑小区北侧工地每天夜里施工到凌晨，噪音很大，无法入睡。"),
    ("金桂苑小区旁工地夜里施工太吵", "金桂苑小区旁边的工地夜间施工，电钻噪音扰民。"),
    ("投诉金桂苑小区附近夜间施工噪音", "晚上十一点以后金桂苑小区附近工地还在施工，噪音严重。"),
]
LAMP = [
    ("幸福路路灯不亮晚上出行不便", "幸福路东段路灯坏了一周，晚上一片漆黑。"),
    ("幸福路东段路灯坏了没人修", "幸福路东段好几盏路灯不亮，行人摔倒。"),
]
FILLER = [
    "建设路下水道堵塞污水横流",
    "咨询公积金贷款政策",
    "学校门口交通拥堵",
    "自来水水质发黄",
    "公交车班次太少等车时间长",
    "五马街道菜市场占道经营",
    "广场舞音响声音太大扰民",
    "楼道堆放杂物堵塞消防通道",
]


def demand(world, title: str, description: str = "", user=None, division=None, phone: str = "", **kw) -> Case:
    data = CaseInput(
        mechanism="demand",
        title=title,
        description=description,
        division=(division or world.grid).code,
        category="complaint",
        channel="hotline",
        fields={"caller_phone": phone} if phone else {},
        **kw,
    )
    case, _ = do_create_case(user or world.dispatcher, data)
    return case


@pytest.fixture
def filler(world):
    return [demand(world, t) for t in FILLER]


def groups() -> list[set[int]]:
    out: dict[int, set[int]] = {}
    for case_id, spot_id in HotSpotMember.objects.values_list("case_id", "hotspot_id"):
        out.setdefault(spot_id, set()).add(case_id)
    return sorted(out.values(), key=lambda g: sorted(g))


def test_same_problem_same_place_is_grouped_and_named(world, filler, frozen):
    noise = []
    for i, (title, text) in enumerate(NOISE):
        noise.append(demand(world, title, text, phone=f"1380000000{i}"))
        frozen.shift(timedelta(hours=5))
    other = demand(world, "金桂苑小区电梯经常故障困人", "金桂苑小区3号楼电梯一周坏了三次。")
    spot = HotSpot.objects.get()
    assert {m.case_id for m in spot.members.all()} == {c.pk for c in noise}
    assert not HotSpotMember.objects.filter(case=other).exists()  # same place, another problem
    assert (spot.count, spot.reporters) == (3, 3)
    assert spot.place == "金桂苑小区"
    assert "施工" in spot.problem and "噪音" in spot.problem
    assert spot.name == f"金桂苑小区 · {spot.problem}"
    assert spot.first_at == noise[0].created_at and spot.last_at == noise[2].created_at


def test_the_same_complaint_at_another_estate_is_another_hot_spot(world, filler):
    here = [demand(world, *pair) for pair in NOISE[:2]]
    there = [demand(world, *(t.replace("金桂苑", "银杏苑") for t in pair)) for pair in NOISE[:2]]
    assert groups() == sorted([{c.pk for c in here}, {c.pk for c in there}], key=lambda g: sorted(g))
    assert sorted(HotSpot.objects.values_list("place", flat=True)) == ["金桂苑小区", "银杏苑小区"]


def test_the_same_caller_counts_once_and_hotline_callers_without_phone_count_apart(world, filler):
    a = demand(world, *NOISE[0], phone="138 0000 0001")
    demand(world, *NOISE[1], phone="13800000001")
    demand(world, *NOISE[2])
    spot = HotSpot.objects.get()
    assert (spot.count, spot.reporters) == (3, 2)
    keys = set(spot.members.values_list("reporter_key", flat=True))
    assert f"c:{a.pk}" not in keys and not any("13800000001" in k for k in keys)  # phones only hashed


def test_a_demand_outside_the_window_starts_anew(world, filler, frozen):
    frozen.shift(timedelta(days=-50))  # the holiday calendar knows 2026 only
    demand(world, *NOISE[0])
    demand(world, *NOISE[1])
    frozen.shift(timedelta(days=45))
    late = demand(world, *NOISE[2])
    assert HotSpot.objects.count() == 1
    assert not HotSpotMember.objects.filter(case=late).exists()


def test_incremental_add_is_a_few_queries_and_idempotent(world, filler):
    first = demand(world, *NOISE[0])
    second = demand(world, *NOISE[1])
    third = demand(world, *NOISE[2])
    HotSpotMember.objects.filter(case=third).delete()
    spot = HotSpot.objects.get()
    with CaptureQueriesContext(connection) as ctx:
        assert add_case(third) == spot
    assert len(ctx.captured_queries) <= 14
    assert add_case(third) is None  # already in its group
    assert set(spot.members.values_list("case_id", flat=True)) == {first.pk, second.pk, third.pk}


def test_ranking_by_heat_with_supporters_and_decay(world, filler, frozen):
    for i, (title, text) in enumerate(NOISE):
        demand(world, title, text, phone=f"1390000000{i}")
    lamps = [demand(world, t, d) for t, d in LAMP]
    found = top_hotspots(world.leader)
    assert [v.count for v in found] == [3, 2]
    noise_heat, lamp_heat = found[0].heat, found[1].heat
    rules = hotspot_rules().heat
    spot = HotSpot.objects.get(pk=found[1].id)
    assert spot.mass == pytest.approx((rules.count + rules.reporters) * 1.0986123)  # ln 3; no span yet
    do_metoo(world.resident, lamps[0].number)
    spot.refresh_from_db()
    assert (spot.support, spot.members.get(case=lamps[0]).support) == (1, 1)
    assert top_hotspots(world.leader)[1].heat > lamp_heat
    later = top_hotspots(world.leader, now=spot.last_at + timedelta(days=rules.half_life_days))
    assert later[0].heat == pytest.approx(noise_heat / 2, rel=0.01)


def test_heat_formula_and_rank_key_order_by_heat_at_any_moment():
    from datetime import UTC, datetime

    rules = hotspot_rules().heat
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    small = heat_mass(rules, 2, 2, 0, t0, t0 + timedelta(days=1))
    big = heat_mass(rules, 20, 15, 30, t0, t0 + timedelta(days=10))
    expected = rules.count * 3.0445224 + rules.reporters * 2.7725887 + rules.support * 3.4339872
    assert big == pytest.approx(expected + rules.span * 2.3978953, rel=1e-6)
    recent_small, old_big = (small, t0 + timedelta(days=60)), (big, t0 + timedelta(days=10))
    for now in (t0 + timedelta(days=60), t0 + timedelta(days=200)):
        by_heat = heat_at(rules, *recent_small[:1], recent_small[1], now) > heat_at(
            rules, old_big[0], old_big[1], now
        )
        by_key = rank_key(rules, *recent_small) > rank_key(rules, *old_big)
        assert by_heat == by_key


def test_rebuild_gives_the_groups_incremental_adding_gave(world, filler, frozen):
    for title, text in NOISE:
        demand(world, title, text)
        frozen.shift(timedelta(hours=2))
    for title, text in LAMP:
        demand(world, title, text)
    demand(world, "金桂苑小区电梯经常故障困人")
    before = groups()
    names = set(HotSpot.objects.values_list("name", flat=True))
    assert len(before) == 2
    result = rebuild()
    assert result[f"{world.district.code}:demand"]["groups"] == 2
    assert groups() == before
    assert set(HotSpot.objects.values_list("name", flat=True)) == names


def test_compound_place_names():
    assert compound_places("A5区劳动东路魅力之城小区临街门面油烟直排扰民") == {"魅力之城小区"}
    assert compound_places("反映新城小区太吵") == set()


def test_a_person_sees_hot_spots_only_through_their_cases(world, filler):
    mine = [demand(world, t, d) for t, d in NOISE[:2]]
    theirs = demand(world, *NOISE[2], division=world.other_grid, user=world.leader)
    assert HotSpot.objects.get().count == 3
    leader = top_hotspots(world.leader)[0]
    assert (leader.count, leader.case_ids) == (3, [c.pk for c in [*mine, theirs]])
    grid = top_hotspots(world.grid_worker)[0]
    assert (grid.count, grid.case_ids, grid.case_numbers) == (
        2,
        [c.pk for c in mine],
        [c.number for c in mine],
    )
    assert top_hotspots(world.outsider) == []  # one visible demand is not a hot spot
    assert top_hotspots(world.inspector)[0].count == 3
    with pytest.raises(ActionError) as info:
        top_hotspots(world.resident)
    assert info.value.status == 403


def test_the_scan_for_part_of_a_district_is_exact_whatever_the_page(world, filler, monkeypatch):
    import taizhang.insight.hotspot_queries as queries

    for title, text in NOISE:
        demand(world, title, text)
    for title, text in LAMP:
        demand(world, title, text)
    demand(world, *NOISE[0], division=world.other_grid, user=world.leader)
    for pair in LAMP:
        demand(
            world,
            *(t.replace("幸福路", "长兴路") for t in pair),
            division=world.other_grid,
            user=world.leader,
        )
    whole = [(v.id, v.count, v.heat) for v in top_hotspots(world.grid_worker)]
    monkeypatch.setattr(queries, "PAGE", 1)
    assert [(v.id, v.count, v.heat) for v in top_hotspots(world.grid_worker)] == whole
    assert [v.count for v in top_hotspots(world.grid_worker, limit=1)] == [3]
    assert len(whole) == 2 and top_hotspots(world.outsider)[0].count == 2  # 长兴路 lamps only


def test_api_lists_hot_spots_with_permissions(world, filler):
    cases = [demand(world, t, d) for t, d in NOISE]
    assert ApiClient().get("/hotspots").status_code == 401
    api = ApiClient()
    for persona, status in (("resident", 403), ("leader", 200), ("grid_worker", 200), ("outsider", 200)):
        api.client.force_login(getattr(world, persona))
        response = api.get("/hotspots", {"limit": 5, "days": 30})
        assert response.status_code == status, persona
    api.client.force_login(world.leader)
    body = api.get("/hotspots").json()
    assert [b["case_numbers"] for b in body] == [[c.number for c in cases]]
    assert body[0]["count"] == 3 and body[0]["name"].startswith("金桂苑小区") and body[0]["heat"] > 0
    bad = api.get("/hotspots", {"limit": 0, "mechanism": "nope"})
    assert bad.status_code == 422
    assert {e["field"] for e in bad.json()["errors"]} == {"limit", "mechanism"}


def test_a_broken_rule_file_names_file_line_and_field(settings, tmp_path):
    (tmp_path / "insight").mkdir()
    text = (hotspot_rules.__globals__["SHIPPED"] / "hotspots.yaml").read_text(encoding="utf-8")
    broken = text.replace("  join_threshold: 0.35", "  join_threshold: 1.5")
    broken = broken.replace("regions: {}", "regions:\n  LZQ: {grouping: {window_days: 0}}")
    (tmp_path / "insight" / "hotspots.yaml").write_text(broken, encoding="utf-8")
    settings.TAIZHANG_MECHANISM_DIR = tmp_path
    reset_rules()
    try:
        with pytest.raises(ImproperlyConfigured) as info:
            hotspot_rules()
        message = str(info.value)
        line = next(
            i for i, ln in enumerate(broken.splitlines(), 1) if ln.startswith("  join_threshold: 1.5")
        )
        assert f"insight/hotspots.yaml:{line}: grouping.join_threshold" in message
        assert "regions.LZQ.grouping.window_days" in message
    finally:
        settings.TAIZHANG_MECHANISM_DIR = hotspot_rules.__globals__["SHIPPED"].parent
        reset_rules()


def test_region_overrides_apply_to_their_district_only(settings, tmp_path, world, filler, frozen):
    (tmp_path / "insight").mkdir()
    text = (hotspot_rules.__globals__["SHIPPED"] / "hotspots.yaml").read_text(encoding="utf-8")
    (tmp_path / "insight" / "hotspots.yaml").write_text(
        text.replace("regions: {}", "regions:\n  LZQ: {grouping: {window_days: 60}}"), encoding="utf-8"
    )
    settings.TAIZHANG_MECHANISM_DIR = tmp_path
    reset_rules()
    try:
        assert (hotspot_rules("LZQ").grouping.window_days, hotspot_rules().grouping.window_days) == (60, 30)
        frozen.shift(timedelta(days=-50))
        demand(world, *NOISE[0])
        frozen.shift(timedelta(days=45))
        demand(world, *NOISE[1])
        assert HotSpot.objects.get().count == 2  # 45 days apart: within 潞州区's 60
    finally:
        settings.TAIZHANG_MECHANISM_DIR = hotspot_rules.__globals__["SHIPPED"].parent
        reset_rules()

"""Per-locality rule packs: what a pack may say, and which number a case gets where.

Division paths are the org tree's materialised paths, e.g. "/CZS/LZQ/WMJD/" for 五马街道 in 潞州区.
MINIMAL's defaults: working 5 工作日, working + grade major 2 自然日; supervision of working:
remind 1 工作日 before, escalate 1 level at the deadline and 2 levels 2 工作日 after it.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings

from taizhang.clock.clock import Duration
from taizhang.mechanisms.errors import MechanismError
from taizhang.mechanisms.registry import Registry, SupervisionPlan, load_directory

from .test_validation import MINIMAL, line_with

WMJD = "/CZS/LZQ/WMJD/"  # 五马街道, in 潞州区 (LZQ), in 长治市 (CZS)
WMJD_GRID = "/CZS/LZQ/WMJD/WMJD-HX/WMJD-HX-01/"
XBTZ = "/CZS/LZQ/XBTZ/"  # 西白兔镇, also in 潞州区
OTHER_DISTRICT = "/CZS/SZQ/"


def d(text: str) -> Duration:
    return Duration.parse(text)


def write(directory: Path, packs: dict[str, str], mechanisms: dict[str, str] | None = None) -> Path:
    for name, text in (mechanisms if mechanisms is not None else {"demo.yaml": MINIMAL}).items():
        (directory / name).write_text(text, encoding="utf-8")
    (directory / "packs").mkdir(exist_ok=True)
    for name, text in packs.items():
        (directory / "packs" / name).write_text(text, encoding="utf-8")
    return directory


def load(directory: Path, packs: dict[str, str], mechanisms: dict[str, str] | None = None) -> Registry:
    return load_directory(write(directory, packs, mechanisms))


def pack(code: str, divisions: str, body: str, mechanism: str = "demo") -> str:
    """A pack text; `body` is the override of `mechanism`, indented under it."""
    indented = "".join(f"    {line}\n" for line in body.strip("\n").splitlines())
    return f"pack: {code}\nname: {code} 规则\ndivisions: {divisions}\nmechanisms:\n  {mechanism}:\n{indented}"


def limit(
    registry: Registry,
    path: str,
    grade: str = "general",
    category: str = "fire",
    channel: str = "grid",
    state: str = "working",
    mechanism: str = "demo",
) -> Duration | None:
    return registry.get(mechanism).limit_for(state, grade, category, channel, path)


DISTRICT_PACK = pack("district", "[LZQ]", "time_limits:\n  - {state: working, limit: 3 工作日}")
STREET_PACK = pack("street", "[WMJD]", "time_limits:\n  - {state: working, limit: 1 工作日}")


# -- resolution of time limits ------------------------------------------------------------------------


def test_without_packs_the_mechanism_default_applies(tmp_path):
    registry = load(tmp_path, {})
    assert limit(registry, WMJD) == d("5 工作日")
    assert limit(registry, WMJD, grade="major") == d("2 自然日")
    assert limit(registry, WMJD, state="reported") is None


def test_a_pack_applies_only_within_its_divisions_subtrees(tmp_path):
    registry = load(tmp_path, {"district.yaml": DISTRICT_PACK})
    assert limit(registry, "/CZS/LZQ/") == d("3 工作日")  # the division itself
    assert limit(registry, WMJD) == d("3 工作日")
    assert limit(registry, WMJD_GRID) == d("3 工作日")
    assert limit(registry, OTHER_DISTRICT) == d("5 工作日")
    assert limit(registry, "/CZS/") == d("5 工作日")  # the city above is not inside the pack's division
    assert limit(registry, "") == d("5 工作日")


def test_division_codes_match_whole_path_segments_only(tmp_path):
    registry = load(tmp_path, {"district.yaml": DISTRICT_PACK})
    assert limit(registry, "/CZS/LZQ2/") == d("5 工作日")
    assert limit(registry, "/CZS/XLZQ/") == d("5 工作日")


def test_a_pack_for_several_divisions(tmp_path):
    registry = load(
        tmp_path,
        {"two.yaml": pack("two", "[WMJD, XBTZ]", "time_limits:\n  - {state: working, limit: 4 工作日}")},
    )
    assert limit(registry, WMJD_GRID) == d("4 工作日")
    assert limit(registry, XBTZ) == d("4 工作日")
    assert limit(registry, "/CZS/LZQ/") == d("5 工作日")


@pytest.mark.parametrize(("district_file", "street_file"), [("a.yaml", "z.yaml"), ("z.yaml", "a.yaml")])
def test_the_deeper_pack_beats_the_shallower_whatever_the_file_order(tmp_path, district_file, street_file):
    registry = load(tmp_path, {district_file: DISTRICT_PACK, street_file: STREET_PACK})
    assert limit(registry, WMJD_GRID) == d("1 工作日")
    assert limit(registry, WMJD) == d("1 工作日")
    assert limit(registry, XBTZ) == d("3 工作日")
    assert limit(registry, OTHER_DISTRICT) == d("5 工作日")


def test_a_deeper_pack_without_an_entry_for_the_state_falls_back_to_the_shallower(tmp_path):
    street = pack("street", "[WMJD]", "time_limits:\n  - {state: parked, limit: 30 自然日}")
    registry = load(tmp_path, {"district.yaml": DISTRICT_PACK, "street.yaml": street})
    assert limit(registry, WMJD) == d("3 工作日")
    assert limit(registry, WMJD, state="parked") == d("30 自然日")
    assert limit(registry, XBTZ, state="parked") is None


def test_within_a_pack_the_more_specific_entry_wins(tmp_path):
    body = """
time_limits:
  - {state: working, limit: 3 工作日}
  - {state: working, grade: major, limit: 1 自然日}
  - {state: working, grade: major, category: fire, limit: 12 小时}
  - {state: working, grade: major, category: fire, channel: hotline, limit: 4 小时}
"""
    registry = load(tmp_path, {"district.yaml": pack("district", "[LZQ]", body)})
    assert limit(registry, WMJD, grade="general") == d("3 工作日")
    assert limit(registry, WMJD, grade="major", category="other") == d("1 自然日")
    assert limit(registry, WMJD, grade="major", category="fire") == d("12 小时")
    assert limit(registry, WMJD, grade="major", category="fire", channel="hotline") == d("4 小时")


def test_the_order_of_entries_does_not_matter_for_specificity(tmp_path):
    body = """
time_limits:
  - {state: working, grade: major, limit: 1 自然日}
  - {state: working, limit: 3 工作日}
"""
    registry = load(tmp_path, {"district.yaml": pack("district", "[LZQ]", body)})
    assert limit(registry, WMJD, grade="major") == d("1 自然日")
    assert limit(registry, WMJD, grade="general") == d("3 工作日")


def test_equally_specific_entries_the_first_listed_wins(tmp_path):
    body = """
time_limits:
  - {state: working, category: fire, limit: 2 工作日}
  - {state: working, grade: major, limit: 1 自然日}
"""
    registry = load(tmp_path, {"district.yaml": pack("district", "[LZQ]", body)})
    assert limit(registry, WMJD, grade="major", category="fire") == d("2 工作日")
    assert limit(registry, WMJD, grade="major", category="other") == d("1 自然日")


def test_the_pack_beats_the_mechanism_default(tmp_path):
    registry = load(tmp_path, {"district.yaml": DISTRICT_PACK})
    # The pack's entry for the state wins, even over the mechanism's more specific major entry: a pack
    # that sets a state's limit sets it for the whole division (it may add its own grade entries).
    assert limit(registry, WMJD, grade="major") == d("3 工作日")
    assert limit(registry, OTHER_DISTRICT, grade="major") == d("2 自然日")


def test_a_pack_only_changes_the_mechanisms_it_names(tmp_path):
    other = MINIMAL.replace("code: demo", "code: other").replace("number_prefix: DM", "number_prefix: OT")
    registry = load(tmp_path, {"district.yaml": DISTRICT_PACK}, {"demo.yaml": MINIMAL, "other.yaml": other})
    assert limit(registry, WMJD) == d("3 工作日")
    assert limit(registry, WMJD, mechanism="other") == d("5 工作日")
    assert [p.pack for p in registry.get("demo").packs] == ["district"]
    assert registry.get("other").packs == []


def test_the_real_luzhou_pack():
    registry = load_directory(Path(settings.TAIZHANG_MECHANISM_DIR))
    hazard = registry.get("hazard")
    assert hazard.limit_for("rectifying", "major", "fire", "grid", WMJD_GRID) == d("30 工作日")
    assert hazard.limit_for("rectifying", "general", "fire", "grid", WMJD_GRID) == d("5 工作日")
    assert hazard.limit_for("rectifying", "major", "fire", "grid", OTHER_DISTRICT) == d("30 自然日")
    assert hazard.limit_for("verifying", "general", "fire", "grid", WMJD_GRID) == d(
        "3 工作日"
    )  # not in the pack


# -- resolution of supervision ------------------------------------------------------------------------

DEFAULT_PLAN = SupervisionPlan((d("1 工作日"),), ((d("0 小时"), 1), (d("2 工作日"), 2)))


def test_the_mechanisms_supervision_without_packs(tmp_path):
    registry = load(tmp_path, {})
    assert registry.get("demo").supervision_for("working", WMJD) == DEFAULT_PLAN
    assert registry.get("demo").supervision_for("reported", WMJD) == SupervisionPlan()


def test_a_packs_supervision_replaces_the_mechanisms_entry_whole(tmp_path):
    body = """
supervision:
  - state: working
    escalate:
      - {after: 1 工作日, levels: 3}
"""
    registry = load(tmp_path, {"district.yaml": pack("district", "[LZQ]", body)})
    demo = registry.get("demo")
    # No reminders in the pack's entry means none, not the mechanism's.
    assert demo.supervision_for("working", WMJD) == SupervisionPlan((), ((d("1 工作日"), 3),))
    assert demo.supervision_for("working", OTHER_DISTRICT) == DEFAULT_PLAN


def test_a_packs_general_supervision_beats_the_mechanisms_entry_for_the_state(tmp_path):
    body = """
supervision:
  - remind_before: [4 工作时]
"""
    registry = load(tmp_path, {"district.yaml": pack("district", "[LZQ]", body)})
    demo = registry.get("demo")
    assert demo.supervision_for("working", WMJD) == SupervisionPlan((d("4 工作时"),))
    assert demo.supervision_for("parked", WMJD) == SupervisionPlan((d("4 工作时"),))


def test_within_a_pack_the_entry_for_the_state_beats_the_general_one(tmp_path):
    body = """
supervision:
  - remind_before: [4 工作时]
  - state: parked
    remind_before: [7 自然日]
"""
    registry = load(tmp_path, {"district.yaml": pack("district", "[LZQ]", body)})
    demo = registry.get("demo")
    assert demo.supervision_for("parked", WMJD) == SupervisionPlan((d("7 自然日"),))
    assert demo.supervision_for("working", WMJD) == SupervisionPlan((d("4 工作时"),))


def test_deeper_supervision_beats_shallower_and_time_limits_resolve_independently(tmp_path):
    street = pack("street", "[WMJD]", "supervision:\n  - state: working\n    remind_before: [2 小时]")
    registry = load(tmp_path, {"district.yaml": DISTRICT_PACK, "street.yaml": street})
    demo = registry.get("demo")
    assert demo.supervision_for("working", WMJD) == SupervisionPlan((d("2 小时"),))
    assert demo.supervision_for("working", XBTZ) == DEFAULT_PLAN
    assert limit(registry, WMJD) == d("3 工作日")  # the street pack has no limits: the district's apply


# -- validation of packs ------------------------------------------------------------------------------


def pack_problems(tmp_path: Path, text: str, name: str = "p.yaml", mechanisms: dict[str, str] | None = None):
    write(tmp_path, {name: text}, mechanisms)
    with pytest.raises(MechanismError) as info:
        load_directory(tmp_path)
    return info.value.problems


GOOD = pack(
    "district",
    "[LZQ]",
    """
time_limits:
  - {state: working, grade: major, limit: 1 自然日}
supervision:
  - state: working
    remind_before: [2 小时]
    escalate:
      - {after: 0 小时, levels: 1}
""",
)

PACK_CASES = [
    # (id, old, new, needle of the expected line, field, message fragment)
    (
        "unknown-mechanism",
        "  demo:",
        "  petition:",
        "petition:",
        "mechanisms.petition",
        "未知的机制 'petition'（已加载：demo）",
    ),
    ("bad-mechanism-code", "  demo:", "  Demo:", "Demo:", "mechanisms.Demo", "格式不符"),
    (
        "unknown-state",
        "state: working, grade",
        "state: rectifying, grade",
        "rectifying",
        "mechanisms.demo.time_limits[0].state",
        "未知的状态 'rectifying'（可用：closed、parked、reported、working）",
    ),
    (
        "closed-state",
        "state: working, grade",
        "state: closed, grade",
        "state: closed",
        "mechanisms.demo.time_limits[0].state",
        "终态 'closed' 不能设时限",
    ),
    (
        "unknown-grade",
        "grade: major",
        "grade: grave",
        "grave",
        "mechanisms.demo.time_limits[0].grade",
        "未知的等级 'grave'",
    ),
    (
        "unknown-category",
        "grade: major",
        "category: flood",
        "flood",
        "mechanisms.demo.time_limits[0].category",
        "未知的类别 'flood'",
    ),
    (
        "bad-duration-unit",
        "limit: 1 自然日",
        "limit: 1 month",
        "1 month",
        "mechanisms.demo.time_limits[0].limit",
        "未知的时限单位“month”",
    ),
    (
        "bad-duration-text",
        "limit: 1 自然日",
        "limit: 尽快",
        "尽快",
        "mechanisms.demo.time_limits[0].limit",
        "无法识别的时限",
    ),
    (
        "zero-duration",
        "limit: 1 自然日",
        "limit: 0 自然日",
        "0 自然日",
        "mechanisms.demo.time_limits[0].limit",
        "须大于零",
    ),
    (
        "duration-without-unit",
        "limit: 1 自然日",
        "limit: 1",
        "limit: 1}",
        "mechanisms.demo.time_limits[0].limit",
        "时限须写明单位",
    ),
    (
        "duplicate-limit",
        "  - {state: working, grade: major, limit: 1 自然日}\n",
        "  - {state: working, grade: major, limit: 1 自然日}\n"
        "      - {state: working, grade: major, limit: 2 自然日}\n",
        "2 自然日",
        "mechanisms.demo.time_limits[1]",
        "完全相同",
    ),
    (
        "supervision-unknown-state",
        "  - state: working\n",
        "  - state: work\n",
        "- state: work",
        "mechanisms.demo.supervision[0].state",
        "未知的状态 'work'",
    ),
    (
        "bad-remind",
        "remind_before: [2 小时]",
        "remind_before: [2 h]",
        "[2 h]",
        "mechanisms.demo.supervision[0].remind_before[0]",
        "未知的时限单位",
    ),
    (
        "bad-escalation",
        "{after: 0 小时, levels: 1}",
        "{after: 0 小时, levels: 0}",
        "levels: 0",
        "mechanisms.demo.supervision[0].escalate[0].levels",
        "数值过小",
    ),
    (
        "empty-override",
        GOOD[GOOD.index("  demo:") :],
        "  demo: {}\n",
        "demo: {}",
        "mechanisms.demo",
        "没有覆盖任何内容",
    ),
    (
        "override-not-a-mapping",
        GOOD[GOOD.index("  demo:") :],
        "  demo:\n",
        "demo:",
        "mechanisms.demo",
        "应为映射",
    ),
    (
        "pack-overrides-more-than-numbers",
        "    time_limits:",
        "    states: []\n    time_limits:",
        "states",
        "mechanisms.demo.states",
        "未知的键 'states'（可用：time_limits、total_limits、supervision、kpi、transitions、intake",
    ),
    (
        "typo-in-override",
        "    time_limits:",
        "    time_limit:",
        "time_limit:",
        "mechanisms.demo.time_limit",
        "是否应为 'time_limits'",
    ),
    (
        "typo-at-top",
        "pack: district",
        "pack: district\nsourse: 某文件",
        "sourse",
        "sourse",
        "是否应为 'source'",
    ),
    ("missing-divisions", "divisions: [LZQ]\n", "", "pack: district", "divisions", "缺少必填项"),
    ("empty-divisions", "divisions: [LZQ]", "divisions: []", "divisions", "divisions", "不能为空"),
    (
        "division-path-not-code",
        "divisions: [LZQ]",
        "divisions: [/CZS/LZQ/]",
        "divisions",
        "divisions[0]",
        "区划编码无效",
    ),
    (
        "division-blank",
        "divisions: [LZQ]",
        "divisions: [LZQ, '']",
        "divisions",
        "divisions[1]",
        "区划编码无效",
    ),
    (
        "duplicate-division",
        "divisions: [LZQ]",
        "divisions: [LZQ, WMJD, LZQ]",
        "divisions",
        "divisions[2]",
        "重复的区划 'LZQ'",
    ),
    ("bad-pack-code", "pack: district", "pack: District", "pack: District", "pack", "格式不符"),
    (
        "empty-mechanisms",
        GOOD[GOOD.index("mechanisms:") :],
        "mechanisms: {}\n",
        "mechanisms",
        "mechanisms",
        "不能为空",
    ),
]


@pytest.mark.parametrize(
    ("old", "new", "needle", "field", "fragment"), [c[1:] for c in PACK_CASES], ids=[c[0] for c in PACK_CASES]
)
def test_pack_validation_errors(tmp_path, old, new, needle, field, fragment):
    assert GOOD.count(old) == 1
    text = GOOD.replace(old, new)
    problems = pack_problems(tmp_path, text)
    assert len(problems) == 1, "\n".join(map(str, problems))
    (problem,) = problems
    assert (problem.file, problem.line, problem.field) == ("packs/p.yaml", line_with(text, needle), field), (
        str(problem)
    )
    assert fragment in problem.message, str(problem)


def test_the_good_pack_loads(tmp_path):
    registry = load(tmp_path, {"p.yaml": GOOD})
    assert limit(registry, WMJD, grade="major") == d("1 自然日")
    assert limit(registry, WMJD, grade="general") == d("5 工作日")  # the pack has no general entry


def test_a_pack_yaml_error_names_the_pack_file(tmp_path):
    (problem,) = pack_problems(tmp_path, GOOD.replace("divisions: [LZQ]", "divisions: [LZQ"))
    assert problem.file == "packs/p.yaml"
    assert problem.message.startswith("YAML 语法错误")


def test_two_packs_with_the_same_code(tmp_path):
    write(tmp_path, {"a.yaml": DISTRICT_PACK, "b.yaml": DISTRICT_PACK.replace("[LZQ]", "[SZQ]")})
    with pytest.raises(MechanismError) as info:
        load_directory(tmp_path)
    (problem,) = info.value.problems
    assert (problem.file, problem.line, problem.field) == ("packs/b.yaml", 1, "pack")
    assert "规则包编码 'district' 与 packs/a.yaml 重复" in problem.message


def test_two_packs_setting_the_same_state_for_the_same_division_conflict(tmp_path):
    other = pack(
        "other",
        "[WMJD, LZQ]",
        "time_limits:\n  - {state: working, grade: major, limit: 1 自然日}\n"
        "  - {state: working, limit: 2 工作日}",
    )
    write(tmp_path, {"a.yaml": DISTRICT_PACK, "b.yaml": other})
    with pytest.raises(MechanismError) as info:
        load_directory(tmp_path)
    (problem,) = info.value.problems
    text = (tmp_path / "packs" / "b.yaml").read_text(encoding="utf-8")
    assert (problem.file, problem.line, problem.field) == (
        "packs/b.yaml",
        line_with(text, "grade: major"),
        "mechanisms.demo.time_limits[0]",
    )
    assert "与规则包 packs/a.yaml 都为区划 'LZQ' 设置了状态 'working' 的时限" in problem.message


def test_two_packs_for_the_same_division_may_set_different_things(tmp_path):
    limits = pack("limits", "[LZQ]", "time_limits:\n  - {state: working, limit: 3 工作日}")
    reminders = pack("reminders", "[LZQ]", "supervision:\n  - state: working\n    remind_before: [2 小时]")
    parked = pack("parked", "[LZQ]", "time_limits:\n  - {state: parked, limit: 60 自然日}")
    registry = load(tmp_path, {"a.yaml": limits, "b.yaml": reminders, "c.yaml": parked})
    demo = registry.get("demo")
    assert limit(registry, WMJD) == d("3 工作日")
    assert limit(registry, WMJD, state="parked") == d("60 自然日")
    assert demo.supervision_for("working", WMJD) == SupervisionPlan((d("2 小时"),))


def test_supervision_conflict_between_packs(tmp_path):
    a = pack("a", "[LZQ]", "supervision:\n  - remind_before: [2 小时]")
    b = pack("b", "[LZQ]", "supervision:\n  - remind_before: [1 小时]")
    write(tmp_path, {"a.yaml": a})
    (problem,) = pack_problems(tmp_path, b, "b.yaml")
    assert (problem.file, problem.field) == ("packs/b.yaml", "mechanisms.demo.supervision[0]")
    assert "设置了所有状态的催办督办" in problem.message


def test_problems_of_every_file_are_reported_together(tmp_path):
    broken_mechanism = MINIMAL.replace("    roles: [verifier]", "    roles: [checker]")
    other = MINIMAL.replace("code: demo", "code: other").replace("number_prefix: DM", "number_prefix: OT")
    bad_pack = pack("bad", "[LZQ]", "time_limits:\n  - {state: working, limit: 3 weeks}", mechanism="other")
    write(tmp_path, {"bad.yaml": bad_pack}, {"demo.yaml": broken_mechanism, "other.yaml": other})
    with pytest.raises(MechanismError) as info:
        load_directory(tmp_path)
    assert [(p.file, p.field) for p in info.value.problems] == [
        ("demo.yaml", "transitions[4].roles[0]"),
        ("packs/bad.yaml", "mechanisms.other.time_limits[0].limit"),
    ]


def test_a_pack_for_a_broken_mechanism_is_not_blamed_for_it(tmp_path):
    broken_mechanism = MINIMAL.replace("    roles: [verifier]", "    roles: [checker]")
    write(tmp_path, {"district.yaml": DISTRICT_PACK}, {"demo.yaml": broken_mechanism})
    with pytest.raises(MechanismError) as info:
        load_directory(tmp_path)
    assert [p.file for p in info.value.problems] == ["demo.yaml"]


def test_two_mechanisms_with_the_same_code(tmp_path):
    copy = MINIMAL.replace("number_prefix: DM", "number_prefix: DX")
    write(tmp_path, {}, {"demo.yaml": MINIMAL, "demo2.yaml": copy})
    with pytest.raises(MechanismError) as info:
        load_directory(tmp_path)
    (problem,) = info.value.problems
    assert (problem.file, problem.line, problem.field) == ("demo2.yaml", 1, "code")
    assert "机制编码 'demo' 与 demo.yaml 重复" in problem.message


def test_two_mechanisms_with_the_same_case_number_prefix(tmp_path):
    other = MINIMAL.replace("code: demo", "code: other")
    write(tmp_path, {}, {"demo.yaml": MINIMAL, "other.yaml": other})
    with pytest.raises(MechanismError) as info:
        load_directory(tmp_path)
    (problem,) = info.value.problems
    assert (problem.file, problem.line, problem.field) == ("other.yaml", 3, "number_prefix")
    assert "案件编号前缀 'DM' 与 demo.yaml 重复" in problem.message


def test_yml_files_are_loaded_too(tmp_path):
    registry = load(tmp_path, {"district.yml": DISTRICT_PACK}, {"demo.yml": MINIMAL})
    assert limit(registry, WMJD) == d("3 工作日")
    assert registry.get("demo").file == "demo.yml"


def test_a_directory_without_packs_folder_loads(tmp_path):
    (tmp_path / "demo.yaml").write_text(MINIMAL, encoding="utf-8")
    assert list(load_directory(tmp_path).mechanisms) == ["demo"]


def test_a_missing_directory_is_a_problem(tmp_path):
    with pytest.raises(MechanismError, match="机制目录不存在"):
        load_directory(tmp_path / "nope")

"""Load-time checks of the rules added for issue #13: `to_previous`, `within`, `assign: discipline_unit`,
and the rule-pack overrides of a transition's numbers (`transitions: {code: {within, extend_max}}`) and of
the photos a report must carry (`intake: {photos, channels}`)."""

from __future__ import annotations

import pytest

from taizhang.mechanisms.errors import MechanismError
from taizhang.mechanisms.registry import load_directory

from .test_packs import WMJD, WMJD_GRID, XBTZ, load, pack, pack_problems, write
from .test_validation import MINIMAL, assert_one_problem, broken, line_with

# MINIMAL with a window on 延期's sibling and a cap on 延期, so that packs have numbers to override.
NUMBERS = MINIMAL.replace(
    "    deadline: extend\n", "    deadline: extend\n    extend_max: 10 工作日\n"
).replace(
    "    to: closed\n    roles: [verifier]\n", "    to: closed\n    roles: [verifier]\n    within: 2 工作时\n"
)


# -- the mechanism ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("edits", "needle", "field", "fragment"),
    [
        (
            [
                (
                    "    to: working\n    roles: [leader]\n",
                    "    to: working\n    to_previous: true\n    roles: [leader]\n",
                )
            ],
            ("to_previous: true", -1),
            "transitions[3].to",
            "to_previous（返回上一状态）与 to 不能同时设置",
        ),
        (
            [("    to: working\n    roles: [leader]\n", "    to_previous: true\n    roles: [leader]\n")],
            "from: [parked]",
            "transitions[3].from[0]",
            "状态 'parked' 只能从 'working' 进入，返回上一状态无需 to_previous，请直接写 to",
        ),
        (
            [
                (
                    "    to: working\n    roles: [dispatcher]\n",
                    "    to_previous: true\n    roles: [dispatcher]\n",
                )
            ],
            "from: [reported]",
            "transitions[0].from[0]",
            "案件上报即处于状态 'reported'，没有上一状态",
        ),
        (
            [("    deadline: extend\n", "    deadline: extend\n    to_previous: true\n")],
            "deadline: extend",
            "transitions[5].deadline",
            "延期（extend）不能同时改变状态",
        ),
        (
            [("    deadline: extend\n", "    deadline: extend\n    within: 2\n")],
            "within: 2",
            "transitions[5].within",
            "时限须写明单位",
        ),
        (
            [("    deadline: extend\n", "    deadline: extend\n    within: 两小时\n")],
            "within: 两小时",
            "transitions[5].within",
            "时限无效",
        ),
        (
            [("    deadline: extend\n", "    deadline: extend\n    within: 0 小时\n")],
            "within: 0 小时",
            "transitions[5].within",
            "须大于零",
        ),
        (
            [("    assign: unit\n", "    assign: party_unit\n")],
            "party_unit",
            "transitions[0].assign",
            "'discipline_unit'",
        ),
    ],
    ids=[
        "to-and-to-previous",
        "single-entry",
        "initial-state",
        "extend-moves",
        "no-unit",
        "bad",
        "zero",
        "assign",
    ],
)
def test_rule_errors_name_file_line_and_field(edits, needle, field, fragment):
    assert_one_problem(broken(*edits), needle, field, fragment)


def test_to_previous_from_a_state_with_several_ways_in_loads_and_closes(tmp_path):
    """parked entered from working and reported; 恢复 returns to either; the graph sees both edges."""
    text = broken(
        ("    to: parked\n    roles: [handler]\n", "    to: parked\n    roles: [handler]\n"),
        (
            "  - code: park\n    name: 挂账\n    from: [working]\n",
            "  - code: park\n    name: 挂账\n    from: [working, reported]\n",
        ),
        ("    to: working\n    roles: [leader]\n", "    to_previous: true\n    roles: [leader]\n"),
    )
    registry = load(tmp_path, {}, {"demo.yaml": text})
    mech = registry.get("demo")
    assert mech.entries_of("parked") == ["working", "reported"]
    assert mech.transitions["resume"].moves


# -- rule packs ---------------------------------------------------------------------------------------------

OVERRIDE = pack(
    "district",
    "[LZQ]",
    """
transitions:
  extend: {extend_max: 5 工作日}
  review: {within: 1 工作日}
intake: {photos: 1, channels: [grid]}
""",
)

PACK_CASES = [
    (
        "unknown-transition",
        "  review:",
        "  reviews:",
        "reviews:",
        "mechanisms.demo.transitions.reviews",
        "未知的流转 'reviews'",
    ),
    (
        "number-the-mechanism-lacks",
        "extend: {extend_max: 5 工作日}",
        "extend: {within: 5 工作日}",
        "extend: {within",
        "mechanisms.demo.transitions.extend.within",
        "流转 'extend' 没有 within，规则包只能修改机制已有的数值",
    ),
    (
        "bad-duration",
        "{within: 1 工作日}",
        "{within: 一天}",
        "一天",
        "mechanisms.demo.transitions.review.within",
        "时限无效",
    ),
    (
        "empty-transition-override",
        "{within: 1 工作日}",
        "{}",
        "review: {}",
        "mechanisms.demo.transitions.review",
        "没有覆盖任何内容（within、extend_max 和 accept_within 都为空）",
    ),
    (
        "more-than-numbers",
        "{within: 1 工作日}",
        "{to: closed}",
        "to: closed",
        "mechanisms.demo.transitions.review.to",
        "未知的键 'to'（可用：within、extend_max、accept_within）",
    ),
    (
        "unknown-channel",
        "channels: [grid]",
        "channels: [wechat]",
        "wechat",
        "mechanisms.demo.intake.channels[0]",
        "未知的渠道 'wechat'",
    ),
    (
        "no-channels",
        "channels: [grid]",
        "channels: []",
        "channels: []",
        "mechanisms.demo.intake.channels",
        "不能为空",
    ),
    (
        "photos-not-a-count",
        "photos: 1",
        "photos: true",
        "photos: true",
        "mechanisms.demo.intake.photos",
        "应为整数",
    ),
]


@pytest.mark.parametrize(
    ("old", "new", "needle", "field", "fragment"), [c[1:] for c in PACK_CASES], ids=[c[0] for c in PACK_CASES]
)
def test_pack_override_errors(tmp_path, old, new, needle, field, fragment):
    assert OVERRIDE.count(old) == 1
    text = OVERRIDE.replace(old, new)
    problems = pack_problems(tmp_path, text, mechanisms={"demo.yaml": NUMBERS})
    assert len(problems) == 1, "\n".join(map(str, problems))
    (problem,) = problems
    assert (problem.file, problem.line, problem.field) == ("packs/p.yaml", line_with(text, needle), field), (
        str(problem)
    )
    assert fragment in problem.message, str(problem)


def test_the_deepest_pack_sets_the_numbers_and_the_photos(tmp_path):
    street = pack(
        "street",
        "[WMJD]",
        "transitions:\n  extend: {extend_max: 3 工作日}\nintake: {photos: 2, channels: [hotline]}",
    )
    registry = load(tmp_path, {"district.yaml": OVERRIDE, "street.yaml": street}, {"demo.yaml": NUMBERS})
    mech = registry.get("demo")
    extend, review = mech.transitions["extend"], mech.transitions["review"]
    assert mech.transition_rule(extend, "extend_max", WMJD_GRID) == "3 工作日"  # the street's
    assert (
        mech.transition_rule(review, "within", WMJD_GRID) == "1 工作日"
    )  # the district's: the street has none
    assert mech.transition_rule(extend, "extend_max", XBTZ) == "5 工作日"
    assert mech.transition_rule(extend, "extend_max", "/CZS/") == "10 工作日"  # the mechanism's
    assert mech.intake_photos("hotline", WMJD) == 2
    assert (
        mech.intake_photos("grid", WMJD) == 1
    )  # the street's rule names hotline only: the district's applies
    assert mech.intake_photos("grid", XBTZ) == 1 and mech.intake_photos("hotline", XBTZ) == 0
    assert mech.intake_photos("grid", "/CZS/") == 0


@pytest.mark.parametrize(
    ("body", "what"),
    [
        ("transitions:\n  extend: {extend_max: 3 工作日}", "流转 'extend' 的时限数值"),
        ("intake: {photos: 2}", "的上报照片要求"),
    ],
)
def test_two_packs_for_one_division_may_not_both_set_it(tmp_path, body, what):
    write(tmp_path, {"a.yaml": OVERRIDE, "z.yaml": pack("other", "[LZQ]", body)}, {"demo.yaml": NUMBERS})
    with pytest.raises(MechanismError) as info:
        load_directory(tmp_path)
    problems = info.value.problems
    assert len(problems) == 1 and what in problems[0].message and "packs/a.yaml" in problems[0].message, (
        problems
    )


def test_the_shipped_files_use_the_rules():
    from pathlib import Path

    from django.conf import settings

    registry = load_directory(Path(settings.TAIZHANG_MECHANISM_DIR))
    hazard, demand, petition = (registry.get(c) for c in ("hazard", "demand", "petition"))
    assert [t.code for t in hazard.definition.transitions if t.to_previous] == [
        "lift_cordon",
        "lift_suspension",
    ]
    assert demand.transitions["return"].within == "2 工作时"
    assert petition.transitions["transfer_discipline"].assign == "discipline_unit"
    assert hazard.states["suspended"].kind == "controlled"

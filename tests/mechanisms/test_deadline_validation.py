"""Validation of the deadline rules: limits from or until a date field, calendar periods, total limits,
supervision conditions, the escalation cap, 挂牌督办 (`supervise`) and the modes renew and recount — each
error names the file, the line and the field."""

from __future__ import annotations

import pytest

from taizhang.mechanisms.validate import validate_mechanism
from taizhang.mechanisms.yamlfile import parse_lined_yaml
from tests.mechanisms.test_validation import FILE, MINIMAL, assert_one_problem, problems_of

# MINIMAL with a date field, and without its stopped state (a total limit is refused beside one).
BASE = (
    MINIMAL.replace(
        "  - {name: measures, label: 整改措施, type: textarea}\n",
        "  - {name: measures, label: 整改措施, type: textarea}\n  - {name: due_date, label: 完成日期, type: date}\n",
    )
    .replace(
        "  - {code: parked, name: 挂账, kind: parked, clock: stopped}\n",
        "  - {code: parked, name: 挂账, kind: parked}\n",
    )
    .replace("    deadline: resume\n", "")
)


def edited(*edits: tuple[str, str]) -> str:
    text = BASE
    for old, new in edits:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    return text


LIMIT = "  - {state: working, limit: 5 工作日}\n"
SUPERVISION = "supervision:\n  - state: working\n"


def test_every_new_key_validates():
    text = edited(
        (
            LIMIT,
            "  - {state: working, limit: 5 工作日, from_field: due_date}\n  - {state: reported, until_field: due_date}\n",
        ),
        (
            SUPERVISION,
            "escalate_up_to: district\ntotal_limits:\n  - {limit: 1 季度}\n  - {grade: major, limit: 90 分钟}\n"
            + SUPERVISION,
        ),
        (
            "    deadline: keep\n",
            "    deadline: keep\n    supervise: {levels: 2, accept_in: [working], accept_within: 10 自然日}\n",
        ),
        ("    distinct_from: [done]\n", "    distinct_from: [done]\n    deadline: renew\n"),
    )
    text += (
        "  - state: working\n    when: {grade: [major]}\n    escalate:\n      - {after: 0 小时, levels: 2}\n"
    )
    mech = validate_mechanism(parse_lined_yaml(text, FILE))
    assert mech.escalate_up_to == "district" and len(mech.total_limits) == 2


@pytest.mark.parametrize(
    ("edits", "needle", "field", "fragment"),
    [
        (
            [(LIMIT, "  - {state: working, limit: 5 工作日, from_field: lossdate}\n")],
            "lossdate",
            "time_limits[0].from_field",
            "未知的日期字段 'lossdate'（可用：due_date）",
        ),
        (
            [(LIMIT, "  - {state: working, limit: 5 工作日, from_field: measures}\n")],
            "from_field: measures",
            "time_limits[0].from_field",
            "只能按 date 或 datetime",
        ),
        (
            [(LIMIT, "  - {state: working, limit: 5 工作日, until_field: due_date}\n")],
            "until_field",
            "time_limits[0].limit",
            "不再写 limit",
        ),
        (
            [(LIMIT, "  - {state: working, channel: hotline}\n")],
            "state: working, channel: hotline",
            "time_limits[0]",
            "缺少 limit",
        ),
        ([(LIMIT, "  - {state: working, limit: 1.5 月}\n")], "1.5 月", "time_limits[0].limit", "须为整数"),
        (
            [(LIMIT, "  - {state: working, limit: 2 fortnights}\n")],
            "fortnights",
            "time_limits[0].limit",
            "未知的时限单位",
        ),
        (
            [(SUPERVISION, "total_limits:\n  - {grade: majr, limit: 2 小时}\n" + SUPERVISION)],
            "majr",
            "total_limits[0].grade",
            "未知的等级 'majr'",
        ),
        (
            [(SUPERVISION, "total_limits:\n  - {limit: 2 小时}\n  - {limit: 3 小时}\n" + SUPERVISION)],
            "3 小时",
            "total_limits[1]",
            "完全相同",
        ),
        ([(SUPERVISION, "escalate_up_to: county\n" + SUPERVISION)], "county", "escalate_up_to", "county"),
        (
            [
                (
                    "  - state: working\n    remind_before",
                    "  - state: working\n    when: {category: [gas]}\n    remind_before",
                )
            ],
            "gas",
            "supervision[0].when.category[0]",
            "未知的类别 'gas'",
        ),
        (
            [
                (
                    "    deadline: keep\n",
                    "    deadline: keep\n    supervise: {levels: 2, accept_in: [checking], accept_within: 10 自然日}\n",
                )
            ],
            "checking",
            "transitions[6].supervise.accept_in[0]",
            "未知的状态 'checking'",
        ),
        (
            [
                (
                    "    deadline: keep\n",
                    "    deadline: keep\n    supervise: {levels: 2, accept_in: [working]}\n",
                )
            ],
            "supervise:",
            "transitions[6].supervise",
            "须同时写明",
        ),
        (
            [("    deadline: keep\n", "    deadline: keep\n    supervise: {levels: 6}\n")],
            "levels: 6",
            "transitions[6].supervise.levels",
            "",
        ),
        (
            [("    distinct_from: [done]\n", "    distinct_from: [done]\n    deadline: recount\n")],
            "recount",
            "transitions[4].deadline",
            "只能用于不改变状态的流转",
        ),
        (
            [("    deadline: keep\n", "    deadline: renew\n")],
            "renew",
            "transitions[6].deadline",
            "只能用于改变状态的流转",
        ),
    ],
)
def test_errors(edits, needle, field, fragment):
    assert_one_problem_in(edited(*edits), needle, field, fragment)


def assert_one_problem_in(text: str, needle: str, field: str, fragment: str) -> None:
    problems = problems_of(text)
    assert len(problems) == 1, "\n".join(map(str, problems))
    problem = problems[0]
    line = next(i for i, row in enumerate(text.splitlines(), 1) if needle in row)
    assert (problem.file, problem.line, problem.field) == (FILE, line, field), str(problem)
    assert fragment in problem.message, str(problem)


def test_a_total_limit_is_refused_beside_a_stopped_clock():
    text = MINIMAL.replace(SUPERVISION, "total_limits:\n  - {limit: 7 自然日}\n" + SUPERVISION)
    assert_one_problem(text, "7 自然日", "total_limits[0]", "停表")


def test_two_supervision_entries_of_a_state_need_different_conditions():
    extra = (
        "  - state: working\n    when: {grade: [major]}\n    escalate:\n      - {after: 0 小时, levels: 2}\n"
    )
    validate_mechanism(parse_lined_yaml(BASE + extra, FILE))
    text = BASE + extra + extra.replace("levels: 2", "levels: 3")
    problems = problems_of(text)
    assert len(problems) == 1 and "条件（when）相同" in problems[0].message
    assert problems[0].field == "supervision[2]"

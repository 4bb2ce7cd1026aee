"""Conditions on field values: how they judge (three-valued while a value is not known yet), and the
load-time checks that name file, line and field for an unknown field, a wrong operand or an unknown code."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from taizhang.mechanisms.conditions import Facts, holds
from taizhang.mechanisms.errors import MechanismError
from taizhang.mechanisms.schema import Condition
from taizhang.mechanisms.validate import validate_mechanism
from taizhang.mechanisms.yamlfile import parse_lined_yaml

RISK = Path(__file__).parent / "fixtures" / "risk.yaml"


@pytest.fixture(scope="module")
def fields():
    mech = validate_mechanism(parse_lined_yaml(RISK.read_text(encoding="utf-8"), "risk.yaml"))
    return {f.name: f for f in mech.fields}


def judge(fields, cond: dict, data: dict, grade="low", unknown=()) -> bool | None:
    facts = Facts({"grade": grade, "category": "lec", "channel": "self_check"}, data, frozenset(unknown))
    return holds(Condition.model_validate(cond), fields, facts)


@pytest.mark.parametrize(
    ("cond", "data", "expected"),
    [
        ({"field": "lec_d", "gt": 320}, {"lec_d": "320.5"}, True),
        ({"field": "lec_d", "gt": 320}, {"lec_d": "320"}, False),
        ({"field": "lec_d", "ge": 320}, {"lec_d": "320.0"}, True),
        ({"field": "lec_d", "lt": 0.1}, {"lec_d": "0.05"}, True),
        ({"field": "lec_d", "le": 70}, {"lec_d": "70"}, True),
        ({"field": "lec_d", "eq": 270}, {"lec_d": "270.00"}, True),  # Decimal equality, not text
        ({"field": "lec_d", "ne": 270}, {"lec_d": "270"}, False),
        ({"field": "lec_d", "ne": 270}, {}, True),  # empty is not equal to anything
        ({"field": "lec_d", "gt": 0}, {}, False),  # an empty value satisfies no comparison
        ({"field": "lec_l", "in": ["l10", "l6"]}, {"lec_l": "l6"}, True),
        ({"field": "lec_l", "not_in": ["l10", "l6"]}, {"lec_l": "l6"}, False),
        ({"field": "lec_l", "ge": 6}, {"lec_l": "l6"}, True),  # a choice compared by its value
        ({"field": "lec_l", "gt": 6}, {"lec_l": "l6"}, False),
        ({"field": "ls_l", "in": [4, 5]}, {"ls_l": 5}, True),
        ({"field": "hazards", "any_of": ["fire", "explosion"]}, {"hazards": ["explosion"]}, True),
        ({"field": "hazards", "all_of": ["fire", "explosion"]}, {"hazards": ["explosion"]}, False),
        (
            {"field": "hazards", "all_of": ["fire", "explosion"]},
            {"hazards": ["fire", "explosion", "poisoning"]},
            True,
        ),
        ({"field": "hazards", "any_of": ["fire"]}, {"hazards": []}, False),
        ({"field": "review_date", "ge": date(2026, 1, 1)}, {"review_date": "2026-01-01"}, True),
        ({"field": "review_date", "lt": "2026-01-01"}, {"review_date": "2025-12-31"}, True),
        ({"field": "measures", "empty": True}, {"measures": ""}, True),
        ({"field": "measures", "empty": False}, {"measures": "设置围挡"}, True),
        ({"field": "measures", "eq": "设置围挡"}, {"measures": "设置围挡"}, True),
        ({"all": [{"grade": ["low"]}, {"field": "ls_r", "lt": 9}]}, {"ls_r": "8"}, True),
        ({"any": [{"grade": ["major"]}, {"field": "ls_r", "ge": 20}]}, {"ls_r": "8"}, False),
        ({"not": {"field": "ls_r", "ge": 20}}, {"ls_r": "8"}, True),
        ({"grade": ["low"], "field": "ls_r", "ge": 20}, {"ls_r": "8"}, False),  # keys together: all hold
        ({}, {}, True),
    ],
)
def test_conditions_judge_values(fields, cond, data, expected):
    assert judge(fields, cond, data) is expected


def test_a_value_not_known_yet_is_unknown_and_logic_is_three_valued(fields):
    unknown = {"lec_d"}
    assert judge(fields, {"field": "lec_d", "gt": 1}, {}, unknown=unknown) is None
    assert judge(fields, {"not": {"field": "lec_d", "gt": 1}}, {}, unknown=unknown) is None
    assert (
        judge(fields, {"any": [{"field": "lec_d", "gt": 1}, {"grade": ["low"]}]}, {}, unknown=unknown) is True
    )
    assert (
        judge(fields, {"all": [{"field": "lec_d", "gt": 1}, {"grade": ["major"]}]}, {}, unknown=unknown)
        is False
    )


# -- load-time checks ---------------------------------------------------------------------------------------

ONLY_IF = "    only_if: {field: review_date, ge: 2026-01-01}"


@pytest.mark.parametrize(
    ("condition", "field", "fragment"),
    [
        ("{field: lec_dd, gt: 1}", "transitions[4].only_if.field", "未知的表单字段 'lec_dd'"),
        ("{field: lec_d, gt: 2026-01-01}", "transitions[4].only_if.gt", "是数值，不能与"),
        ("{field: lec_d, gt: abc}", "transitions[4].only_if.gt", "是数值，不能与 'abc' 比较"),
        ("{field: review_date, ge: 320}", "transitions[4].only_if.ge", "是日期"),
        ("{field: lec_l, eq: l7}", "transitions[4].only_if.eq", "没有选项 'l7'"),
        ("{field: lec_l, in: [l10, l7]}", "transitions[4].only_if.in", "没有选项 'l7'"),
        ("{field: hazards, any_of: [flood]}", "transitions[4].only_if.any_of[0]", "没有选项 'flood'"),
        ("{field: lec_l, any_of: [l10]}", "transitions[4].only_if.any_of", "只能用于多选字段"),
        ("{field: hazards, eq: fire}", "transitions[4].only_if.eq", "请用 any_of 或 all_of"),
        ("{field: measures, gt: 3}", "transitions[4].only_if.gt", "不能比较大小"),
        ("{field: measures, eq: 3}", "transitions[4].only_if.eq", "应与文本比较"),
        ("{field: lec_d, gt: 1, lt: 5}", "transitions[4].only_if.field", "恰好写一个比较"),
        ("{field: lec_d}", "transitions[4].only_if.field", "恰好写一个比较"),
        ("{gt: 5}", "transitions[4].only_if.gt", "须与 field"),
        ("{not: {field: nope, empty: true}}", "transitions[4].only_if.not.field", "未知的表单字段 'nope'"),
        ("{any: [{grade: [huge]}]}", "transitions[4].only_if.any[0].grade[0]", "未知的等级 'huge'"),
        ("{all: []}", "transitions[4].only_if.all", "不能为空"),
        ("{field: lec_d, equals: 3}", "transitions[4].only_if.equals", "未知的键 'equals'"),
    ],
)
def test_bad_conditions_are_refused_naming_file_line_and_field(condition, field, fragment):
    text = RISK.read_text(encoding="utf-8")
    new = f"    only_if: {condition}"
    text = text.replace(ONLY_IF, new)
    with pytest.raises(MechanismError) as info:
        validate_mechanism(parse_lined_yaml(text, "risk.yaml"))
    [problem] = info.value.problems
    assert (problem.file, problem.field) == ("risk.yaml", field), problem
    assert problem.line == text[: text.index(new)].count("\n") + 1
    assert fragment in problem.message, problem


@pytest.mark.parametrize(
    ("old", "new", "field", "fragment"),
    [
        (
            "      when: {field: funds, ge: 10}",
            "      when: {field: fund, ge: 10}",
            "transitions[2].approval.when.field",
            "未知的表单字段 'fund'",
        ),
        (
            "      - when: {field: lec_d, gt: 160}",
            "      - when: {field: lec_d, gt: high}",
            "transitions[0].require[0].when.gt",
            "是数值",
        ),
        (
            "limit: 7 天, when: {field: lec_d, gt: 320}",
            "limit: 7 天, when: {field: lec_e, gt: 320, lt: 3}",
            "time_limits[2].when.field",
            "恰好写一个",
        ),
        (
            "    when: {grade: [major]}",
            "    when: {grade: [grave]}",
            "supervision[0].when.grade[0]",
            "未知的等级 'grave'",
        ),
        (
            "expression: lec_l * lec_e * lec_c",
            "expression: lec_l * lec_e * lec_x",
            "fields[3].expression",
            "未知的表单字段 'lec_x'",
        ),
        (
            "expression: lec_l * lec_e * lec_c",
            "expression: lec_l * measures",
            "fields[3].expression",
            "不是数值",
        ),
        ("expression: lec_l * lec_e * lec_c", "expression: lec_l ** 2", "fields[3].expression", "计算式无效"),
        ("expression: lec_l * lec_e * lec_c", "expression: lec_d + 1", "fields[3].expression", "循环引用"),
        ("expression: lec_l * lec_e * lec_c", "expression: hazards * 2", "fields[3].expression", "不是数值"),
        (
            "{name: funds, label: 管控资金（万元）, type: decimal}",
            "{name: funds, label: 管控资金（万元）, type: decimal, expression: ls_l}",
            "fields[7].expression",
            "只有 computed",
        ),
        (
            "{name: ls_r, label: 风险值 R, type: computed, expression: ls_l * ls_s}",
            "{name: ls_r, label: 风险值 R, type: computed}",
            "fields[6].type",
            "须写 expression",
        ),
        ("fields: [review_date]", "fields: [review_date, lec_d]", "transitions[4].fields[1]", "不能由人填写"),
        (
            "{code: l6, name: 相当可能, value: 6}",
            "{code: l6, name: 相当可能, value: six}",
            "fields[0].choices[1].value",
            "应为数字",
        ),
        (
            "{code: major, name: 重大风险, value: 4, colour: red}",
            "{code: major, name: 重大风险, value: 4, colour: purple}",
            "grades[3].colour",
            "red",
        ),
    ],
)
def test_bad_value_rules_are_refused(old, new, field, fragment):
    text = RISK.read_text(encoding="utf-8")
    assert old in text
    text = text.replace(old, new)
    with pytest.raises(MechanismError) as info:
        validate_mechanism(parse_lined_yaml(text, "risk.yaml"))
    problem = next((p for p in info.value.problems if p.field == field), None)
    assert problem is not None, info.value
    assert problem.line == text[: text.index(new)].count("\n") + 1 + new.count("\n")
    assert fragment in problem.message, problem


def test_existing_condition_forms_still_load():
    text = RISK.read_text(encoding="utf-8").replace(
        ONLY_IF, "    only_if: {grade: [major], category: [lec], channel: [self_check]}"
    )
    mech = validate_mechanism(parse_lined_yaml(text, "risk.yaml"))
    assert mech.transitions[4].only_if.grade == ["major"]

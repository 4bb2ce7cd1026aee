"""The expression language of computed fields: exact Decimal arithmetic, and nothing else gets through."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from taizhang.mechanisms.expressions import ExpressionError, evaluate, names_in, parse_expression


def value(text: str, **values) -> Decimal | None:
    return evaluate(parse_expression(text), {k: Decimal(str(v)) for k, v in values.items()})


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0.1 * 0.5", "0.05"),
        ("0.1 + 0.2", "0.3"),
        ("l * e * c", "0.05"),
        ("2 + 3 * 4", "14"),
        ("(2 + 3) * 4", "20"),
        ("10 - 4 - 3", "3"),
        ("12 / 4 / 3", "1"),
        ("-l + 1", "0.9"),
        ("--2", "2"),
        ("min(l, e, 3) + max(c, 2)", "2.1"),
        ("1 / 3 * 3", "0.9999999999999999999999999999999999999999999999999999999999999"[:62]),
    ],
)
def test_arithmetic_is_exact(text, expected):
    assert value(text, l="0.1", e="0.5", c=1) == Decimal(expected)


def test_an_empty_input_or_a_division_by_zero_gives_no_value():
    assert value("l * e", l=2) is None
    assert value("l / (e - e)", l=1, e=2) is None


def test_names_are_the_fields_read_in_order():
    assert names_in(parse_expression("lec_l * lec_e * max(lec_c, lec_l)")) == ["lec_l", "lec_e", "lec_c"]


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("__import__('os').system('id')", "不能识别"),
        ("__import__(os)", "不支持的函数"),
        ("l.__class__", "不能识别"),
        ("l[0]", "不能识别"),
        ("eval(1)", "不支持的函数"),
        ("abs(l)", "不支持的函数"),
        ("l ** 99999999", "不支持乘方"),
        ("2 ^ 8", "不能识别"),
        ("1e999999", "多余的内容"),
        ("9" * 25, "位数过多"),
        ("'text'", "不能识别"),
        ("lambda: 1", "不能识别"),
        ("l if e else c", "多余的内容"),
        ("l == e", "不能识别"),
        ("(" * 30 + "1" + ")" * 30, "嵌套过深"),
        ("-" * 40 + "1", "嵌套过深"),
        ("min", "后应有括号"),
        ("min()", "此处不能出现"),
        ("l +", "不完整"),
        ("(l", "缺少 ')'"),
        ("", "为空"),
        ("1 " * 200, "过长"),
        ("l; 1", "不能识别"),
        ("l\n+ e", None),  # whitespace, including newlines, is allowed
    ],
)
def test_anything_outside_the_language_is_refused(text, fragment):
    if fragment is None:
        assert names_in(parse_expression(text)) == ["l", "e"]
        return
    with pytest.raises(ExpressionError) as info:
        parse_expression(text)
    assert fragment in str(info.value)


decimals = st.decimals(min_value=-(10**6), max_value=10**6, places=3, allow_nan=False, allow_infinity=False)


@given(decimals, decimals, decimals)
def test_sums_and_products_agree_with_rational_arithmetic(a, b, c):
    got = value("a * b + c - (a - b) * c", a=a, b=b, c=c)
    fa, fb, fc = Fraction(a), Fraction(b), Fraction(c)
    assert Fraction(got) == fa * fb + fc - (fa - fb) * fc


@given(st.text(alphabet="abl0123456789.+-*/(), _", max_size=40))
def test_the_parser_never_fails_with_anything_but_an_expression_error(text):
    try:
        expr = parse_expression(text)
    except ExpressionError:
        return
    assert all(name in text for name in names_in(expr))
    evaluate(expr, {name: Decimal(2) for name in names_in(expr)})  # never raises either

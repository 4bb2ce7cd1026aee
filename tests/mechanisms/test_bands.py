"""Band tables: every cell of the LEC and LS tables of ../shared/docs/mechanisms.md §3 gives the cited band,
exactly (Decimal), on both sides of every boundary; tables with gaps, overlaps, a wrong order or unknown codes
are refused with file, line and field; a rule pack overrides a table's thresholds for its divisions."""

from __future__ import annotations

import itertools
import shutil
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pytest
from django.conf import settings
from hypothesis import given
from hypothesis import strategies as st

from taizhang.mechanisms.computed import band_of, derive
from taizhang.mechanisms.errors import MechanismError
from taizhang.mechanisms.registry import Mechanism, load_directory
from taizhang.mechanisms.validate import validate_mechanism
from taizhang.mechanisms.yamlfile import parse_lined_yaml

RISK = Path(__file__).parent / "fixtures" / "risk.yaml"
# The tables as cited (mechanisms.md §3), written out again here as the oracle.
LEC_L = {"l10": "10", "l6": "6", "l3": "3", "l1": "1", "l05": "0.5", "l02": "0.2", "l01": "0.1"}
LEC_E = {"e10": "10", "e6": "6", "e3": "3", "e2": "2", "e1": "1", "e05": "0.5"}
LEC_C = {"c100": "100", "c40": "40", "c15": "15", "c7": "7", "c3": "3", "c1": "1"}


def lec_band(d: Fraction) -> str:
    """D > 320 重大 · 160 < D ≤ 320 较大 · 70 < D ≤ 160 一般 · D ≤ 70 低."""
    return "major" if d > 320 else "larger" if d > 160 else "general" if d > 70 else "low"


def ls_band(r: int) -> str:
    """R ≥ 20 重大 · 15–19 较大 · 9–14 一般 · ≤ 8 低."""
    return "major" if r >= 20 else "larger" if r >= 15 else "general" if r >= 9 else "low"


def risk_text() -> str:
    return RISK.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def risk() -> Mechanism:
    return Mechanism(validate_mechanism(parse_lined_yaml(risk_text(), "risk.yaml")), "risk.yaml")


def assess(mech: Mechanism, **data) -> tuple[dict, dict]:
    derived = derive(mech.definition, mech.computed, data, mech.band_rows("/CZS/LZQ/"))
    return derived.values, derived.targets


@pytest.mark.parametrize(("likely", "e", "c"), list(itertools.product(LEC_L, LEC_E, LEC_C)))
def test_every_lec_cell_gives_the_cited_band(risk, likely, e, c):
    values, targets = assess(risk, lec_l=likely, lec_e=e, lec_c=c)
    exact = Fraction(LEC_L[likely]) * Fraction(LEC_E[e]) * Fraction(LEC_C[c])
    assert Fraction(Decimal(values["lec_d"])) == exact  # nothing rounded: 0.1 × 0.5 × 1 is 0.05
    assert targets == {"grade": lec_band(exact)}


@pytest.mark.parametrize(("likely", "s"), list(itertools.product(range(1, 6), repeat=2)))
def test_every_ls_cell_gives_the_cited_band(risk, likely, s):
    values, targets = assess(risk, ls_l=likely, ls_s=s)
    assert values["ls_r"] == str(likely * s)
    assert targets == {"grade": ls_band(likely * s)}


def test_the_smallest_lec_value_is_exact(risk):
    values, _ = assess(risk, lec_l="l01", lec_e="e05", lec_c="c1")
    assert values["lec_d"] == "0.05"


@pytest.mark.parametrize(
    ("d", "band"),
    [
        ("320.0001", "major"),
        ("320", "larger"),
        ("160.0001", "larger"),
        ("160", "general"),
        ("70.0001", "general"),
        ("70", "low"),
        ("0", "low"),
        ("-1", "low"),
    ],
)
def test_lec_boundaries(risk, d, band):
    [table] = [t for t in risk.definition.bands if t.code == "lec"]
    assert band_of(table.bands, Decimal(d)) == band


@pytest.mark.parametrize(
    ("r", "band"),
    [
        (20, "major"),
        (19, "larger"),
        (15, "larger"),
        (14, "general"),
        (9, "general"),
        (8, "low"),
        (Decimal("8.999"), "low"),
    ],
)
def test_ls_boundaries(risk, r, band):
    [table] = [t for t in risk.definition.bands if t.code == "ls"]
    assert band_of(table.bands, Decimal(r)) == band


@given(st.decimals(min_value=-1000, max_value=100000, places=4, allow_nan=False, allow_infinity=False))
def test_any_lec_value_falls_in_exactly_the_cited_band(d):
    mech = Mechanism(validate_mechanism(parse_lined_yaml(risk_text(), "risk.yaml")), "risk.yaml")
    [table] = [t for t in mech.definition.bands if t.code == "lec"]
    assert band_of(table.bands, d) == lec_band(Fraction(d))
    holding = [b for b in table.bands if band_of([b], d) is not None]
    assert len(holding) == 1  # neither gap nor overlap


@given(st.sampled_from(list(LEC_L)), st.sampled_from(list(LEC_E)), st.sampled_from(list(LEC_C)))
def test_lec_grade_only_rises_with_each_factor(likely, e, c):
    mech = Mechanism(validate_mechanism(parse_lined_yaml(risk_text(), "risk.yaml")), "risk.yaml")
    rank = {g.code: g.value for g in mech.definition.grades}
    _, low = assess(mech, lec_l=likely, lec_e=e, lec_c=c)
    _, high = assess(mech, lec_l="l10", lec_e=e, lec_c=c)
    assert rank[high["grade"]] >= rank[low["grade"]]


def test_an_empty_factor_gives_no_value_and_no_band(risk):
    values, targets = assess(risk, lec_l="l10", lec_e="e6")
    assert values["lec_d"] is None and targets == {}


# -- refused tables ---------------------------------------------------------------------------------------

LEC_ROWS = """      - {gt: 320, code: major}
      - {gt: 160, le: 320, code: larger}
      - {gt: 70, le: 160, code: general}
      - {le: 70, code: low}
"""


def line_of(text: str, needle: str) -> int:
    return text[: text.index(needle)].count("\n") + 1


@pytest.mark.parametrize(
    ("old", "new", "field", "fragment"),
    [
        (
            "{gt: 160, le: 320, code: larger}",
            "{gt: 160, le: 300, code: larger}",
            "bands[0].bands[1]",
            "空缺：300 到 320",
        ),
        (
            "{gt: 160, le: 320, code: larger}",
            "{gt: 160, lt: 320, code: larger}",
            "bands[0].bands[1]",
            "空缺：320 到 320",
        ),
        (
            "{gt: 70, le: 160, code: general}",
            "{ge: 70, le: 160, code: general}",
            "bands[0].bands[3]",
            "重叠：70",
        ),
        (
            "{gt: 70, le: 160, code: general}",
            "{gt: 70, le: 170, code: general}",
            "bands[0].bands[2]",
            "重叠：160 到 170 之间",
        ),
        (
            "{gt: 160, le: 320, code: larger}",
            "{gt: 160, le: 320, code: big}",
            "bands[0].bands[1].code",
            "未知的等级 'big'",
        ),
        ("{gt: 320, code: major}", "{gt: 320, code: low}", "bands[0].bands[0].code", "分级顺序颠倒"),
        (
            "{gt: 70, le: 160, code: general}",
            "{gt: 170, le: 160, code: general}",
            "bands[0].bands[2]",
            "分级区间为空",
        ),
        ("{le: 70, code: low}", "{code: low}", "bands[0].bands[3]", "至少有一个边界"),
        ("{gt: 320, code: major}", "{gt: 320, ge: 320, code: major}", "bands[0].bands[0].ge", "不能同时写"),
        ("{gt: 320, code: major}", "{gt: '3x', code: major}", "bands[0].bands[0].gt", "应为数字"),
        ("    input: lec_d", "    input: lec_x", "bands[0].input", "未知的表单字段 'lec_x'"),
        ("    input: lec_d", "    input: measures", "bands[0].input", "不是数值"),
        (
            "    input: ls_r",
            "    input: ls_r\n    target: measures",
            "bands[1].target",
            "只能设置等级或单选字段",
        ),
    ],
)
def test_bad_tables_are_refused_naming_file_line_and_field(old, new, field, fragment):
    text = risk_text()
    assert old in text
    text = text.replace(old, new, 1)
    with pytest.raises(MechanismError) as info:
        validate_mechanism(parse_lined_yaml(text, "risk.yaml"))
    [problem] = [p for p in info.value.problems if p.field == field] or info.value.problems
    assert problem.file == "risk.yaml" and problem.field == field, info.value
    lined = parse_lined_yaml(text, "risk.yaml")
    path = tuple(int(p) if p.isdigit() else p for p in field.replace("[", ".").replace("]", "").split("."))
    assert problem.line == lined.line_of(path), info.value
    assert fragment in problem.message, info.value


def test_rows_may_be_written_lowest_first():
    text = risk_text().replace(LEC_ROWS, "".join(reversed(LEC_ROWS.splitlines(keepends=True))))
    mech = Mechanism(validate_mechanism(parse_lined_yaml(text, "risk.yaml")), "risk.yaml")
    assert assess(mech, lec_l="l3", lec_e="e6", lec_c="c15")[1] == {"grade": "larger"}  # D = 270


def test_mixed_order_is_refused():
    rows = LEC_ROWS.splitlines(keepends=True)
    text = risk_text().replace(LEC_ROWS, rows[1] + rows[0] + rows[2] + rows[3])
    with pytest.raises(MechanismError) as info:
        validate_mechanism(parse_lined_yaml(text, "risk.yaml"))
    assert any("顺序有误" in p.message or "重叠" in p.message for p in info.value.problems), info.value


# -- rule packs -------------------------------------------------------------------------------------------

PACK = """pack: wuma_risk
name: 五马街道风险分级（更严）
divisions: [WMJD]
mechanisms:
  risk:
    bands:
      lec:
        source: 五马街道安委办（测试）
        bands:
          - {gt: 240, code: major}
          - {gt: 120, le: 240, code: larger}
          - {gt: 70, le: 120, code: general}
          - {le: 70, code: low}
"""


def directory_with(tmp_path: Path, packs: dict[str, str]) -> Path:
    shipped = Path(settings.TAIZHANG_MECHANISM_DIR)
    shutil.copytree(shipped, tmp_path / "m")
    shutil.copy(RISK, tmp_path / "m" / "risk.yaml")
    for name, text in packs.items():
        (tmp_path / "m" / "packs" / f"{name}.yaml").write_text(text, encoding="utf-8")
    return tmp_path / "m"


def test_a_pack_overrides_a_table_for_its_divisions_only(tmp_path):
    mech = load_directory(directory_with(tmp_path, {"wuma_risk": PACK})).get("risk")
    data = {"lec_l": "l6", "lec_e": "e3", "lec_c": "c15"}  # D = 270
    for path, grade in (("/CZS/LZQ/WMJD/WMJD-HX/", "major"), ("/CZS/LZQ/XBTZ/", "larger")):
        derived = derive(mech.definition, mech.computed, data, mech.band_rows(path))
        assert derived.targets == {"grade": grade}, path


@pytest.mark.parametrize(
    ("old", "new", "field", "fragment"),
    [
        ("      lec:\n", "      lex:\n", "mechanisms.risk.bands.lex", "未知的分级表 'lex'"),
        (
            "{gt: 120, le: 240, code: larger}",
            "{gt: 130, le: 240, code: larger}",
            "mechanisms.risk.bands.lec.bands[2]",
            "空缺：120 到 130",
        ),
        (
            "{le: 70, code: low}",
            "{le: 70, code: tiny}",
            "mechanisms.risk.bands.lec.bands[3].code",
            "未知的等级 'tiny'",
        ),
    ],
)
def test_bad_pack_tables_are_refused(tmp_path, old, new, field, fragment):
    text = PACK.replace(old, new)
    with pytest.raises(MechanismError) as info:
        load_directory(directory_with(tmp_path, {"wuma_risk": text}))
    [problem] = info.value.problems
    assert (problem.file, problem.field) == ("packs/wuma_risk.yaml", field), problem
    path = tuple(int(p) if p.isdigit() else p for p in field.replace("[", ".").replace("]", "").split("."))
    assert problem.line == parse_lined_yaml(text, "p").line_of(path), problem
    assert fragment in problem.message


def test_two_packs_for_one_division_may_not_both_set_a_table(tmp_path):
    other = PACK.replace("pack: wuma_risk", "pack: wuma_risk2")
    with pytest.raises(MechanismError) as info:
        load_directory(directory_with(tmp_path, {"wuma_risk": PACK, "wuma_risk2": other}))
    [problem] = info.value.problems
    assert "分级表 'lec'" in problem.message and "无法确定以哪个为准" in problem.message

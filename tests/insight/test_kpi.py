"""考核指标: every rate on handcrafted 12345 cases with known numerators and denominators, grouping, weights
per locality, period boundaries, permissions, the Excel export, bounded queries, and the kpi rules in
mechanism files and rule packs.

The cases (period [2026-03-02, 2026-03-09), all by the 五马街道 dispatcher unless said otherwise):
A  应急局: signed in 2 h, replied, 回访满意 on 3/4                        → fully good
B  应急局: the worker marks 派单 overdue, signed 25 h later, 回访不满意 (重办), then 基本满意
C  应急局: signed in 1 h, closed as unreachable 8 days after intake          → closed late, not visited
D  never dispatched
E  派单 to 应急局, 退单 accepted, 派单 to 住建局, signed in 1 h                → the unit is 住建局
G  西白兔镇, 无效诉求 on the day                                              → closed in time, no unit
"""

from __future__ import annotations

import io
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.conf import settings
from django.test import Client
from openpyxl import load_workbook

from taizhang.cases.create import CaseInput, do_create_case
from taizhang.cases.timers import do_fire_timers
from taizhang.errors import ActionError
from taizhang.insight.kpi import KpiRequest, kpi_report
from taizhang.mechanisms.errors import MechanismError
from taizhang.mechanisms.registry import load_directory
from taizhang.org.models import Division, Membership, Unit, User
from tests.cases.helpers import act
from tests.mechanisms.test_validation import MINIMAL, line_with

TZ = ZoneInfo("Asia/Shanghai")
PERIOD = (date(2026, 3, 2), date(2026, 3, 9))


def at(*args) -> datetime:
    return datetime(*args, tzinfo=TZ)


@pytest.fixture
def frozen():
    with time_machine.travel(at(2026, 3, 2, 9, 0), tick=False) as traveller:
        yield traveller


def demand(world, user=None, division=None, **kw):
    data = dict(
        mechanism="demand",
        title="小区路灯不亮",
        division=division or world.grid.code,
        category="complaint",
        grade="general",
        channel="hotline",
        description="3号楼前路灯连续一周不亮",
    )
    data.update(kw)
    case, _ = do_create_case(user or world.dispatcher, CaseInput(**data))
    return case


def person(username, role, division=None, unit=None):
    user = User.objects.create_user(username=username, password="pw", display_name=username)
    Membership.objects.create(user=user, role=role, division=division, unit=unit)
    return user


@pytest.fixture
def housing_handler(world):
    return person("zhujian", "handler", unit=world.housing_bureau)


@pytest.fixture
def cases(world, frozen, housing_handler):
    """The cases of the module docstring, each built at its own moments."""
    built = {}
    dispatch = {"params": {"unit": world.safety_bureau.code}}

    frozen.move_to(at(2026, 3, 2, 9, 0))
    for key in "ABC":
        built[key] = demand(world, title=f"诉求{key}")
    frozen.move_to(at(2026, 3, 2, 10, 0))
    for key in "ABC":
        act(world.dispatcher, built[key], "dispatch", **dispatch)  # 签收 due 3/3 10:00
    frozen.move_to(at(2026, 3, 2, 11, 0))
    act(world.handler, built["C"], "sign")
    frozen.move_to(at(2026, 3, 2, 12, 0))
    act(world.handler, built["A"], "sign")
    frozen.move_to(at(2026, 3, 3, 10, 30))
    assert do_fire_timers(built["B"].pk, at(2026, 3, 3, 10, 30)) >= 1  # 超期 at 3/3 10:00
    frozen.move_to(at(2026, 3, 3, 11, 0))
    act(world.handler, built["B"], "sign")  # 25 h after 派单

    frozen.move_to(at(2026, 3, 3, 9, 0))
    built["D"] = demand(world, title="诉求D")
    built["E"] = demand(world, title="诉求E")
    xbtz = person("paiqian_xbtz", "dispatcher", division=world.other_street)
    built["G"] = demand(world, xbtz, title="测试来电", division=world.other_grid.code)
    frozen.move_to(at(2026, 3, 3, 10, 0))
    act(world.dispatcher, built["E"], "dispatch", **dispatch)
    frozen.move_to(at(2026, 3, 3, 11, 0))
    act(world.handler, built["E"], "return", fields={"return_reason": "路灯归住建局"})
    frozen.move_to(at(2026, 3, 3, 12, 0))
    act(world.dispatcher, built["E"], "accept_return")
    frozen.move_to(at(2026, 3, 3, 13, 0))
    act(world.dispatcher, built["E"], "dispatch", params={"unit": world.housing_bureau.code})
    frozen.move_to(at(2026, 3, 3, 14, 0))
    act(housing_handler, built["E"], "sign")
    act(xbtz, built["G"], "invalidate", opinion="无实际诉求")

    frozen.move_to(at(2026, 3, 3, 15, 0))
    act(world.handler, built["A"], "reply", fields={"reply": "已修复"})
    frozen.move_to(at(2026, 3, 4, 9, 0))
    act(world.dispatcher, built["A"], "visit_satisfied")
    act(world.handler, built["B"], "reply", fields={"reply": "已修复"})
    frozen.move_to(at(2026, 3, 5, 9, 0))
    act(world.dispatcher, built["B"], "visit_unsatisfied", fields={"visit_note": "仍不亮"})
    frozen.move_to(at(2026, 3, 6, 9, 0))
    act(world.handler, built["B"], "reply", fields={"reply": "已全部更换"})
    act(world.dispatcher, built["B"], "visit_basic")
    frozen.move_to(at(2026, 3, 10, 9, 0))
    act(world.handler, built["C"], "reply", fields={"reply": "已处理"})
    frozen.move_to(at(2026, 3, 10, 12, 0))
    act(world.dispatcher, built["C"], "close_unreachable", opinion="三次回访未接通")
    frozen.move_to(at(2026, 3, 20, 9, 0))
    return built


def report(user, group="unit", period=PERIOD, **kw):
    return kpi_report(user, KpiRequest("demand", period[0], period[1], group, **kw))


def nd(figure: dict) -> tuple:
    return figure["numerator"], figure["denominator"]


def by_code(rep: dict) -> dict[str, dict]:
    return {g["code"]: g for g in rep["groups"]}


# -- the rates ------------------------------------------------------------------------------------------


def test_each_rate_has_its_numerator_and_denominator(world, cases):
    rep = report(world.leader)
    totals = rep["totals"]
    assert totals["cases"] == 6
    assert nd(totals["sign_rate"]) == (3, 4)  # A, C, E signed within 24 h; B after 25 h
    assert nd(totals["response_rate"]) == (3, 4)  # B signed after the 派单's deadline
    assert nd(totals["close_rate"]) == (3, 6)  # A, B, G within 7 days; C after 8; D, E open
    assert nd(totals["on_time_rate"]) == (3, 4)  # B got an 超期 row
    assert nd(totals["resolution_rate"]) == (2, 2)  # B's last 回访 was 基本满意
    assert nd(totals["satisfaction_rate"]) == (1.8, 3)  # A 满意, B 不满意 then 基本满意 × 0.8
    assert nd(totals["redo_rate"]) == (1, 2)
    assert totals["sign_rate"]["rate"] == 0.75 and totals["satisfaction_rate"]["rate"] == 0.6
    # 潞州区 weights 30/35/35: 30 × 0.75 + 35 × 1 + 35 × 0.6
    assert rep["rules"]["weights"] == {"response": 30, "resolution": 35, "satisfaction": 35}
    assert totals["score"] == 78.5
    assert rep["period"] == {"from": "2026-03-02", "to": "2026-03-09"}


def test_grouped_by_the_unit_the_case_was_last_dispatched_to(world, cases):
    groups = by_code(report(world.leader))
    assert [g["code"] for g in report(world.leader)["groups"]] == ["LZQ-YJJ", "LZQ-ZJJ", ""]
    safety, housing, none = groups["LZQ-YJJ"], groups["LZQ-ZJJ"], groups[""]
    assert (safety["name"], safety["cases"]) == ("潞州区应急管理局", 3)
    assert nd(safety["sign_rate"]) == (2, 3) and nd(safety["on_time_rate"]) == (2, 3)
    assert nd(safety["satisfaction_rate"]) == (1.8, 3)
    assert (housing["cases"], nd(housing["sign_rate"]), nd(housing["response_rate"])) == (1, (1, 1), (1, 1))
    assert housing["resolution_rate"] == {"numerator": 0, "denominator": 0, "rate": None}
    assert housing["score"] is None  # no 回访 yet: 解决率 and 满意率 are null, not 0
    assert (none["name"], none["cases"], nd(none["close_rate"])) == ("未派单", 2, (1, 2))


def test_grouped_by_street(world, cases):
    groups = by_code(report(world.leader, group="division"))
    assert set(groups) == {"WMJD", "XBTZ"}
    assert (groups["WMJD"]["name"], groups["WMJD"]["cases"]) == ("五马街道", 5)
    assert (groups["XBTZ"]["cases"], nd(groups["XBTZ"]["close_rate"])) == (1, (1, 1))


def test_narrowed_to_a_division_or_a_unit(world, cases):
    assert report(world.leader, division="XBTZ")["totals"]["cases"] == 1
    rep = report(world.leader, unit="LZQ-ZJJ")
    assert rep["totals"]["cases"] == 1 and list(by_code(rep)) == ["LZQ-ZJJ"]


def test_period_is_from_inclusive_to_exclusive(world, frozen):
    for moment in [
        at(2026, 3, 1, 23, 59),
        at(2026, 3, 2, 0, 0),
        at(2026, 3, 8, 23, 59),
        at(2026, 3, 9, 0, 0),
    ]:
        frozen.move_to(moment)
        demand(world, title=f"{moment:%m-%d %H:%M}")
    assert report(world.leader)["totals"]["cases"] == 2
    assert report(world.leader, period=(date(2026, 3, 1), date(2026, 3, 10)))["totals"]["cases"] == 4
    assert report(world.leader, period=(date(2026, 3, 2), date(2026, 3, 2)))["totals"]["cases"] == 0


def test_an_empty_period_has_null_rates(world, frozen):
    totals = report(world.leader)["totals"]
    assert totals["cases"] == 0 and totals["sign_rate"]["rate"] is None and totals["score"] is None


# -- weights per locality ---------------------------------------------------------------------------------


@pytest.fixture
def elsewhere(world, frozen):
    """A district of the city outside 潞州区, with its own dispatcher, unit and handler, and one case
    closed 基本满意."""
    district = Division.objects.create(code="SDQ", name="上党区", level="district", parent=world.city)
    street = Division.objects.create(code="SDQ-HJ", name="韩店街道", level="street", parent=district)
    unit = Unit.objects.create(code="SDQ-YJJ", name="上党区应急管理局", kind="department", division=district)
    dispatcher = person("paiqian_sdq", "dispatcher", division=district)
    handler = person("chuzhi_sdq", "handler", unit=unit)
    frozen.move_to(at(2026, 3, 4, 9, 0))
    case = demand(world, dispatcher, division=street.code)
    act(dispatcher, case, "dispatch", params={"unit": unit.code})
    act(handler, case, "sign")
    act(handler, case, "reply", fields={"reply": "已处理"})
    act(dispatcher, case, "visit_basic")
    return dispatcher


def test_weights_of_the_mechanism_outside_the_pack(world, elsewhere):
    rep = report(elsewhere)
    assert rep["rules"]["weights"] == {"response": 20, "resolution": 40, "satisfaction": 40}
    assert rep["totals"]["score"] == 92.0  # 20 × 1 + 40 × 1 + 40 × 0.8 (潞州区's 30/35/35 would give 93)
    assert report(world.inspector, division="SDQ")["totals"]["score"] == 92.0


def test_each_group_is_scored_with_its_localitys_weights(world, cases, elsewhere):
    rep = report(world.inspector, group="division")  # the inspector of 潞州区 sees everything
    groups = by_code(rep)
    assert rep["rules"]["weights"]["response"] == 30  # the inspector's district
    assert groups["SDQ-HJ"]["weights"] == {"response": 20, "resolution": 40, "satisfaction": 40}
    assert groups["SDQ-HJ"]["score"] == 92.0
    assert groups["WMJD"]["weights"] == {"response": 30, "resolution": 35, "satisfaction": 35}


# -- errors and permissions -------------------------------------------------------------------------------


def error_of(call) -> ActionError:
    with pytest.raises(ActionError) as info:
        call()
    return info.value


def test_request_errors(world, frozen):
    err = error_of(lambda: report(world.leader, group="street", period=(date(2026, 3, 9), date(2026, 3, 2))))
    assert err.status == 422 and {(e.field, e.code) for e in err.errors} == {
        ("from", "invalid_range"),
        ("group", "invalid_choice"),
    }
    err = error_of(lambda: kpi_report(world.leader, KpiRequest("nope", *PERIOD)))
    assert [(e.field, e.code) for e in err.errors] == [("mechanism", "unknown_mechanism")]
    err = error_of(lambda: kpi_report(world.leader, KpiRequest("hazard", *PERIOD)))
    assert [(e.field, e.code) for e in err.errors] == [("mechanism", "no_kpi_rules")]
    err = error_of(lambda: report(world.leader, division="NOPE", unit="NOPE"))
    assert {e.code for e in err.errors} == {"unknown_division", "unknown_unit"}


def test_a_unit_sees_only_its_cases(world, cases):
    rep = report(world.handler)
    # Its three, and E, which it led before returning it (an earlier lead keeps sight; now 住建局's).
    assert rep["totals"]["cases"] == 4 and sorted(by_code(rep)) == ["LZQ-YJJ", "LZQ-ZJJ"]
    assert by_code(rep)["LZQ-ZJJ"]["cases"] == 1
    assert report(world.outsider)["totals"]["cases"] == 1  # the grid worker of 白兔村: G only


def get(user, path, **params):
    client = Client()
    client.force_login(user)
    query = {"from": "2026-03-02", "to": "2026-03-09", **params}
    return client.get(f"/api/v1/{path}", query)


def test_api_returns_the_report(world, cases):
    response = get(world.leader, "kpis", group="division")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["totals"]["cases"] == 6 and body["totals"]["score"] == 78.5
    assert nd(body["totals"]["satisfaction_rate"]) == (1.8, 3)
    assert {g["code"] for g in body["groups"]} == {"WMJD", "XBTZ"}


def test_api_errors(world, frozen):
    response = get(world.resident, "kpis")
    assert (response.status_code, response.json()["code"]) == (403, "role_not_allowed")
    assert get(world.resident, "kpis.xlsx").status_code == 403
    response = get(world.leader, "kpis", **{"from": "2026-13-01", "to": "2026-03-01"})
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "from"
    response = get(world.leader, "kpis", mechanism="hazard")
    assert response.status_code == 422 and response.json()["errors"][0]["code"] == "no_kpi_rules"
    response = get(world.leader, "kpis", group="grid", **{"from": "2026-03-10"})
    assert response.status_code == 422
    assert {e["field"] for e in response.json()["errors"]} == {"from", "group"}
    assert Client().get("/api/v1/kpis", {"from": "2026-03-02", "to": "2026-03-09"}).status_code == 401


@pytest.mark.parametrize("path", ["kpis", "kpis.xlsx"])
def test_days_out_of_range_are_422_not_500(world, frozen, path):
    """Found by tests/api/test_schema_fuzz.py: 0001-01-01 has no midnight in UTC (OverflowError)."""
    response = get(world.leader, path, **{"from": "0001-01-01", "to": "0001-01-01"})
    assert response.status_code == 422
    errors = response.json()["errors"]
    assert {(e["field"], e["code"]) for e in errors} == {
        ("from", "date_out_of_range"),
        ("to", "date_out_of_range"),
    }
    assert errors[0]["message"] == "日期须在 1900-01-01 至 2999-12-31 之间"


def test_excel_export(world, cases):
    response = get(world.leader, "kpis.xlsx")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert "kpi-demand-2026-03-02-2026-03-09.xlsx" in response["Content-Disposition"]
    ws = load_workbook(io.BytesIO(response.content))["考核指标"]
    header = [c.value for c in ws[1]]
    assert header == [
        "承办单位编码",
        "承办单位",
        "案件数",
        "24小时签收率",
        "响应率",
        "7日办结率",
        "按期办结率",
        "解决率",
        "满意率",
        "重办率",
        "综合得分",
    ]
    rows = [[c.value for c in row] for row in ws.iter_rows(min_row=2)]
    assert [r[:3] for r in rows] == [
        ["LZQ-YJJ", "潞州区应急管理局", 3],
        ["LZQ-ZJJ", "潞州区住房和城乡建设局", 1],
        [None, "未派单", 2],
        [None, "合计", 6],
    ]
    total = rows[-1]
    assert total[3:] == [0.75, 0.75, 0.5, 0.75, 1.0, 0.6, 0.5, 78.5]
    assert rows[1][7] == "—"  # 住建局 has no 回访 yet
    assert ws["D5"].number_format == "0.0%" and ws["K5"].number_format == "0.00"
    assert ws.column_dimensions["B"].width == 28
    assert ws.parent["口径"]["B3"].value == "响应率 30、解决率 35、满意率 35"


# -- queries ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("count", [5, 25])
def test_query_count_does_not_grow_with_cases(world, frozen, count, django_assert_max_num_queries):
    for i in range(count):
        case = demand(world, title=f"诉求{i}")
        act(world.dispatcher, case, "dispatch", params={"unit": world.safety_bureau.code})
        act(world.handler, case, "sign")
    leader = User.objects.get(pk=world.leader.pk)  # no roles cached
    for group in ("unit", "division"):
        with django_assert_max_num_queries(6):
            rep = report(leader, group=group, division="LZQ", unit="LZQ-YJJ")
        assert rep["totals"]["cases"] == count


# -- kpi rules in mechanism files and rule packs ----------------------------------------------------------

DEMAND = (Path(settings.TAIZHANG_MECHANISM_DIR) / "demand.yaml").read_text(encoding="utf-8")
NO_KPI = DEMAND[: DEMAND.index("\n# 考核")] + "\n"


def pack(body: str, divisions: str = "[LZQ]", code: str = "p") -> str:
    indented = "".join(f"    {line}\n" for line in body.strip("\n").splitlines())
    return f"pack: {code}\nname: 规则\ndivisions: {divisions}\nmechanisms:\n  demand:\n{indented}"


def load(tmp_path, packs: dict[str, str], mechanism: str = DEMAND):
    (tmp_path / "demand.yaml").write_text(mechanism, encoding="utf-8")
    (tmp_path / "packs").mkdir(exist_ok=True)
    for name, text in packs.items():
        (tmp_path / "packs" / name).write_text(text, encoding="utf-8")
    return load_directory(tmp_path)


def problems_of(tmp_path, packs, mechanism=DEMAND):
    with pytest.raises(MechanismError) as info:
        load(tmp_path, packs, mechanism)
    return info.value.problems


def test_rules_resolve_deepest_pack_first_key_by_key(tmp_path):
    registry = load(
        tmp_path,
        {
            "district.yaml": pack(
                "kpi:\n  weights: {response: 30, resolution: 35, satisfaction: 35}\n  sign_hours: 12"
            ),
            "street.yaml": pack("kpi:\n  basic_score: 0.5", "[WMJD]", "street"),
        },
    )
    mech = registry.get("demand")
    street = mech.kpi_rules("/CZS/LZQ/WMJD/WMJD-HX/")
    assert (street.weights.response, street.basic_score, street.sign_hours, street.close_days) == (
        30,
        0.5,
        12,
        7,
    )
    district = mech.kpi_rules("/CZS/LZQ/XBTZ/")
    assert (district.weights.response, district.basic_score, district.sign_hours) == (30, 0.8, 12)
    default = mech.kpi_rules("/CZS/SDQ/")
    assert (default.weights.response, default.basic_score, default.sign_hours) == (20, 0.8, 24)


def test_a_mechanism_without_rules_gets_them_only_from_a_complete_pack(tmp_path):
    full = "kpi:\n  weights: {response: 30, resolution: 35, satisfaction: 35}\n  basic_score: 1\n"
    full += "  sign_hours: 24\n  close_days: 7\n  dispatch: dispatch\n  sign: sign"
    mech = load(tmp_path, {"p.yaml": pack(full)}, NO_KPI).get("demand")
    assert mech.kpi_rules("/CZS/LZQ/").basic_score == 1 and mech.kpi_rules("/CZS/SDQ/") is None
    text = pack("kpi:\n  sign_hours: 12")
    (problem,) = problems_of(tmp_path, {"p.yaml": text}, NO_KPI)
    assert (problem.file, problem.line, problem.field) == (
        "packs/p.yaml",
        line_with(text, "kpi:"),
        "mechanisms.demand.kpi",
    )
    assert "考核规则缺少 weights、basic_score、close_days、dispatch、sign" in problem.message


@pytest.mark.parametrize(
    ("body", "needle", "field", "fragment"),
    [
        (
            "kpi:\n  weights: {response: 30, resolution: 35, satisfaction: 30}",
            "weights",
            "mechanisms.demand.kpi.weights",
            "权重之和须为 100（现为 95）",
        ),
        ("kpi:\n  basic_score: 1.5", "basic_score", "mechanisms.demand.kpi.basic_score", "在 0 到 1 之间"),
        ("kpi:\n  basic_score: 较高", "basic_score", "mechanisms.demand.kpi.basic_score", "应为数字"),
        ("kpi:\n  sign_hours: 0", "sign_hours", "mechanisms.demand.kpi.sign_hours", "须大于零"),
        ("kpi:\n  close_days: 7.5", "close_days", "mechanisms.demand.kpi.close_days", "应为整数"),
        (
            "kpi:\n  weights: {response: 50, resolution: 50}",
            "weights",
            "mechanisms.demand.kpi.weights.satisfaction",
            "缺少必填项",
        ),
        ("kpi:\n  sign: accept", "sign", "mechanisms.demand.kpi.sign", "'accept' 不是本机制的流转"),
        ("kpi:\n  weight: {}", "weight:", "mechanisms.demand.kpi.weight", "是否应为 'weights'"),
    ],
)
def test_pack_kpi_errors_name_file_line_and_field(tmp_path, body, needle, field, fragment):
    text = pack(body)
    problems = problems_of(tmp_path, {"p.yaml": text})
    assert len(problems) == 1, "\n".join(map(str, problems))
    (problem,) = problems
    assert (problem.file, problem.line, problem.field) == ("packs/p.yaml", line_with(text, needle), field)
    assert fragment in problem.message, str(problem)


def test_two_packs_for_one_division_may_not_both_set_kpi(tmp_path):
    problems = problems_of(
        tmp_path,
        {
            "a.yaml": pack("kpi:\n  sign_hours: 12", code="a"),
            "b.yaml": pack("kpi:\n  sign_hours: 6", code="b"),
        },
    )
    assert len(problems) == 1 and problems[0].field == "mechanisms.demand.kpi"
    assert "考核规则" in problems[0].message


def test_mechanism_kpi_errors(tmp_path):
    text = DEMAND.replace("weights: {response: 20, resolution: 40", "weights: {response: 20, resolution: 30")
    (problem,) = problems_of(tmp_path, {}, text)
    assert (problem.file, problem.line, problem.field) == (
        "demand.yaml",
        line_with(text, "weights:"),
        "kpi.weights",
    )
    text = DEMAND.replace("  sign_hours: 24\n", "")
    (problem,) = problems_of(tmp_path, {}, text)
    assert (problem.field, problem.message) == ("kpi", "考核规则缺少 sign_hours")


def test_kpi_needs_a_satisfaction_field(tmp_path):
    text = MINIMAL + "kpi:\n  weights: {response: 30, resolution: 35, satisfaction: 35}\n"
    text += "  basic_score: 0.8\n  sign_hours: 24\n  close_days: 7\n  dispatch: done\n  sign: done\n"
    (tmp_path / "demo.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(MechanismError) as info:
        load_directory(tmp_path)
    (problem,) = info.value.problems
    assert (problem.field, problem.line) == ("kpi", line_with(text, "kpi:"))
    assert "satisfaction" in problem.message

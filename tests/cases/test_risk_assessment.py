"""Risk assessment on the engine (the test mechanism tests/mechanisms/fixtures/risk.yaml): computed values
and the band's grade at intake and on each transition that changes the factors, kept in the history;
nobody types a computed value; conditions on field values in `require`, `only_if`, `approval.when` and a
time limit's `when`."""

from __future__ import annotations

import shutil
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from django.conf import settings

from taizhang.cases.actions import available_transitions
from taizhang.cases.create import CaseInput, do_create_case
from taizhang.mechanisms.registry import reset_registry

from .helpers import act, at, error_of, fresh

RISK = Path(__file__).parents[1] / "mechanisms" / "fixtures" / "risk.yaml"
MONDAY = at(2026, 3, 2, 9, 0)


@pytest.fixture(autouse=True)
def risk_loaded(tmp_path):
    directory = tmp_path / "mechanisms"
    shutil.copytree(settings.TAIZHANG_MECHANISM_DIR, directory)
    shutil.copy(RISK, directory / "risk.yaml")
    shipped = settings.TAIZHANG_MECHANISM_DIR
    settings.TAIZHANG_MECHANISM_DIR = directory
    reset_registry()
    with time_machine.travel(MONDAY, tick=False):
        yield
    settings.TAIZHANG_MECHANISM_DIR = shipped
    reset_registry()


def file_point(world, **fields):
    case, _ = do_create_case(
        world.enterprise_officer,
        CaseInput(
            mechanism="risk",
            title="合成车间反应釜区域",
            division=world.other_grid.code,
            category="lec",
            grade="low",
            fields=fields,
        ),
    )
    return case


def history(case):
    return list(case.transitions.order_by("seq"))


def test_intake_computes_the_value_and_grades_by_the_band(world):
    case = fresh(file_point(world, lec_l="l6", lec_e="e3", lec_c="c15"))  # D = 6 × 3 × 15 = 270
    assert case.data["lec_d"] == "270" and case.grade == "larger"
    [created] = history(case)
    assert created.changes["grade"] == [None, "larger"]  # (a create row records the attributes, not the form)


def test_the_smallest_value_is_kept_exactly(world):
    case = fresh(file_point(world, lec_l="l01", lec_e="e05", lec_c="c1"))
    assert case.data["lec_d"] == "0.05" and case.grade == "low"


def test_nobody_types_a_computed_value(world):
    err = error_of(lambda: file_point(world, lec_l="l6", lec_e="e3", lec_c="c15", lec_d="1"))
    assert err.status == 422 and [e.field for e in err.errors] == ["fields.lec_d"]
    case = file_point(world)
    err = error_of(
        lambda: act(
            world.enterprise_officer,
            case,
            "assess_ls",
            fields={"ls_l": 1, "ls_s": 1, "hazards": ["fire"], "ls_r": "1"},
        )
    )
    assert [e.field for e in err.errors] == ["fields.ls_r"]


def test_a_transition_that_changes_the_factors_recomputes_and_regrades(world):
    case = file_point(world, ls_l=2, ls_s=3)  # R = 6: 低
    assert fresh(case).grade == "low"
    act(
        world.enterprise_officer, case, "assess_ls", fields={"ls_l": 4, "ls_s": 5, "hazards": ["fire"]}
    )  # R = 20
    case = fresh(case)
    assert case.data["ls_r"] == "20" and case.grade == "major"
    last = history(case)[-1]
    assert last.changes["fields.ls_r"] == ["6", "20"] and last.changes["grade"] == ["low", "major"]
    act(world.enterprise_officer, case, "budget", fields={"funds": "3"})  # the factors stay: no regrade
    last = history(fresh(case))[-1]
    assert last.changes == {"fields.funds": [None, "3"]}


def test_require_follows_the_computed_value_and_the_band_grade(world, photo):
    case = file_point(world)
    fields = {"lec_l": "l10", "lec_e": "e10", "lec_c": "c100"}  # D = 10000 > 160, and 重大
    err = error_of(lambda: act(world.enterprise_officer, case, "assess_lec", fields=fields, opinion=""))
    assert {e.field for e in err.errors} == {"opinion", "fields.measures", "attachments"}
    act(
        world.enterprise_officer,
        case,
        "assess_lec",
        fields={**fields, "measures": "停用反应釜，设置可燃气体报警"},
        attachments=[photo(world.enterprise_officer)],
    )
    assert fresh(case).grade == "major"
    low = file_point(world)
    act(
        world.enterprise_officer,
        low,
        "assess_lec",
        fields={"lec_l": "l1", "lec_e": "e1", "lec_c": "c1"},
        opinion="",
    )


def test_approval_only_when_its_condition_holds(world):
    case = file_point(world, ls_l=1, ls_s=1)
    act(world.enterprise_officer, case, "assess_ls", fields={"ls_l": 1, "ls_s": 1, "hazards": ["fire"]})
    act(world.enterprise_officer, case, "budget", fields={"funds": "12"})
    case = fresh(case)
    assert case.pending["code"] == "budget" and "funds" not in case.data
    other = file_point(world)
    act(world.enterprise_officer, other, "assess_ls", fields={"ls_l": 1, "ls_s": 1, "hazards": ["fire"]})
    act(world.enterprise_officer, other, "budget", fields={"funds": "9.99"})
    other = fresh(other)
    assert other.pending is None and other.data["funds"] == "9.99"


def test_only_if_on_field_values(world):
    case = file_point(world)
    act(world.enterprise_officer, case, "assess_ls", fields={"ls_l": 2, "ls_s": 2, "hazards": ["explosion"]})
    case = fresh(case)
    codes = {t.code for t, _ in available_transitions(world.enterprise_officer, case)}
    assert "close_low" not in codes and "close_reviewed" in codes  # review_date is not known yet
    err = error_of(lambda: act(world.enterprise_officer, case, "close_low"))
    assert err.code == "condition_not_met" and "危险因素" in err.message
    err = error_of(
        lambda: act(world.enterprise_officer, case, "close_reviewed", fields={"review_date": "2025-12-31"})
    )
    assert err.code == "condition_not_met" and "复评日期不小于2026-01-01" in err.message
    act(world.enterprise_officer, case, "close_reviewed", fields={"review_date": "2026-01-01"})
    assert fresh(case).state == "closed"
    safe = file_point(world)
    act(world.enterprise_officer, safe, "assess_ls", fields={"ls_l": 2, "ls_s": 2, "hazards": ["fire"]})
    act(world.enterprise_officer, safe, "close_low")
    assert fresh(safe).state == "closed"


def test_a_time_limit_when_the_value_is_high(world, photo):
    grave, mild = file_point(world), file_point(world)
    act(
        world.enterprise_officer,
        grave,
        "assess_lec",
        fields={"lec_l": "l10", "lec_e": "e6", "lec_c": "c40", "measures": "停产整顿"},  # D = 2400
        attachments=[photo(world.enterprise_officer)],
    )
    act(world.enterprise_officer, mild, "assess_lec", fields={"lec_l": "l1", "lec_e": "e1", "lec_c": "c1"})
    assert fresh(grave).due_at == MONDAY + timedelta(days=7)
    assert fresh(mild).due_at == MONDAY + timedelta(days=30)


def test_supervision_when_the_grade_is_major(world, photo):
    from taizhang.cases.schedule import timer_events
    from taizhang.mechanisms.registry import get_mechanism

    grave, mild = file_point(world), file_point(world)
    fields = {"lec_l": "l10", "lec_e": "e6", "lec_c": "c40", "measures": "停产整顿"}
    act(
        world.enterprise_officer,
        grave,
        "assess_lec",
        fields=fields,
        attachments=[photo(world.enterprise_officer)],
    )
    act(world.enterprise_officer, mild, "assess_lec", fields={"lec_l": "l1", "lec_e": "e1", "lec_c": "c1"})
    mech = get_mechanism("risk")
    for case, before in ((fresh(grave), timedelta(days=1)), (fresh(mild), timedelta(days=3))):
        [remind] = [e for e in timer_events(mech, case) if e.kind == "remind"]
        assert case.due_at - remind.at == before, case.grade

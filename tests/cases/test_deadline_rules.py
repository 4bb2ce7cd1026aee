"""Deadlines from data, on a test mechanism: limits counted from or until a date field, calendar periods
(月, 季度, 半年) and minutes, a total limit besides the state's, supervision by grade with a cap, 返工 that
keeps the record (renew), a grade change that recounts the state's limit, and 挂牌督办 (supervise).

Time is frozen (time-machine); the dates fall around 中秋 and 国庆 2026 (9月25日–27日 and 10月1日–7日 off,
9月20日 and 10月10日 worked as 调休)."""

from __future__ import annotations

import pytest
import time_machine
from django.core.management import call_command

from taizhang.cases.create import CaseInput, do_create_case
from taizhang.cases.hashchain import verify_case
from taizhang.cases.timers import do_fire_timers
from tests.cases.helpers import act, at, fresh
from tests.cases.packs import extra_mechanism

MECHANISM = """
code: dltest
name: 时限规则测试
number_prefix: DT
categories:
  - {code: loss, name: 野生动物致害}
  - {code: task, name: 督办任务}
  - {code: other, name: 其他}
grades:
  - {code: general, name: 一般}
  - {code: major, name: 重大}
channels:
  - {code: grid, name: 网格}
fields:
  - {name: loss_date, label: 受损日期, type: date}
  - {name: due_date, label: 完成日期, type: date}
intake:
  initial: applying
  roles: [grid_worker, dispatcher]
states:
  - {code: applying, name: 待申请, kind: open}
  - {code: working, name: 办理中, kind: open}
  - {code: checking, name: 待验收, kind: waiting}
  - {code: closed, name: 办结, kind: closed}
transitions:
  - {code: start, name: 受理, from: [applying], to: working, roles: [dispatcher]}
  - {code: done, name: 办结申请, from: [working], to: checking, roles: [dispatcher]}
  - {code: redo, name: 返工, from: [checking], to: working, roles: [dispatcher], deadline: renew}
  - {code: close, name: 验收办结, from: [checking], to: closed, roles: [dispatcher]}
  - {code: regrade, name: 调整等级, from: [working], roles: [dispatcher], sets: [grade], deadline: recount}
  - {code: note, name: 补充信息, from: [working], roles: [dispatcher], fields: [due_date], deadline: keep}
  - code: list
    name: 挂牌督办
    from: [working, checking]
    roles: [leader]
    deadline: keep
    supervise: {levels: 2, accept_in: [checking], accept_within: 10 自然日}
time_limits:
  - {state: applying, category: loss, limit: 10 工作日, from_field: loss_date}
  - {state: applying, limit: 1 月}
  - {state: working, category: task, until_field: due_date}
  - {state: working, limit: 1 季度}
  - {state: working, grade: major, limit: 30 分钟}
  - {state: checking, limit: 3 工作日}
total_limits:
  - {limit: 1 半年}
  - {grade: major, limit: 2 小时}
escalate_up_to: district
supervision:
  - state: working
    escalate:
      - {after: 0 小时, levels: 1}
      - {after: 1 小时, levels: 4}
  - state: working
    when: {grade: [major]}
    escalate:
      - {after: 0 小时, levels: 2}
"""


@pytest.fixture
def frozen(world, tmp_path):
    with extra_mechanism(tmp_path, MECHANISM), time_machine.travel(at(2026, 9, 28, 10, 0), tick=False) as t:
        yield t


def new_case(world, category="other", grade="general", **fields):
    data = CaseInput(
        mechanism="dltest",
        title="测试事项",
        division=world.grid.code,
        category=category,
        grade=grade,
        channel="grid",
        fields=fields,
    )
    return do_create_case(world.dispatcher, data)[0]


def fire(case, moment) -> list[str]:
    """Run the case's timers at `moment`; the codes of the rows written."""
    do_fire_timers(case.pk, moment)
    return [t.code for t in fresh(case).transitions.filter(kind="timer").order_by("seq")]


# -- from and until a date field ------------------------------------------------------------------------


def test_ten_working_days_from_the_loss_date_skip_the_holidays(world, frozen):
    # Lost on Thu 09-24: 09-28/29/30, then 10-08/09, Sat 10-10 (调休), 10-12 … 10-15.
    case = new_case(world, "loss", loss_date="2026-09-24")
    assert case.due_at == at(2026, 10, 15, 23, 59, 59)
    assert case.limit_text == "10个工作日（自2026-09-24起）"
    # Lost on Fri 09-18: the make-up Sunday 09-20 counts, the 中秋 days do not.
    assert new_case(world, "loss", loss_date="2026-09-18").due_at == at(2026, 10, 9, 23, 59, 59)


def test_a_missing_date_counts_from_the_report(world, frozen):
    assert new_case(world, "loss").due_at == at(2026, 10, 16, 23, 59, 59)  # 10 工作日 from 09-28


def test_a_task_is_due_at_the_end_of_its_date_field(world, frozen):
    case = new_case(world, "task", due_date="2026-09-30")
    act(world.dispatcher, case, "start")
    case = fresh(case)
    assert (case.due_at, case.limit_text) == (at(2026, 9, 30, 23, 59, 59), "至2026-09-30")
    assert fire(case, at(2026, 10, 1, 0, 0)) == ["overdue", "escalate"]


def test_a_kept_deadline_follows_its_date_field_when_a_step_moves_it(world, frozen):
    case = new_case(world, "task", due_date="2026-09-30")
    act(world.dispatcher, case, "start")
    act(world.dispatcher, case, "note", fields={"due_date": "2026-09-30"})  # the same date: nothing moves
    assert fresh(case).due_at == at(2026, 9, 30, 23, 59, 59)
    act(world.dispatcher, case, "note", fields={"due_date": "2026-10-09"})
    case = fresh(case)
    assert (case.due_at, case.limit_text) == (at(2026, 10, 9, 23, 59, 59), "至2026-10-09")
    assert fire(case, at(2026, 10, 1, 0, 0)) == []  # no longer overdue on the old date


# -- calendar periods ----------------------------------------------------------------------------------


def test_one_month_from_january_31st_ends_on_the_last_of_february(world, frozen):
    frozen.move_to(at(2026, 1, 31, 10, 0))
    assert new_case(world).due_at == at(2026, 2, 28, 10, 0)


def test_a_quarter_in_working_and_a_half_year_in_total(world, frozen):
    frozen.move_to(at(2026, 8, 31, 10, 0))
    case = new_case(world)
    assert case.total_due_at == at(2027, 2, 28, 10, 0)  # 半年 from 08-31: the end of February
    act(world.dispatcher, case, "start")
    assert fresh(case).due_at == at(2026, 11, 30, 10, 0)  # 1 季度 from 08-31: 11-30 (no 11-31)


# -- the total limit ------------------------------------------------------------------------------------


def test_a_major_case_is_due_two_hours_after_creation_whatever_the_steps(world, frozen):
    case = new_case(world, grade="major")
    assert (case.total_due_at, case.due_at) == (at(2026, 9, 28, 12, 0),) * 2
    frozen.move_to(at(2026, 9, 28, 10, 40))
    act(world.dispatcher, case, "start")
    assert fresh(case).due_at == at(2026, 9, 28, 11, 10)  # 30 分钟 of the state come first
    frozen.move_to(at(2026, 9, 28, 11, 5))
    act(world.dispatcher, case, "done")
    case = fresh(case)
    assert (case.due_at, case.limit_text) == (at(2026, 9, 28, 12, 0), "2小时")  # not 3 工作日
    assert fire(case, at(2026, 9, 28, 12, 0, 1)) == ["overdue"]
    assert fresh(case).is_overdue


# -- supervision by grade, capped ------------------------------------------------------------------------


def test_a_general_case_escalates_but_never_above_the_district(world, frozen):
    case = new_case(world)
    act(world.dispatcher, case, "start")
    due = fresh(case).due_at
    assert fire(case, due.replace(minute=30)) == ["overdue", "escalate"]
    case = fresh(case)
    assert (case.supervision_level, case.supervising_division) == (1, world.community)
    # Four levels above the grid would be the city: the mechanism stops at the district (three up).
    assert fire(case, due.replace(hour=12)) == ["overdue", "escalate", "escalate"]
    case = fresh(case)
    assert (case.supervision_level, case.supervising_division) == (3, world.district)
    assert "潞州区" in case.transitions.order_by("-seq").first().opinion


def test_a_major_case_goes_two_levels_up_at_once(world, frozen):
    case = new_case(world, grade="major")
    act(world.dispatcher, case, "start")
    assert fire(case, at(2026, 9, 28, 10, 31)) == ["overdue", "escalate"]
    assert (fresh(case).supervision_level, fresh(case).supervising_division) == (2, world.street)


# -- 返工 keeps the record; a new round does not ---------------------------------------------------------


def test_rework_gives_a_fresh_limit_but_keeps_the_level_and_the_overdue_record(world, frozen):
    case = new_case(world, grade="major")
    act(world.dispatcher, case, "start")
    fire(case, at(2026, 9, 28, 10, 31))
    frozen.move_to(at(2026, 9, 28, 10, 45))
    act(world.dispatcher, case, "done")  # a new state: a new round, the record of this step ends
    case = fresh(case)
    assert (case.overdue_since, case.supervision_level) == (None, 0)
    fire(case, at(2026, 9, 28, 12, 1))  # the total limit passes in 待验收
    frozen.move_to(at(2026, 9, 28, 12, 30))
    act(world.dispatcher, case, "redo")
    case = fresh(case)
    assert case.overdue_since == at(2026, 9, 28, 12, 0)  # 返工 does not wipe it
    assert case.due_at == at(2026, 9, 28, 13, 0)  # a fresh 30 分钟 (and a fresh total of 2 h)
    assert case.is_overdue
    fire(case, at(2026, 9, 28, 13, 1))
    case = fresh(case)
    assert (case.supervision_level, case.supervising_division) == (2, world.street)
    frozen.move_to(at(2026, 9, 28, 13, 30))
    act(world.dispatcher, case, "done")
    frozen.move_to(at(2026, 9, 28, 13, 40))
    act(world.dispatcher, case, "redo")
    assert fresh(case).supervision_level == 0  # 待验收 was a new round: no level to keep
    assert verify_case(fresh(case)) is None


def test_a_grade_change_recounts_the_state_limit_from_when_it_was_entered(world, frozen):
    case = new_case(world)
    act(world.dispatcher, case, "start")
    assert fresh(case).due_at == at(2026, 12, 28, 10, 0)
    frozen.move_to(at(2026, 9, 28, 10, 20))
    act(world.dispatcher, case, "regrade", params={"grade": "major"})
    case = fresh(case)
    # 30 分钟 from 10:00 (entering 办理中), and the 2-hour total from creation.
    assert (case.grade, case.due_at, case.total_due_at) == (
        "major",
        at(2026, 9, 28, 10, 30),
        at(2026, 9, 28, 12, 0),
    )
    assert case.state_entered_at == at(2026, 9, 28, 10, 0)
    assert verify_case(case) is None


# -- 挂牌督办 ---------------------------------------------------------------------------------------------


def test_listing_raises_the_level_for_good_with_its_acceptance_limit(world, frozen):
    case = new_case(world)
    act(world.dispatcher, case, "start")
    act(world.leader, case, "list")
    case = fresh(case)
    assert (case.listed_by, case.supervision_level, case.supervising_division) == ("list", 2, world.street)
    row = case.transitions.order_by("-seq").first()
    assert row.changes["supervision_level"] == [0, 2]
    act(world.dispatcher, case, "done")  # a new round keeps the listed level
    case = fresh(case)
    assert (case.supervision_level, case.supervising_division) == (2, world.street)
    assert (case.due_at, case.limit_text) == (at(2026, 10, 8, 10, 0), "10天")  # not 3 工作日
    call_command("audit", "verify", "--skip-files", verbosity=0)  # the history replays to the case row

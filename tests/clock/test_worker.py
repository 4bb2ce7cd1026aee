"""The scheduler under frozen time: 催办 before the deadline, 超期 and 督办 after it, each exactly once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from taizhang.cases.hashchain import verify_case
from taizhang.cases.models import Case
from taizhang.clock import worker
from tests.cases.helpers import act, report, to_rectifying

TZ = ZoneInfo("Asia/Shanghai")


def at(*args) -> datetime:
    return datetime(*args, tzinfo=TZ)


def timer_rows(case: Case) -> list[tuple[str, str]]:
    return [(t.code, t.opinion) for t in case.transitions.filter(kind="timer").order_by("seq")]


@pytest.fixture
def rectifying_case(world):
    """A general hazard in rectification from Tue 2026-03-10 10:00; the 潞州区 pack gives 5 工作日,
    so the deadline is Tue 03-17 23:59:59, 催办 1 工作日 before, 督办 at 0 / 2 / 5 工作日 after."""
    with time_machine.travel(at(2026, 3, 10, 10, 0), tick=False):
        case = to_rectifying(world, report(world))
    return Case.objects.get(pk=case.pk)


def run_at(moment: datetime) -> int:
    with time_machine.travel(moment, tick=False):
        return worker.run_once()


def test_reminder_overdue_and_escalation_happen_once(world, rectifying_case):
    case = rectifying_case
    assert case.due_at == at(2026, 3, 17, 23, 59, 59)
    assert case.next_timer_at == at(2026, 3, 16, 8, 30)  # 1 working day before: the morning of 03-16
    assert run_at(at(2026, 3, 16, 8, 0)) == 0
    assert run_at(at(2026, 3, 16, 9, 0)) == 1
    assert run_at(at(2026, 3, 16, 9, 5)) == 0
    case.refresh_from_db()
    assert [code for code, _ in timer_rows(case)] == ["remind"]
    assert "催办" in timer_rows(case)[0][1]

    assert run_at(at(2026, 3, 18, 0, 30)) == 2  # 超期 and the first 督办 at the deadline itself
    case.refresh_from_db()
    assert case.overdue_since == case.due_at and case.is_overdue
    assert case.supervision_level == 1 and case.supervising_division == world.community
    assert run_at(at(2026, 3, 18, 9, 0)) == 0

    assert run_at(at(2026, 3, 20, 0, 30)) == 1  # 2 working days after: the street
    case.refresh_from_db()
    assert case.supervising_division == world.street
    assert run_at(at(2026, 3, 30, 9, 0)) == 1  # 5 working days after: the district
    case.refresh_from_db()
    assert (case.supervision_level, case.supervising_division) == (3, world.district)
    assert case.next_timer_at is None
    assert run_at(at(2026, 4, 30, 9, 0)) == 0
    assert [code for code, _ in timer_rows(case)] == ["remind", "overdue", "escalate", "escalate", "escalate"]
    assert all(t.actor_id is None and t.role == "system" for t in case.transitions.filter(kind="timer"))
    assert verify_case(case) is None


def test_a_late_worker_catches_up_in_one_pass(world, rectifying_case):
    assert run_at(at(2026, 4, 1, 9, 0)) == 5
    case = Case.objects.get(pk=rectifying_case.pk)
    assert case.supervision_level == 3 and case.next_timer_at is None


def test_acting_on_the_case_clears_overdue_and_starts_new_timers(world, rectifying_case, photo):
    run_at(at(2026, 3, 18, 9, 0))
    with time_machine.travel(at(2026, 3, 18, 10, 0), tick=False):
        act(world.handler, rectifying_case, "rectified", attachments=[photo(world.handler)])
    case = Case.objects.get(pk=rectifying_case.pk)
    assert case.state == "verifying" and case.overdue_since is None and case.supervision_level == 0
    assert case.next_timer_at is not None and case.next_timer_at > at(2026, 3, 18, 10, 0)


@pytest.mark.django_db(transaction=True)
def test_two_workers_never_duplicate(world, monkeypatch):
    cases = []
    with time_machine.travel(at(2026, 3, 10, 10, 0), tick=False):
        for _ in range(6):
            cases.append(to_rectifying(world, report(world)))
    moment = at(2026, 3, 18, 9, 0)
    barrier = threading.Barrier(2)
    original = worker.due_case_ids

    def both_see_everything(now, batch):  # make the two workers race for the very same cases
        ids = original(now, batch)
        barrier.wait(timeout=10)
        return ids

    monkeypatch.setattr(worker, "due_case_ids", both_see_everything)
    results: list[int] = []

    def run() -> None:
        from django.db import connection

        try:
            results.append(worker.run_once(now=moment, batch=1000))
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sum(results) == 6 * 3  # 催办, 超期, first 督办 for each case, written by one worker or the other
    for case in cases:
        case = Case.objects.get(pk=case.pk)
        assert [code for code, _ in timer_rows(case)] == ["remind", "overdue", "escalate"]
        assert verify_case(case) is None


def test_sigterm_sets_the_stop_event():
    stop = threading.Event()
    previous = signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)
    try:
        worker.install_signal_handlers(stop)
        os.kill(os.getpid(), signal.SIGTERM)
        assert stop.wait(2)
    finally:
        signal.signal(signal.SIGTERM, previous[0])
        signal.signal(signal.SIGINT, previous[1])


def test_worker_command_stops_cleanly_on_sigterm(tmp_path):
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'w.sqlite3'}", "PYTHONUNBUFFERED": "1"}
    env.pop("TAIZHANG_TEST_DB_NAME", None)
    cli = [sys.executable, "-m", "taizhang.cli"]
    subprocess.run([*cli, "migrate", "-v0"], env=env, check=True, timeout=120)
    proc = subprocess.Popen([*cli, "worker", "--interval", "0.2"], env=env, stdout=subprocess.PIPE, text=True)
    try:
        assert "已启动" in proc.stdout.readline()
        time.sleep(0.5)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
        assert "已停止" in proc.stdout.read()
    finally:
        proc.kill()

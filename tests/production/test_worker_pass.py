"""The scheduler records each complete pass (for its gauge) and outlives a database that goes away."""

from __future__ import annotations

import threading

import pytest
from django.db import OperationalError

from taizhang.clock import worker
from taizhang.ops.models import WorkerPass

pytestmark = pytest.mark.django_db(transaction=True)  # the loop closes old connections, as in production


def test_a_complete_pass_is_recorded_under_the_workers_name(monkeypatch):
    monkeypatch.setenv("TAIZHANG_WORKER_NAME", "worker-a")
    stop = threading.Event()
    worker.run_forever(0, stop, on_cycle=lambda written: stop.set())
    row = WorkerPass.objects.get()
    assert row.name == "worker-a" and row.written == 0


def test_a_failed_pass_is_logged_not_recorded_and_the_loop_goes_on(monkeypatch, caplog):
    calls = []
    stop = threading.Event()

    def flaky(stop=None):
        calls.append(1)
        if len(calls) == 1:
            raise OperationalError("server closed the connection unexpectedly")
        stop.set()
        return 0

    monkeypatch.setattr(worker, "run_once", flaky)
    worker.run_forever(0, stop)
    assert len(calls) == 2  # tried again after the failure
    assert "scheduler pass failed" in caplog.text
    assert not WorkerPass.objects.exists()  # the second pass was cut short by the stop: not complete

"""The scheduler: a broker-free loop that fires due timers and removes uploads nobody used; safe to run
twice, stops on SIGTERM."""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable
from datetime import datetime

from django.db import DatabaseError, close_old_connections

from taizhang.clock.now import now as clock_now

logger = logging.getLogger("taizhang.worker")


def due_case_ids(now: datetime, batch: int) -> list[int]:
    from taizhang.cases.models import Case

    return list(
        Case.objects.filter(next_timer_at__lte=now)
        .order_by("next_timer_at")
        .values_list("pk", flat=True)[:batch]
    )


def run_once(now: datetime | None = None, batch: int = 200, stop: threading.Event | None = None) -> int:
    """Fire every timer due by now; returns how many history rows were written.

    Each pass also deletes the idempotency keys whose window has passed (one DELETE).
    """
    from taizhang.cases.idempotency import purge_expired
    from taizhang.cases.timers import do_fire_timers

    written = 0
    now = now or clock_now()
    purged = purge_expired(now)
    if purged:
        logger.info("deleted %s expired idempotency keys", purged)
    while True:
        ids = due_case_ids(now, batch)
        progressed = 0
        for case_id in ids:
            if stop is not None and stop.is_set():
                return written
            try:
                count = do_fire_timers(case_id, now)
            except Exception:  # one bad case must not stop the others
                logger.exception("timer of case %s failed", case_id)
                continue
            written += count
            progressed += 1
        if len(ids) < batch or not progressed:
            return written


def sweep_uploads(now: datetime | None = None) -> int:
    """Remove uploads no history row took within TAIZHANG_UNCLAIMED_UPLOAD_HOURS; how many were removed."""
    from taizhang.cases.attachments import remove_unclaimed

    try:
        return remove_unclaimed(now)
    except Exception:  # storage trouble must not stop the timers
        logger.exception("removing unclaimed uploads failed")
        return 0


def run_forever(
    interval: float, stop: threading.Event, on_cycle: Callable[[int], None] | None = None
) -> None:
    """Loop until `stop` is set; the current case finishes its transaction before the loop exits.

    A signed audit checkpoint is made every TAIZHANG_AUDIT_CHECKPOINT_INTERVAL when a signing key is set.
    """
    from taizhang.cases.checkpoints import CheckpointSchedule
    from taizhang.ops.heartbeat import record_pass

    checkpoints = CheckpointSchedule()
    while not stop.is_set():
        close_old_connections()
        try:
            written = run_once(stop=stop)
            sweep_uploads()
            if not stop.is_set():
                checkpoints.tick(clock_now())
        except DatabaseError:  # the database restarting must not end the scheduler: try again next time
            logger.exception("scheduler pass failed; retrying in %s s", interval)
            stop.wait(interval)
            continue
        if not stop.is_set():
            record_pass(written)  # a complete pass, for the worker's gauge on /metrics
        if on_cycle:
            on_cycle(written)
        stop.wait(interval)


def install_signal_handlers(stop: threading.Event) -> None:
    def handle(signum, _frame):
        logger.info("received signal %s, stopping after the current case", signum)
        stop.set()

    signal.signal(signal.SIGTERM, handle)
    signal.signal(signal.SIGINT, handle)

"""The scheduler reports each complete pass, so that /metrics can tell a stalled worker from an idle one."""

from __future__ import annotations

import logging
import os
import socket

from django.db import DatabaseError
from django.utils import timezone

log = logging.getLogger("taizhang.worker")


def worker_name() -> str:
    """TAIZHANG_WORKER_NAME, or the host name (a container's is its id; two workers on one host share it)."""
    return os.environ.get("TAIZHANG_WORKER_NAME") or socket.gethostname()


def record_pass(written: int) -> None:
    """Store that a pass finished now; a failure to store it is logged and never stops the scheduler."""
    from .models import WorkerPass

    try:
        WorkerPass.objects.update_or_create(
            name=worker_name()[:200], defaults={"finished_at": timezone.now(), "written": written}
        )
    except DatabaseError:
        log.exception("could not record the worker's pass")

"""Idempotency keys expire: within the window a retry returns the case the first request created; after
it the key no longer blocks anything and files a new case.

One window (`TAIZHANG_IDEMPOTENCY_HOURS`, default 24 h) for every keyed create: the API's
`Idempotency-Key`, the report and portal forms' keys and Open311's retry detection, which all go
through `do_create_case`. An expired row is deleted when its key is used again (`replay` in
taizhang.cases.create), and the worker purges the others on every pass (`purge_expired`), so the
table holds about one window of keys.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import QuerySet

from taizhang.clock.now import now as clock_now
from taizhang.org.models import User

from .models import IdempotencyKey


def window() -> timedelta:
    """How long a key keeps returning the case it created."""
    return timedelta(hours=settings.TAIZHANG_IDEMPOTENCY_HOURS)


def live_keys(now: datetime | None = None) -> QuerySet[IdempotencyKey]:
    """The keys still within the window at `now` (default: the platform's current time)."""
    return IdempotencyKey.objects.filter(created_at__gt=(now or clock_now()) - window())


def live_key(user: User, key: str) -> IdempotencyKey | None:
    """The person's unexpired row for a key, with its case; None when unused or expired."""
    if not key:
        return None
    return live_keys().filter(user=user, key=key).select_related("case").first()


def expired(row: IdempotencyKey) -> bool:
    """Whether a key's window has passed."""
    return row.created_at <= clock_now() - window()


def purge_expired(now: datetime | None = None) -> int:
    """Delete every expired key (the worker's pass); returns how many."""
    cutoff = (now or clock_now()) - window()
    deleted, _ = IdempotencyKey.objects.filter(created_at__lte=cutoff).delete()
    return deleted

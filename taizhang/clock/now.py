"""The current time for the whole platform, pinnable for demo data and benchmarks."""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

from django.utils import timezone

_pinned: contextvars.ContextVar[datetime | None] = contextvars.ContextVar("taizhang_now", default=None)


def now() -> datetime:
    """The platform's current time: the real time unless a caller pinned another."""
    return _pinned.get() or timezone.now()


@contextmanager
def pinned(at: datetime) -> Iterator[None]:
    """Run a block as if it were `at` (used to build realistic histories for the demo)."""
    if timezone.is_naive(at):
        raise ValueError("pinned time must be timezone-aware")
    token = _pinned.set(at)
    try:
        yield
    finally:
        _pinned.reset(token)

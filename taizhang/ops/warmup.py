"""Load in a new worker process what its first requests would otherwise load while people wait: the
mechanisms, the clock's calendars, the insight rules and the active topic model (seconds of CPU)."""

from __future__ import annotations

import logging
import time

log = logging.getLogger("taizhang.ops")


def warm_up() -> float:
    """Load the process-wide caches; returns the seconds it took. A failure is logged, never raised:
    the request that needs the broken piece reports it, and /readyz says what is wrong."""
    from taizhang.clock.clock import get_clock
    from taizhang.insight.classify.routing import get_routing
    from taizhang.insight.classify.store import active_model
    from taizhang.insight.rules import hotspot_rules, reply_rules
    from taizhang.mechanisms.registry import get_registry

    start = time.perf_counter()
    for load in (get_registry, get_clock, get_routing, hotspot_rules, reply_rules, active_model):
        try:
            load()
        except Exception:
            log.exception("warm-up: %s failed", load.__name__)
    return time.perf_counter() - start

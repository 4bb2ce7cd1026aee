"""Whether this process can serve: the database answers, every migration is applied, the mechanisms are
loaded and, in production, the static files are collected. Each check says what to do when it fails."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from django.db import DEFAULT_DB_ALIAS, connections

log = logging.getLogger("taizhang.ops")
# Checks that, once passed, cannot fail again in this process (the code and its files do not change
# under it): done once, so that a probe every few seconds costs one `SELECT 1`.
_passed: set[str] = set()


@dataclass
class Readiness:
    checks: dict[str, str] = field(default_factory=dict)
    reason: str = ""

    @property
    def ready(self) -> bool:
        return not self.reason

    def fail(self, name: str, reason: str) -> None:
        self.checks[name] = "failed"
        self.reason = self.reason or f"{name}: {reason}"


def check_database() -> None:
    connection = connections[DEFAULT_DB_ALIAS]
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def check_migrations() -> str | None:
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connections[DEFAULT_DB_ALIAS])
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    if plan:
        return f"{len(plan)} migrations not applied (run: taizhang migrate)"
    return None


def check_mechanisms() -> str | None:
    from taizhang.mechanisms.registry import get_registry

    return None if get_registry().mechanisms else "no mechanism loaded (TAIZHANG_MECHANISM_DIR)"


def check_static() -> str | None:
    """With hashed static names (production), the manifest written by collectstatic must be there."""
    from django.contrib.staticfiles.storage import ManifestFilesMixin
    from django.core.files.storage import storages

    storage = storages["staticfiles"]
    if not isinstance(storage, ManifestFilesMixin):
        return None
    if not storage.hashed_files:  # collected after this process started: read the manifest again
        storage.hashed_files, storage.manifest_hash = storage.load_manifest()
    return None if storage.hashed_files else "static files not collected (run: taizhang collectstatic)"


def readiness() -> Readiness:
    """Run the checks in order; the first failure is the reason (later checks may need the database)."""
    result = Readiness()
    try:
        check_database()
        result.checks["database"] = "ok"
    except Exception as exc:  # whatever the driver raises, the answer is "not ready, because …"
        result.fail("database", first_line(exc))
        return result
    for name, check in (
        ("migrations", check_migrations),
        ("mechanisms", check_mechanisms),
        ("static", check_static),
    ):
        if name in _passed:
            result.checks[name] = "ok"
            continue
        try:
            problem = check()
        except Exception as exc:
            problem = first_line(exc)
        if problem:
            result.fail(name, problem)
        else:
            result.checks[name] = "ok"
            _passed.add(name)
    if not result.ready:
        log.warning("not ready: %s", result.reason)
    return result


def first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}".strip()[:300]


def forget() -> None:
    """Run every check again at the next probe (tests)."""
    _passed.clear()

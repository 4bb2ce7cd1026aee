"""`taizhang flush`: Django's flush, which on SQLite must lift the history's DELETE trigger to empty it.

PostgreSQL empties tables with TRUNCATE, which fires no row trigger. On SQLite flush is a DELETE per
table, so the trigger is dropped and re-created around it inside one transaction: nothing else ever
sees the history without it. (Test databases are flushed this way between transactional tests.)
"""

from __future__ import annotations

from django.core.management.commands import flush
from django.db import DEFAULT_DB_ALIAS, connections, transaction

TRIGGER = "cases_transition_no_delete"


class Command(flush.Command):
    def handle(self, **options) -> None:
        alias = options.get("database") or DEFAULT_DB_ALIAS
        connection = connections[alias]
        if connection.vendor != "sqlite":
            return super().handle(**options)
        with transaction.atomic(using=alias), connection.cursor() as cursor:
            cursor.execute("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = %s", [TRIGGER])
            found = cursor.fetchone()
            if found:
                cursor.execute(f"DROP TRIGGER {TRIGGER}")
            super().handle(**options)
            if found:
                cursor.execute(found[0])

"""INSERT of many model rows without the ORM's per-row work: COPY on PostgreSQL, one executemany on SQLite.

`bulk_create` compiles every value of every row through the field machinery; at hundreds of thousands
of rows (imports, the similarity index) that is most of the time. The rows written are the same.
"""

from __future__ import annotations

from django.db import DEFAULT_DB_ALIAS, IntegrityError, connection, connections

IDENTITY_TYPES = {
    "AutoField",
    "BigAutoField",
    "BooleanField",
    "CharField",
    "ForeignKey",
    "IntegerField",
    "PositiveIntegerField",
    "PositiveSmallIntegerField",
    "TextField",
}


def sqlite_datetime(value, conn):
    """What the SQLite backend stores for an aware datetime (adapt_datetimefield_value), faster."""
    if value is None:
        return None
    return str(value.astimezone(conn.timezone).replace(tzinfo=None))


class RowInserter:
    """INSERT of model instances without the ORM's per-statement compilation.

    Values are adapted exactly as the ORM adapts them (``get_db_prep_save``), except for the types
    that need no adapting. PostgreSQL gets them by COPY, SQLite by one ``executemany``.
    """

    def __init__(self, model, with_pk: bool):
        self.fields = [f for f in model._meta.concrete_fields if with_pk or not f.primary_key]
        qn = connection.ops.quote_name
        self.table = qn(model._meta.db_table)
        self.columns = ", ".join(qn(f.column) for f in self.fields)
        marks = ", ".join(["%s"] * len(self.fields))
        self.insert_sql = f"INSERT INTO {self.table} ({self.columns}) VALUES ({marks})"
        self.getters = []
        for f in self.fields:
            kind = f.get_internal_type()
            if kind in IDENTITY_TYPES or (kind == "DateTimeField" and connection.vendor == "postgresql"):
                self.getters.append((f.attname, None))
            elif kind == "DateTimeField" and connection.vendor == "sqlite":
                self.getters.append((f.attname, sqlite_datetime))
            else:
                self.getters.append((f.attname, f.get_db_prep_save))

    def rows(self, objs) -> list[tuple]:
        """The values to write, in column order, of model instances or of dicts keyed by attname."""
        conn = connections[DEFAULT_DB_ALIAS]  # the wrapper itself: the proxy looks it up at every use
        seen: dict = {}  # rows of one batch share their times (the postings of a case): adapt each once

        def sqlite_time(value, conn):
            text = seen.get(value)
            if text is None:
                text = seen[value] = sqlite_datetime(value, conn)
            return text

        getters = [(a, sqlite_time if prep is sqlite_datetime else prep) for a, prep in self.getters]
        out = []
        for obj in objs:
            d = obj if isinstance(obj, dict) else obj.__dict__
            out.append(tuple(d[a] if prep is None else prep(d[a], conn) for a, prep in getters))
        return out

    def insert(self, objs) -> None:
        """Insert the objects (primary keys are not read back)."""
        rows = self.rows(objs)
        with connection.cursor() as cur:
            if connection.vendor == "postgresql":
                import psycopg

                try:
                    with cur.cursor.copy(f"COPY {self.table} ({self.columns}) FROM STDIN") as copy:
                        for row in rows:
                            copy.write_row(row)
                except psycopg.errors.IntegrityError as exc:
                    raise IntegrityError(str(exc)) from exc
            else:
                cur.executemany(self.insert_sql, rows)


class PlannerStatistics:
    """PostgreSQL's planner statistics of the tables a bulk load grows, kept up to date as it grows.

    Right after a large load autovacuum may not have analysed a table yet, and the planner then takes
    a table of a million rows for a small one: the importer's "imported already?" check left the
    partial unique index for a scan of every case of the mechanism (1,160 rows/s instead of 60,300 on
    a re-run over 1,000,000 cases). `refresh()` runs ANALYZE (sampling: 0.6 s at 1,000,000 cases);
    `grew(n)` runs it once the rows added since the last one reach `floor` and the table's size then,
    so a load analyses O(log n) times. SQLite plans these queries without statistics: nothing to do.
    """

    def __init__(self, *models, floor: int = 20_000):
        self.tables = [m._meta.db_table for m in models]
        self.floor = floor
        self.added = 0
        self.size = 0
        self.active = connection.vendor == "postgresql"

    def refresh(self) -> None:
        """ANALYZE the tables now (allowed inside a transaction, unlike VACUUM)."""
        self.added = 0
        if not self.active:
            return
        qn = connection.ops.quote_name
        with connection.cursor() as cur:
            for table in self.tables:
                cur.execute(f"ANALYZE {qn(table)}")
            cur.execute("SELECT reltuples FROM pg_class WHERE oid = %s::regclass", [qn(self.tables[0])])
            self.size = max(0, int(cur.fetchone()[0]))

    def grew(self, rows: int) -> bool:
        """Count rows added to the first table; True when that called for an ANALYZE (and ran it)."""
        self.added += rows
        if self.active and self.added >= max(self.floor, self.size):
            self.refresh()
            return True
        return False

"""The writes of one operation on a case, sent as one statement on PostgreSQL.

A transition changes the case row (compare-and-swap on its version), appends its history row, may claim
attachments and change party rows. Each is a round trip to the server when sent alone; on PostgreSQL the
batch is one statement of data-modifying CTEs, every step after the first guarded by the first (a lost
compare-and-swap writes nothing, so the loser gets a clean 409 and no unique-key failure on the history).
SQLite runs in-process, where a round trip costs nothing: the same steps run one after the other and stop
at a first step that matched no row.

Values are prepared by the model fields (`get_db_prep_save`), as the ORM would.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.models import Model


def qn(name: str) -> str:
    return connection.ops.quote_name(name)


@dataclass(frozen=True)
class Ref:
    """The id returned by an earlier insert step of the same batch."""

    step: int


@dataclass
class Step:
    model: type[Model]
    kind: str  # "insert" or "update"
    values: dict[str, Any]  # field attname -> value (or Ref)
    where: str = ""  # updates: SQL over the table's columns, with %s for `where_params`
    where_params: list[Any] = field(default_factory=list)


@dataclass
class Batch:
    """Steps run in order; `run()` returns per step the new row's id (insert) or the rows changed (update)."""

    steps: list[Step] = field(default_factory=list)

    def insert(self, model: type[Model], values: dict[str, Any]) -> int:
        self.steps.append(Step(model, "insert", values))
        return len(self.steps) - 1

    def update(self, model: type[Model], values: dict[str, Any], where: str, params: list[Any]) -> int:
        self.steps.append(Step(model, "update", values, where, params))
        return len(self.steps) - 1

    def run(self) -> list[int | None]:
        if not self.steps:
            return []
        if connection.vendor == "postgresql":
            return self._run_chained()
        return self._run_in_turn()

    # -- PostgreSQL: one statement ------------------------------------------------------------------

    def _run_chained(self) -> list[int | None]:
        ctes, params = [], []
        for i, step in enumerate(self.steps):
            guard = "" if i == 0 else "s0"
            sql, step_params = render(step, guard, lambda ref: f"(SELECT id FROM s{ref.step})")
            ctes.append(f"s{i} AS ({sql})")
            params += step_params
        outputs = ", ".join(
            f"(SELECT {'min(id)' if s.kind == 'insert' else 'count(*)'} FROM s{i})"
            for i, s in enumerate(self.steps)
        )
        with connection.cursor() as cursor:
            cursor.execute(f"WITH {', '.join(ctes)} SELECT {outputs}", params)
            return list(cursor.fetchone())

    # -- SQLite: in turn ----------------------------------------------------------------------------

    def _run_in_turn(self) -> list[int | None]:
        results: list[int | None] = []
        with connection.cursor() as cursor:
            for i, step in enumerate(self.steps):
                sql, params = render(step, "", lambda ref: "%s")
                params = [results[p.step] if isinstance(p, Ref) else p for p in params]
                cursor.execute(sql, params)
                rows = cursor.fetchall()
                results.append(rows[0][0] if step.kind == "insert" and rows else len(rows))
                if i == 0 and not rows:  # the guard failed: nothing else is written
                    return results + [None] * (len(self.steps) - 1)
        return results


def render(step: Step, guard: str, ref_sql) -> tuple[str, list[Any]]:
    """One step's SQL and parameters. `guard`: the CTE every later step needs a row from ("" for none);
    `ref_sql(ref)`: how a reference to an earlier step's id is written (a parameter keeps the Ref)."""
    conn = connections[DEFAULT_DB_ALIAS]  # once per step: the proxy `connection` looks it up on every use
    table, columns = names_of(step.model, conn.vendor)
    names, exprs, params = [], [], []
    for attname, value in step.values.items():
        f, column = columns[attname]
        names.append(column)
        if isinstance(value, Ref):
            expr = ref_sql(value)
            exprs.append(expr)
            if expr == "%s":
                params.append(value)
        else:
            exprs.append("%s")
            params.append(f.get_db_prep_save(value, conn))
    if step.kind == "insert":
        source = f" FROM {guard}" if guard else ""
        sql = (
            f"INSERT INTO {table} ({', '.join(names)}) SELECT {', '.join(exprs)}{source} RETURNING {table}.id"
        )
        return sql, params
    sets = ", ".join(f"{n} = {e}" for n, e in zip(names, exprs, strict=True))
    where = step.where + (f" AND EXISTS (SELECT 1 FROM {guard})" if guard else "")
    return f"UPDATE {table} SET {sets} WHERE {where} RETURNING {table}.id", params + list(step.where_params)


@lru_cache(maxsize=32)
def names_of(model: type[Model], vendor: str) -> tuple[str, dict[str, tuple[Any, str]]]:
    """The quoted table name and, by attname, each concrete field with its quoted column."""
    del vendor  # cache key only
    columns = {f.attname: (f, qn(f.column)) for f in model._meta.concrete_fields}
    return qn(model._meta.db_table), columns

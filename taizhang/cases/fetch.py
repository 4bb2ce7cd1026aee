"""The acting fetch: one statement reads a case for a transition with everything the rules need.

A transition needs the case, its division and lead unit, its party rows, the person's roles and, where
the transition must be taken by someone else than the last actor (`distinct_from`), who that was. The
ORM would take four statements and compile a nested visibility filter on every request; this module
writes the statement once per process (the SQL depends on the registry only; the person is a parameter)
and builds the objects from the row.

Visibility here is the same rule as `parties.build_visible_q` written as a correlated EXISTS over the
case's own party rows (an index lookup on `case_id`, however many cases the person reaches), joined to the
person's memberships in SQL rather than expanded from their grants in Python, so that the roles loaded in
the same statement and the filter can never disagree. `tests/cases/test_acting_fetch.py` holds the two
rules side by side for every persona and case.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from django.db import connection
from django.db.models import Model

from taizhang.mechanisms.registry import get_registry
from taizhang.org.models import Division, Membership, Unit, User
from taizhang.org.parties import PartyNode
from taizhang.org.scopes import Grant

from .models import Case, CaseParty, Transition
from .parties import closed_places

# Division's geometry can be large and no rule reads it: it is left deferred.
DIVISION_FIELDS = [f for f in Division._meta.concrete_fields if f.attname != "geometry"]
UNIT_FIELDS = list(Unit._meta.concrete_fields)
CASE_FIELDS = list(Case._meta.concrete_fields)


def q(name: str) -> str:
    return connection.ops.quote_name(name)


def table(model: type[Model]) -> str:
    return q(model._meta.db_table)


def json_row(alias: str, fields: list) -> str:
    """An SQL expression for one row's columns as a JSON array (NULL columns stay null)."""
    cols = ", ".join(f"{alias}.{q(f.column)}" for f in fields)
    return f"json_build_array({cols})" if connection.vendor == "postgresql" else f"json_array({cols})"


def json_agg(expr: str, order: str, source: str) -> str:
    """A correlated subquery: the JSON array of `expr` over `source` in `order` (text on both databases)."""
    if connection.vendor == "postgresql":
        return f"(SELECT json_agg({expr} ORDER BY {order})::text FROM {source})"
    return f"(SELECT json_group_array(json(x)) FROM (SELECT {expr} AS x FROM {source} ORDER BY {order}))"


def reaches_sql(node: str, membership: str) -> str:
    """The party row `node` lies at or below the node of `membership` (its division or its unit)."""
    md, mu = f"{membership}_d", f"{membership}_u"
    return (
        f"(({md}.id IS NOT NULL AND substr({node}.path, 1, length({md}.path) + 1) = 'd' || {md}.path)"
        f" OR ({mu}.id IS NOT NULL AND substr({node}.path, 1, length({mu}.path) + 1) = 'u' || {mu}.path))"
    )


def visibility_sql() -> tuple[str, int]:
    """The WHERE fragment over alias `c` for a person who does not read everything, and how many times it
    takes the person's id as a parameter. Kept on the registry (a reload of the mechanisms builds it anew)."""
    registry = get_registry()
    kept = registry.__dict__.setdefault("_visibility_sql", {})
    if connection.vendor not in kept:
        kept[connection.vendor] = build_visibility_sql(registry)
    return kept[connection.vendor]


def build_visibility_sql(registry) -> tuple[str, int]:
    everything = sorted(code for code, r in registry.roles.items() if r.reads_everything)
    closed = sorted(f"{role} {mech}" for role, mechs in closed_places().items() for mech in mechs)
    member = (
        f"{table(Membership)} m LEFT JOIN {table(Division)} m_d ON m_d.id = m.division_id "
        f"LEFT JOIN {table(Unit)} m_u ON m_u.id = m.unit_id"
    )
    not_closed = ""
    if closed:
        listed = ", ".join(quote_literal(x) for x in closed)
        not_closed = f" AND NOT (p.kind = 'place' AND (m.role || ' ' || c.mechanism) IN ({listed}))"
    parts = [
        "c.reporter_id = %s",
        f"EXISTS (SELECT 1 FROM {table(CaseParty)} p, {member} WHERE p.case_id = c.id AND m.user_id = %s"
        f" AND m.active AND {reaches_sql('p', 'm')}{not_closed})",
    ]
    if everything:
        listed = ", ".join(quote_literal(x) for x in everything)
        parts.append(
            f"EXISTS (SELECT 1 FROM {table(Membership)} e WHERE e.user_id = %s AND e.active"
            f" AND e.role IN ({listed}))"
        )
    return "(" + " OR ".join(parts) + ")", len(parts)


def quote_literal(value: str) -> str:
    """A string literal for codes read from the validated data files (letters, digits, _ . - and @)."""
    return "'" + value.replace("'", "''") + "'"


def grants_sql() -> str:
    """The person's active memberships with their nodes (the unit's division too), as JSON."""
    expr = (
        f"json_array(m.role, {json_row('m_d', DIVISION_FIELDS)}, {json_row('m_u', UNIT_FIELDS)}, "
        f"{json_row('m_ud', DIVISION_FIELDS)})"
    )
    if connection.vendor == "postgresql":
        expr = expr.replace("json_array(", "json_build_array(", 1)
    source = (
        f"{table(Membership)} m LEFT JOIN {table(Division)} m_d ON m_d.id = m.division_id "
        f"LEFT JOIN {table(Unit)} m_u ON m_u.id = m.unit_id "
        f"LEFT JOIN {table(Division)} m_ud ON m_ud.id = m_u.division_id "
        "WHERE m.user_id = %s AND m.active"
    )
    return json_agg(expr, "m.id", source)


def last_actor_sql(code: str) -> str | None:
    """Who took the transitions that `code` must be taken apart from (`distinct_from`), per mechanism:
    NULL where the case's mechanism names none."""
    arms = []
    for mech_code, mech in sorted(get_registry().mechanisms.items()):
        t = mech.transitions.get(code)
        if t is None or not t.distinct_from:
            continue
        codes = ", ".join(quote_literal(c) for c in t.distinct_from)
        arms.append(
            f"WHEN {quote_literal(mech_code)} THEN (SELECT t.actor_id FROM {table(Transition)} t "
            f"WHERE t.case_id = c.id AND t.code IN ({codes}) AND t.kind IN ('transition', 'approve') "
            "ORDER BY t.seq DESC LIMIT 1)"
        )
    return f"CASE c.mechanism {' '.join(arms)} END" if arms else None


def party_rows_sql() -> str:
    expr = "json_array(p.kind, p.path, p.division_id, p.unit_id, p.id)"
    if connection.vendor == "postgresql":
        expr = expr.replace("json_array(", "json_build_array(", 1)
    return json_agg(expr, "p.id", f"{table(CaseParty)} p WHERE p.case_id = c.id")


def statement(user: User, lookup: dict[str, Any], code: str | None) -> tuple[str, list[Any]]:
    """The SELECT for one case (by pk or number) as `user` may act on it, and its parameters."""
    key, value = next(iter(lookup.items()))
    with_grants = getattr(user, "_taizhang_grants", None) is None  # not loaded yet in this request
    filtered = not reads_everything(user)
    sql, visibility_params = statement_sql(key, with_grants, code, filtered)
    params: list[Any] = [user.pk] if with_grants else []
    params.append(value)
    params += [user.pk] * visibility_params
    return sql, params


def statement_sql(key: str, with_grants: bool, code: str | None, filtered: bool) -> tuple[str, int]:
    """The statement's text for one shape of request, written once and kept on the registry (its text
    depends on the mechanisms and roles), with how many times the visibility filter takes the person."""
    kept = get_registry().__dict__.setdefault("_acting_sql", {})
    shape = (connection.vendor, key, with_grants, code, filtered)
    if shape not in kept:
        columns = [f"c.{q(f.column)}" for f in CASE_FIELDS]
        columns += [f"d.{q(f.column)}" for f in DIVISION_FIELDS]
        columns += [f"u.{q(f.column)}" for f in UNIT_FIELDS]
        columns.append(party_rows_sql())
        columns.append(grants_sql() if with_grants else "NULL")
        columns.append((last_actor_sql(code) if code else None) or "NULL")
        where = f"c.{'id' if key == 'pk' else 'number'} = %s"
        count = 0
        if filtered:
            fragment, count = visibility_sql()
            where += f" AND {fragment}"
        sql = (
            f"SELECT {', '.join(columns)} FROM {table(Case)} c "
            f"JOIN {table(Division)} d ON d.id = c.division_id LEFT JOIN {table(Unit)} u ON u.id = c.unit_id "
            f"WHERE {where}"
        )
        kept[shape] = (sql, count)
    return kept[shape]


def reads_everything(user: User) -> bool:
    """Superusers pass without a filter; a `reads_everything` role is found by the SQL itself."""
    return bool(user.is_superuser)


def fetch_for_acting(user: User, lookup: dict[str, Any], code: str | None = None) -> Case | None:
    """The case as `get_case(user, id, "act")` returns it (division, unit and parties read, the person's
    grants kept on `user` when not yet loaded), with `last_actor` for transition `code`; None if unseen."""
    if user is None or not user.is_authenticated:
        return None
    sql, params = statement(user, lookup, code)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    if row is None:
        return None
    return build(user, row, code)


def build(user: User, row: tuple, code: str | None) -> Case:
    n_case, n_div, n_unit = len(CASE_FIELDS), len(DIVISION_FIELDS), len(UNIT_FIELDS)
    values = list(row[:n_case])
    for i, col, converters in case_converters(connection.vendor):
        if values[i] is not None:
            for converter in converters:
                values[i] = converter(values[i], col, connection)
    case = Case.from_db(connection.alias, [f.attname for f in CASE_FIELDS], values)
    division = node(Division, DIVISION_FIELDS, row[n_case : n_case + n_div])
    unit = node(Unit, UNIT_FIELDS, row[n_case + n_div : n_case + n_div + n_unit])
    case._state.fields_cache["division"] = division
    case._state.fields_cache["unit"] = unit
    parties_json, grants_json, last_actor = row[n_case + n_div + n_unit :]
    case._party_nodes = [
        PartyNode(kind, path, division_id, unit_id, pk)
        for kind, path, division_id, unit_id, pk in json.loads(parties_json or "[]")
    ]
    if code is not None:
        case._last_actor = (code, last_actor)
    if getattr(user, "_taizhang_grants", None) is None:
        user._taizhang_grants = grants_from(json.loads(grants_json or "[]"))
    return case


def grants_from(rows: list) -> list[Grant]:
    grants = []
    for role, div, unit, unit_div in rows:
        unit_obj = node(Unit, UNIT_FIELDS, unit)
        if unit_obj is not None:
            unit_obj._state.fields_cache["division"] = node(Division, DIVISION_FIELDS, unit_div)
        grants.append(Grant(role, node(Division, DIVISION_FIELDS, div), unit_obj))
    return grants


def node(model: type[Model], fields: list, values) -> Any:
    """A Division or Unit from its columns (None for a LEFT JOIN that found nothing)."""
    if values is None or values[0] is None:
        return None
    converted = [f.to_python(v) if v is not None else None for f, v in zip(fields, values, strict=True)]
    return model.from_db(connection.alias, [f.attname for f in fields], converted)


@lru_cache(maxsize=2)
def case_converters(vendor: str) -> list[tuple[int, Any, list]]:
    """For each case column that needs them, the converters the ORM applies to its value (the backend's,
    then the field's own `from_db_value`), found once per process and database kind."""
    del vendor  # cache key only
    out = []
    for i, f in enumerate(CASE_FIELDS):
        col = f.get_col(Case._meta.db_table)
        found = connection.ops.get_db_converters(col) + col.get_db_converters(connection)
        if found:
            out.append((i, col, found))  # a converter may read its column (SQLite's decimals: the places)
    return out


def division_chain(user: User, code: str) -> tuple[Division | None, list[Division]]:
    """A division by code and the divisions above it, with the person's grants when not yet loaded, in one
    statement (a report needs all three)."""
    columns = ", ".join(f"a.{q(f.column)}" for f in DIVISION_FIELDS)
    load_grants = (
        user is not None and user.is_authenticated and getattr(user, "_taizhang_grants", None) is None
    )
    extra = f", {grants_sql()}" if load_grants else ""
    sql = (
        f"SELECT {columns}{extra} FROM {table(Division)} x JOIN {table(Division)} a "
        "ON substr(x.path, 1, length(a.path)) = a.path WHERE x.code = %s ORDER BY a.depth"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [user.pk, code] if load_grants else [code])
        rows = cursor.fetchall()
    n = len(DIVISION_FIELDS)
    chain = [node(Division, DIVISION_FIELDS, r[:n]) for r in rows]
    if load_grants and rows:
        user._taizhang_grants = grants_from(json.loads(rows[0][n] or "[]"))
    found = next((d for d in chain if d.code == code), None)
    return found, chain

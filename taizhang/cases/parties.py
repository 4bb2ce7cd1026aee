"""Keeping a case's parties (CaseParty rows) with its history, and the filters that follow them.

Every change of a party is also written in the history row of the transition that made it (`unit_id`,
`supervisor`, `enforcement_unit`, `co_units`), so the rows can be rebuilt from the history.
"""

from __future__ import annotations

import json
from datetime import datetime

from django.db import connection
from django.db.models import Prefetch, Q
from django.db.models.expressions import RawSQL

from taizhang.mechanisms.registry import Mechanism
from taizhang.org.models import Division, Unit, User
from taizhang.org.parties import CO, ENFORCEMENT, FORMER, LEAD, PLACE, SUPERVISOR, PartyNode, node_path
from taizhang.org.scopes import Acting, memo_on_user, reach_q, sees_everything

from .models import Case, CaseParty


def parties_of(case: Case) -> list[PartyNode]:
    """The case's parties (read with the case by `with_party_rows` or `with_parties`, else one query), kept."""
    cached = getattr(case, "_party_nodes", None)
    if cached is None:
        raw = case.__dict__.pop(PARTY_ROWS, None)
        if raw is not None:
            rows = json.loads(raw) if isinstance(raw, str) else raw
            cached = [PartyNode(kind, path, division, unit) for kind, path, division, unit in rows or []]
        else:
            cached = [PartyNode(p.kind, p.path, p.division_id, p.unit_id) for p in case.parties.all()]
        case._party_nodes = cached
    return cached


def with_parties():
    """The prefetch of a case's party rows with their nodes' names (one query for a page of cases)."""
    return Prefetch("parties", queryset=CaseParty.objects.select_related("division", "unit").order_by("pk"))


def party_names(case: Case, kind: str) -> list[str]:
    """The names of a case's parties of one kind (from `with_parties`)."""
    return [str(p.division or p.unit) for p in case.parties.all() if p.kind == kind]


PARTY_ROWS = "party_rows"


def with_party_rows(qs):
    """The cases with their party rows as one JSON column (`parties_of` reads it): a correlated
    subquery in the same statement, where a prefetch would be a second query per fetch."""
    table = connection.ops.quote_name(CaseParty._meta.db_table)
    outer = f"{connection.ops.quote_name(Case._meta.db_table)}.{connection.ops.quote_name('id')}"
    columns = "p.kind, p.path, p.division_id, p.unit_id"
    if connection.vendor == "postgresql":
        agg = f"SELECT json_agg(json_build_array({columns}) ORDER BY p.id)::text FROM {table} p"
        sql = f"({agg} WHERE p.case_id = {outer})"
    else:  # SQLite: json_group_array keeps the order of the inner query
        inner = f"SELECT {columns} FROM {table} p WHERE p.case_id = {outer} ORDER BY p.id"
        sql = f"(SELECT json_group_array(json_array(kind, path, division_id, unit_id)) FROM ({inner}))"
    return qs.annotate(**{PARTY_ROWS: RawSQL(sql, ())})


def forget_parties(case: Case) -> None:
    case.__dict__.pop("_party_nodes", None)
    case.__dict__.pop(PARTY_ROWS, None)
    prefetched = getattr(case, "_prefetched_objects_cache", {})
    prefetched.pop("parties", None)


def visible_q(user: User) -> Q | None:
    """Cases the person may see: their parties reached by the person's nodes, and their own reports.

    None: everything (an inspector, an administrator). One semi-join over the party rows' path index.
    """
    if user is None or not user.is_authenticated:
        return Q(pk__in=[])
    return memo_on_user(user, "_taizhang_visible_q", lambda: build_visible_q(user))


def build_visible_q(user: User) -> Q | None:
    if sees_everything(user):
        return None
    rows = CaseParty.objects.filter(reach_q(user, closed_places()))
    return Q(reporter=user) | Q(pk__in=rows.values("case_id"))


def closed_places() -> dict[str, list[str]]:
    """{role: mechanisms whose cases the role does not read through their place} (`place_readers`)."""
    from taizhang.mechanisms.registry import get_registry

    registry = get_registry()
    out: dict[str, list[str]] = {}
    for code, mech in sorted(registry.mechanisms.items()):
        readers = mech.definition.parties.place_readers
        if readers is not None:
            for role in registry.roles:
                if role not in readers:
                    out.setdefault(role, []).append(code)
    return out


def row(case: Case, kind: str, now: datetime, division: Division | None = None, unit: Unit | None = None):
    return CaseParty(
        case=case, kind=kind, division=division, unit=unit, path=node_path(division, unit), since=now
    )


def level_division(
    division: Division, level: str | None, chain: list[Division] | None = None
) -> Division | None:
    """The division at `level` above (or at) `division`; the division itself when it lies above the level.

    `chain`: the division's ancestors and itself when the caller has them (no query then).
    """
    if level is None:
        return None
    if division.level == level:
        return division
    if chain is None:
        chain = list(Division.objects.filter(code__in=division.ancestor_codes(), level=level))
    found = [d for d in chain if d.level == level]
    return max(found, key=lambda d: d.depth) if found else division


def initial_rows(case: Case, now: datetime, body: Division | None) -> list[CaseParty]:
    """A new case's place, its unit (a self-check report is its unit's case) and the supervising body
    `body` (`level_division` of the mechanism's supervisor level) until somebody hands it over."""
    rows = [row(case, PLACE, now, division=case.division)]
    if case.unit is not None:
        rows.append(row(case, LEAD, now, unit=case.unit))
    if body is not None:
        rows.append(row(case, SUPERVISOR, now, division=body))
    return rows


def add_initial_parties(
    case: Case, mech: Mechanism, now: datetime, chain: list[Division] | None = None
) -> None:
    """Write `initial_rows` of a case just inserted (`chain`: its division's ancestors, when known)."""
    body = level_division(case.division, mech.definition.parties.supervisor_level, chain)
    CaseParty.objects.bulk_create(initial_rows(case, now, body))
    forget_parties(case)


def node_code(node: Division | Unit | None) -> str | None:
    return node.code if node is not None else None


def hand_over(case: Case, lead: Unit | None, acting: Acting | None, now: datetime) -> dict[str, list]:
    """A new lead unit (or none, 退回): the one before becomes an earlier lead, and the body the person
    acted through becomes the supervising body. Returns the changes for the history row.

    Decided on the parties read with the case (the case row's compare-and-swap guards them): at most one
    UPDATE to earlier parties and one INSERT of new rows.
    """
    changes: dict[str, list] = {}
    nodes = parties_of(case)
    demote = Q(kind=LEAD) if lead is None else Q(kind=LEAD) & ~Q(unit=lead)
    must_demote = any(p.kind == LEAD and (lead is None or p.unit_id != lead.pk) for p in nodes)
    new_rows = []
    if lead is not None and not any(p.kind == LEAD and p.unit_id == lead.pk for p in nodes):
        new_rows.append(row(case, LEAD, now, unit=lead))
    node = acting.node if acting is not None else None
    if isinstance(node, Unit) and lead is not None and related(node_path_of(node), node_path(unit=lead)):
        node = None  # a unit handing work to itself or its own workshop does not become its supervisor
    if lead is not None and node is not None:
        before = next((p for p in nodes if p.kind == SUPERVISOR), None)
        if before is None or before.path != node_path_of(node):
            demote |= Q(kind=SUPERVISOR)
            must_demote = must_demote or before is not None
            new_rows.append(row(case, SUPERVISOR, now, **node_kwargs(node)))
            changes["supervisor"] = [code_of(before), node.code]
    if must_demote:
        CaseParty.objects.filter(demote, case=case).update(kind=FORMER)
    if new_rows:
        CaseParty.objects.bulk_create(new_rows)
    forget_parties(case)
    return changes


def related(a: str, b: str) -> bool:
    """Whether two nodes' keys are the same node or one lies below the other."""
    return a.startswith(b) or b.startswith(a)


def code_of(party: PartyNode | None) -> str | None:
    """The code of a party's node: the last segment of its path ("d/CZS/LZQ/" -> "LZQ")."""
    return party.path.rstrip("/").rsplit("/", 1)[-1] if party is not None else None


def join_enforcement(case: Case, unit: Unit, now: datetime) -> dict[str, list]:
    """联合执法: the enforcement unit joins; an earlier enforcement unit keeps read access only."""
    before = [p for p in parties_of(case) if p.kind == ENFORCEMENT]
    if any(p.unit_id == unit.pk for p in before):
        return {}
    if before:
        CaseParty.objects.filter(case=case, kind=ENFORCEMENT).update(kind=FORMER)
    CaseParty.objects.create(case=case, kind=ENFORCEMENT, unit=unit, path=node_path(unit=unit), since=now)
    forget_parties(case)
    return {"enforcement_unit": [code_of(before[-1]) if before else None, unit.code]}


def end_enforcement(case: Case) -> dict[str, list]:
    """执法完成: the enforcement unit becomes an earlier party (it reads the case, it no longer acts)."""
    before = [p for p in parties_of(case) if p.kind == ENFORCEMENT]
    if not before:
        return {}
    CaseParty.objects.filter(case=case, kind=ENFORCEMENT).update(kind=FORMER)
    forget_parties(case)
    return {"enforcement_unit": [code_of(before[-1]), None]}


def set_co_parties(case: Case, units: list[Unit], now: datetime) -> None:
    """协办 units as parties: those dropped keep read access as earlier units."""
    keep = {u.pk for u in units}
    have = {p.unit_id for p in parties_of(case) if p.kind == CO}
    if have - keep:
        CaseParty.objects.filter(case=case, kind=CO).exclude(unit_id__in=keep).update(kind=FORMER)
    fresh = [row(case, CO, now, unit=u) for u in units if u.pk not in have]
    if fresh:
        CaseParty.objects.bulk_create(fresh)
    forget_parties(case)


def node_path_of(node: Division | Unit) -> str:
    return node_path(**node_kwargs(node))


def node_kwargs(node: Division | Unit) -> dict:
    return {"division": node} if isinstance(node, Division) else {"unit": node}


def one_level_above(unit: Unit, candidate: Unit) -> bool:
    """Whether `candidate` is the body one level above `unit` (复查 by the 上一级行政机关 of the body that
    decided): its parent unit when the org tree names one (区应急管理局 under 区人民政府), else a department
    of the division above the unit's division."""
    if unit.parent_id is not None:
        return candidate.pk == unit.parent_id
    parent_division = unit.division.parent_id
    return (
        parent_division is not None
        and candidate.division_id == parent_division
        and candidate.kind == Unit.Kind.DEPARTMENT
    )

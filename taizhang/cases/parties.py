"""Keeping a case's parties (CaseParty rows) with its history, and the filters that follow them.

Every change of a party is also written in the history row of the transition that made it (`unit_id`,
`supervisor`, `enforcement_unit`, `co_units`), so the rows can be rebuilt from the history.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime

from django.db.models import Exists, OuterRef, Prefetch, Q

from taizhang.mechanisms.registry import Mechanism
from taizhang.org.models import Division, Unit, User
from taizhang.org.parties import CO, ENFORCEMENT, FORMER, LEAD, PLACE, SUPERVISOR, PartyNode, node_path
from taizhang.org.scopes import Acting, memo_on_user, reach_q, sees_everything

from .models import Case, CaseParty


def parties_of(case: Case) -> list[PartyNode]:
    """The case's parties (read with the case by the acting fetch or `with_parties`, else one query), kept
    on the case with the changes this operation queued (`PartyWrites`)."""
    cached = getattr(case, "_party_nodes", None)
    if cached is None:
        cached = [PartyNode(p.kind, p.path, p.division_id, p.unit_id, p.pk) for p in case.parties.all()]
        case._party_nodes = cached
    return cached


def with_parties():
    """The prefetch of a case's party rows with their nodes' names (one query for a page of cases)."""
    return Prefetch("parties", queryset=CaseParty.objects.select_related("division", "unit").order_by("pk"))


def party_names(case: Case, kind: str) -> list[str]:
    """The names of a case's parties of one kind (from `with_parties`)."""
    return [str(p.division or p.unit) for p in case.parties.all() if p.kind == kind]


def forget_parties(case: Case) -> None:
    case.__dict__.pop("_party_nodes", None)
    prefetched = getattr(case, "_prefetched_objects_cache", {})
    prefetched.pop("parties", None)


@dataclass
class PartyWrites:
    """Party changes of one operation, written with its history row (`Recorder.commit`): rows that become
    earlier parties (by id) and new rows. The case's party list shows them at once, so that the next rule
    of the same operation sees what the previous one decided."""

    demoted: set[int] = field(default_factory=set)
    added: list[CaseParty] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.demoted or self.added)


def queued(case: Case) -> PartyWrites:
    """The party changes queued on the case (made on first use)."""
    writes = case.__dict__.get("_party_writes")
    if writes is None:
        writes = case.__dict__["_party_writes"] = PartyWrites()
    return writes


def add_party(case: Case, new: CaseParty) -> None:
    queued(case).added.append(new)
    parties_of(case).append(PartyNode(new.kind, new.path, new.division_id, new.unit_id))


def demote(case: Case, which) -> None:
    """Every party for which `which(node)` holds becomes an earlier party (FORMER)."""
    writes, nodes = queued(case), parties_of(case)
    for i, p in enumerate(nodes):
        if p.kind == FORMER or not which(p):
            continue
        if p.id is not None:
            writes.demoted.add(p.id)
        else:  # added by this operation and not written yet
            for new in writes.added:
                if new.kind == p.kind and new.path == p.path:
                    new.kind = FORMER
        nodes[i] = replace(p, kind=FORMER)


def take_writes(case: Case) -> PartyWrites:
    """The queued party changes, handed to the writer (and no longer queued)."""
    return case.__dict__.pop("_party_writes", None) or PartyWrites()


def written(case: Case, writes: PartyWrites, ids: list[int | None]) -> None:
    """After the write: the new rows' ids on the case's party list; a page's prefetch is stale."""
    by_key = {(new.kind, new.path): pk for new, pk in zip(writes.added, ids, strict=True)}
    nodes = parties_of(case)
    for i, p in enumerate(nodes):
        if p.id is None and (p.kind, p.path) in by_key:
            nodes[i] = replace(p, id=by_key[(p.kind, p.path)])
    getattr(case, "_prefetched_objects_cache", {}).pop("parties", None)


def visible_q(user: User, one: bool = False) -> Q | None:
    """Cases the person may see: their parties reached by the person's nodes, and their own reports.

    None: everything (an inspector, an administrator). For lists one semi-join over the party rows' path
    index; for one case (`one`) a correlated EXISTS over that case's own party rows (an index lookup by
    case, however many cases the person reaches).
    """
    if user is None or not user.is_authenticated:
        return Q(pk__in=[])
    name = "_taizhang_visible_one_q" if one else "_taizhang_visible_q"
    return memo_on_user(user, name, lambda: build_visible_q(user, one))


def build_visible_q(user: User, one: bool = False) -> Q | None:
    if sees_everything(user):
        return None
    rows = CaseParty.objects.filter(reach_q(user, closed_places()))
    if one:
        return Q(reporter=user) | Q(Exists(rows.filter(case_id=OuterRef("pk"))))
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
    """Queue `initial_rows` of a new case (`chain`: its division's ancestors, when known)."""
    body = level_division(case.division, mech.definition.parties.supervisor_level, chain)
    case._party_nodes = []
    for new in initial_rows(case, now, body):
        add_party(case, new)


def node_code(node: Division | Unit | None) -> str | None:
    return node.code if node is not None else None


def hand_over(case: Case, lead: Unit | None, acting: Acting | None, now: datetime) -> dict[str, list]:
    """A new lead unit (or none, 退回): the one before becomes an earlier lead, and the body the person
    acted through becomes the supervising body. Returns the changes for the history row.

    Decided on the parties read with the case (the case row's compare-and-swap guards them) and queued
    for the writer (`PartyWrites`).
    """
    changes: dict[str, list] = {}
    nodes = parties_of(case)
    new_lead = lead is not None and not any(p.kind == LEAD and p.unit_id == lead.pk for p in nodes)
    demote(case, lambda p: p.kind == LEAD and (lead is None or p.unit_id != lead.pk))
    if new_lead:
        add_party(case, row(case, LEAD, now, unit=lead))
    node = acting.node if acting is not None else None
    if isinstance(node, Unit) and lead is not None and related(node_path_of(node), node_path(unit=lead)):
        node = None  # a unit handing work to itself or its own workshop does not become its supervisor
    if lead is not None and node is not None:
        before = next((p for p in parties_of(case) if p.kind == SUPERVISOR), None)
        if before is None or before.path != node_path_of(node):
            demote(case, lambda p: p.kind == SUPERVISOR)
            add_party(case, row(case, SUPERVISOR, now, **node_kwargs(node)))
            changes["supervisor"] = [code_of(before), node.code]
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
    demote(case, lambda p: p.kind == ENFORCEMENT)
    add_party(case, row(case, ENFORCEMENT, now, unit=unit))
    return {"enforcement_unit": [code_of(before[-1]) if before else None, unit.code]}


def end_enforcement(case: Case) -> dict[str, list]:
    """执法完成: the enforcement unit becomes an earlier party (it reads the case, it no longer acts)."""
    before = [p for p in parties_of(case) if p.kind == ENFORCEMENT]
    if not before:
        return {}
    demote(case, lambda p: p.kind == ENFORCEMENT)
    return {"enforcement_unit": [code_of(before[-1]), None]}


def set_co_parties(case: Case, units: list[Unit], now: datetime) -> None:
    """协办 units as parties: those dropped keep read access as earlier units."""
    keep = {u.pk for u in units}
    have = {p.unit_id for p in parties_of(case) if p.kind == CO}
    demote(case, lambda p: p.kind == CO and p.unit_id not in keep)
    for u in units:
        if u.pk not in have:
            add_party(case, row(case, CO, now, unit=u))


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

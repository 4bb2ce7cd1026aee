"""Keeping a case's parties (CaseParty rows) with its history, and the filters that follow them.

Every change of a party is also written in the history row of the transition that made it (`unit_id`,
`supervisor`, `enforcement_unit`, `co_units`), so the rows can be rebuilt from the history.
"""

from __future__ import annotations

from datetime import datetime

from django.db.models import Prefetch, Q

from taizhang.mechanisms.registry import Mechanism
from taizhang.org.models import Division, Unit, User
from taizhang.org.parties import CO, ENFORCEMENT, FORMER, LEAD, PLACE, SUPERVISOR, PartyNode, node_path
from taizhang.org.scopes import Acting, reach_q, sees_everything

from .models import Case, CaseParty


def parties_of(case: Case) -> list[PartyNode]:
    """The case's parties (from a prefetch of `parties` when there is one; else one query, kept)."""
    cached = getattr(case, "_party_nodes", None)
    if cached is None:
        cached = [PartyNode(p.kind, p.path, p.division_id, p.unit_id) for p in case.parties.all()]
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


def visible_q(user: User) -> Q | None:
    """Cases the person may see: their parties reached by the person's nodes, and their own reports.

    None: everything (an inspector, an administrator). One semi-join over the party rows' path index.
    """
    if user is None or not user.is_authenticated:
        return Q(pk__in=[])
    if sees_everything(user):
        return None
    return Q(reporter=user) | Q(pk__in=CaseParty.objects.filter(reach_q(user)).values("case_id"))


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
    acted through becomes the supervising body. Returns the changes for the history row."""
    changes: dict[str, list] = {}
    leads = CaseParty.objects.filter(case=case, kind=LEAD)
    if lead is not None:
        leads = leads.exclude(unit=lead)
    leads.update(kind=FORMER)
    new_rows = []
    if lead is not None and not CaseParty.objects.filter(case=case, kind=LEAD, unit=lead).exists():
        new_rows.append(row(case, LEAD, now, unit=lead))
    node = acting.node if acting is not None else None
    if lead is not None and node is not None:
        before = (
            CaseParty.objects.filter(case=case, kind=SUPERVISOR).select_related("division", "unit").first()
        )
        old = node_code(before.division or before.unit) if before else None
        if before is None or before.path != node_path_of(node):
            CaseParty.objects.filter(case=case, kind=SUPERVISOR).update(kind=FORMER)
            new_rows.append(row(case, SUPERVISOR, now, **node_kwargs(node)))
            changes["supervisor"] = [old, node.code]
    CaseParty.objects.bulk_create(new_rows)
    forget_parties(case)
    return changes


def join_enforcement(case: Case, unit: Unit, now: datetime) -> dict[str, list]:
    """联合执法: the enforcement unit joins; an earlier enforcement unit keeps read access only."""
    before = list(CaseParty.objects.filter(case=case, kind=ENFORCEMENT).select_related("unit"))
    if any(p.unit_id == unit.pk for p in before):
        return {}
    CaseParty.objects.filter(case=case, kind=ENFORCEMENT).update(kind=FORMER)
    CaseParty.objects.create(case=case, kind=ENFORCEMENT, unit=unit, path=node_path(unit=unit), since=now)
    forget_parties(case)
    return {"enforcement_unit": [before[-1].unit.code if before else None, unit.code]}


def set_co_parties(case: Case, units: list[Unit], now: datetime) -> None:
    """协办 units as parties: those dropped keep read access as earlier units."""
    keep = {u.pk for u in units}
    CaseParty.objects.filter(case=case, kind=CO).exclude(unit_id__in=keep).update(kind=FORMER)
    have = set(CaseParty.objects.filter(case=case, kind=CO).values_list("unit_id", flat=True))
    CaseParty.objects.bulk_create([row(case, CO, now, unit=u) for u in units if u.pk not in have])
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

"""What a person's roles reach: the basis of every `for_user` queryset and of who may act on a case.

A role held on a division reaches the division's subtree; on a unit, the unit and the units below; a
role held on nothing (a resident) only what the person reported; a `reads_everything` role (纪委监督)
every case. Which party of a case a transition names decides who may take it (`verifier@supervisor`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Q

from .models import Division, Membership, Unit, User
from .parties import LEAD, PLACE, SUPERVISOR, WORKING_PARTIES, PartyNode, node_path
from .roles import REPORTER, SYSTEM, role_def


@dataclass(frozen=True)
class Grant:
    """One active role of a person, on a division subtree, a unit subtree, or nothing (a resident)."""

    role: str
    division: Division | None
    unit: Unit | None

    @property
    def path(self) -> str:
        """The party-row key of the node ("" for a role held on nothing)."""
        if self.division is None and self.unit is None:
            return ""
        return node_path(self.division, self.unit)

    def reaches(self, party: PartyNode) -> bool:
        """Whether the node is the party's node or above it (a division's roles act for the division: a
        department located there is a unit of its own, not the division's body)."""
        path = self.path
        return bool(path) and party.path.startswith(path)

    def works_on(self, parties: list[PartyNode]) -> bool:
        """Whether the node is (above or below) a unit doing the work: it may not supervise that work."""
        if self.unit is None:
            return False
        mine = node_path(unit=self.unit)
        return any(
            p.kind in WORKING_PARTIES and (p.path.startswith(mine) or mine.startswith(p.path))
            for p in parties
        )


def grants_of(user: User) -> list[Grant]:
    """The person's active roles, loaded once per user object (one query)."""
    cached = getattr(user, "_taizhang_grants", None)
    if cached is not None:
        return cached
    grants: list[Grant] = []
    if user is not None and user.is_authenticated:
        rows = Membership.objects.filter(user=user, active=True).select_related("division", "unit__division")
        grants = [Grant(m.role, m.division, m.unit) for m in rows]
    user._taizhang_grants = grants
    return grants


# What is derived from a person's roles and kept on the user object with them (one request's life):
# the visibility and to-do filters are built once, not again for every case a request fetches.
DERIVED = ("_taizhang_visible_q", "_taizhang_visible_one_q", "_taizhang_todo_q")


def forget_grants(user: User) -> None:
    """Drop the cached roles (and the filters built from them) after memberships change."""
    for name in ("_taizhang_grants", *DERIVED):
        user.__dict__.pop(name, None)


def memo_on_user(user: User, name: str, build):
    """`build()` once per user object (per request), kept beside the grants it derives from: it is built
    again whenever the grants list is another one (reloaded, or set by hand as the monthly report does)."""
    if user is None:
        return build()
    grants = grants_of(user)
    kept = user.__dict__.get(name)
    if kept is None or kept[0] is not grants:
        kept = (grants, build())
        user.__dict__[name] = kept
    return kept[1]


def flag(role: str, name: str) -> bool:
    """A flag of a role's definition (False for a role no file declares any more)."""
    found = role_def(role)
    return bool(found is not None and getattr(found, name))


def self_only(role: str) -> bool:
    """A role that acts only for the person themself (居民): not a post of staff."""
    return flag(role, "acts_for_self_only")


def staff_roles(user: User) -> set[str]:
    """The person's roles that are posts of staff (every role but those acting for the person only)."""
    return {g.role for g in grants_of(user) if not self_only(g.role)}


def sees_everything(user: User) -> bool:
    """Superusers and `reads_everything` roles (纪委监督) read every case."""
    if user is None or not user.is_authenticated:
        return False
    return bool(user.is_superuser) or any(flag(g.role, "reads_everything") for g in grants_of(user))


def reach_q(user: User, closed_places: dict[str, list[str]] | None = None) -> Q:
    """A filter over party rows (CaseParty) that the person's nodes reach (nothing for no node).

    `closed_places`: {role: mechanisms whose cases that role does not read through their place}.
    """
    q = Q(pk__in=[])
    for grant in grants_of(user):
        rows = grant_party_q(grant)
        closed = (closed_places or {}).get(grant.role)
        if closed:
            rows &= ~Q(kind=PLACE, case__mechanism__in=closed)
        q |= rows
    return q


def grant_party_q(grant: Grant, kind: str | None = None) -> Q:
    """Party rows one grant reaches, of one kind or any: a prefix of the node's key."""
    if not grant.path:
        return Q(pk__in=[])
    q = Q(path__startswith=grant.path)
    return q & Q(kind=kind) if kind is not None else q


def default_party(grant: Grant) -> str:
    """The party a bare role acts on: the case's place for a division role, its lead unit for a unit role."""
    return PLACE if grant.division is not None else LEAD


@dataclass(frozen=True)
class Acting:
    """How a person may take a transition: the role spec matched and the node they act through."""

    spec: str
    grant: Grant | None

    @property
    def node(self) -> Division | Unit | None:
        if self.grant is None:
            return None
        return self.grant.division or self.grant.unit


def match_spec(
    user: User,
    spec: str,
    parties: list[PartyNode],
    reporter_id: int | None,
    place_readers: list[str] | None = None,
) -> Acting | None:
    """Whether the person holds a role spec (`verifier@supervisor`, `handler`, `reporter`) over a case
    with these parties; nobody who holds any post in a unit doing the work (above or below it) acts for the
    supervising body, whatever other post they hold."""
    if user is None or not user.is_authenticated:
        return None
    role, _sep, party = spec.partition("@")
    if role == REPORTER:
        return Acting(spec, None) if reporter_id is not None and reporter_id == user.pk else None
    if role == SYSTEM:
        return None
    for grant in grants_of(user):
        if grant.role != role:
            continue
        if flag(role, "reads_everything"):
            return Acting(spec, grant)  # may act anywhere, but the mechanism lets it only flag and urge
        if flag(role, "acts_for_self_only"):
            if reporter_id is not None and reporter_id == user.pk:
                return Acting(spec, grant)
            continue
        kind = party or default_party(grant)
        if kind == PLACE and place_readers is not None and role not in place_readers:
            continue
        if any(p.kind == kind and grant.reaches(p) for p in parties):
            if kind == SUPERVISOR and any(g.works_on(parties) for g in grants_of(user)):
                return None
            return Acting(spec, grant)
    return None


def unit_lines(user: User) -> list[str]:
    """The party keys of every unit the person holds a post in, and of the units above each: a case with a
    working party among them is one the person may not supervise."""
    keys: set[str] = set()
    for grant in grants_of(user):
        if grant.unit is not None:
            codes = grant.unit.ancestor_codes()
            keys.update("u/" + "/".join(codes[: i + 1]) + "/" for i in range(len(codes)))
    return sorted(keys)


def pick_acting(
    user: User,
    specs: list[str],
    parties: list[PartyNode],
    reporter_id: int | None,
    place_readers: list[str] | None = None,
) -> Acting | None:
    """The first spec (in the mechanism's order) the person holds over the case."""
    for spec in specs:
        found = match_spec(user, spec, parties, reporter_id, place_readers)
        if found is not None:
            return found
    return None


def case_roles(user: User, parties: list[PartyNode], reporter_id: int | None) -> set[str]:
    """The role codes the person holds over a case through any of its acting parties (and `reporter`)."""
    held: set[str] = set()
    if user is None or not user.is_authenticated:
        return held
    if reporter_id is not None and reporter_id == user.pk:
        held.add(REPORTER)
    for grant in grants_of(user):
        if flag(grant.role, "reads_everything"):
            held.add(grant.role)
        elif flag(grant.role, "acts_for_self_only"):
            if REPORTER in held:
                held.add(grant.role)
        elif any(grant.reaches(p) for p in parties if p.kind != "former"):
            held.add(grant.role)
    return held


def reaches_any(user: User, parties: list[PartyNode]) -> bool:
    """Whether a staff post of the person reaches any party of a case, an earlier lead included."""
    return any(
        grant.reaches(p)
        for grant in grants_of(user)
        if grant.path and not self_only(grant.role)
        for p in parties
    )


def roles_over(
    user: User, division: Division | None, unit: Unit | None = None, reporter_id: Any = None
) -> set[str]:
    """The roles a person holds at a place (a division, or a unit): where they may report, hold an
    Open311 key or receive a case."""
    parties = []
    if division is not None:
        parties.append(PartyNode(PLACE, node_path(division=division), division_id=division.pk))
    if unit is not None:
        parties.append(PartyNode(LEAD, node_path(unit=unit), unit_id=unit.pk))
    return case_roles(user, parties, reporter_id)


def visible_nodes(user):
    """Divisions and units within the person's roles (everything for inspectors and administrators)."""
    divisions, units = Division.objects.all(), Unit.objects.all()
    if not sees_everything(user):
        div_q, unit_q = Q(pk__in=[]), Q(pk__in=[])
        for g in grants_of(user):
            if g.division is not None:
                div_q |= Q(path__startswith=g.division.path)
                unit_q |= Q(division__path__startswith=g.division.path)
            if g.unit is not None:
                unit_q |= Q(path__startswith=g.unit.path)
        divisions, units = divisions.filter(div_q), units.filter(unit_q)
    return divisions.order_by("path"), units.order_by("path")

"""What part of the org tree a person's roles reach: the basis of every `for_user` queryset."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q

from .models import Division, Membership, Unit, User
from .roles import Role


@dataclass(frozen=True)
class Grant:
    """One active role of a person, on a division subtree, a unit subtree, or nothing (a resident)."""

    role: str
    division: Division | None
    unit: Unit | None


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


def forget_grants(user: User) -> None:
    """Drop the cached roles after memberships change."""
    user.__dict__.pop("_taizhang_grants", None)


def sees_everything(user: User) -> bool:
    """Superusers and discipline inspectors read every case."""
    return bool(user.is_superuser) or any(g.role == Role.INSPECTOR for g in grants_of(user))


def scope_q(user: User, division_field: str, unit_field: str, reporter_field: str | None) -> Q:
    """A filter for rows a person may see, given the names of the row's division, unit and reporter fields.

    A division role reaches the division's subtree, a unit role the unit and the units below it, and
    everybody sees what they reported. An anonymous user reaches nothing.
    """
    if user is None or not user.is_authenticated:
        return Q(pk__in=[])
    if sees_everything(user):
        return Q()
    q = Q(pk__in=[])
    if reporter_field:
        q |= Q(**{reporter_field: user})
    for grant in grants_of(user):
        if grant.division is not None:
            q |= Q(**{f"{division_field}__path__startswith": grant.division.path})
        if grant.unit is not None:
            q |= Q(**{f"{unit_field}__path__startswith": grant.unit.path})
    return q


def assisting_unit_paths(user: User) -> list[str]:
    """Paths of the units where the person holds a unit role (for cases those units assist on)."""
    if user is None or not user.is_authenticated or sees_everything(user):
        return []
    return [g.unit.path for g in grants_of(user) if g.unit is not None]


def roles_over(
    user: User,
    division: Division | None,
    unit: Unit | None,
    reporter_id: int | None,
    co_units: list[Unit] | tuple = (),
) -> set[str]:
    """The roles with which a person may act on something at this division and unit.

    A handler of an assisting (协办) unit acts as `co_handler`, not as the lead unit's handler.
    """
    from .roles import CO_HANDLER, REPORTER

    roles: set[str] = set()
    if user is None or not user.is_authenticated:
        return roles
    if reporter_id is not None and reporter_id == user.pk:
        roles.add(REPORTER)
    for grant in grants_of(user):
        if grant.role == Role.INSPECTOR:
            roles.add(grant.role)  # inspectors act anywhere, but mechanisms let them only flag and urge
        elif grant.division is not None and grant.division.contains(division):
            roles.add(grant.role)
        elif grant.unit is not None and grant.unit.contains(unit):
            roles.add(grant.role)
        elif grant.role == Role.RESIDENT and reporter_id == user.pk:
            roles.add(grant.role)
        elif (
            grant.role == Role.HANDLER
            and grant.unit is not None
            and any(grant.unit.contains(c) for c in co_units)
        ):
            roles.add(CO_HANDLER)
    return roles


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

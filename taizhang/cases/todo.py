"""What waits for a person: the cases where one of their roles may move the case on.

A to-do is a transition that changes the state (催办, 标记 and 延期 keep it and are not work waiting)
and that the mechanism says the state waits for from the role (`waiting_for`: a leader may 立案 too,
but the case waits for the dispatcher), or an approval the person may give. The filter is pure SQL so it counts a million cases cheaply;
per-case conditions (`only_if`, `distinct_from`, deadlines) are left to the case page, which shows
exactly what the person may do.
"""

from __future__ import annotations

from collections import defaultdict

from django.db.models import Exists, OuterRef, Q

from taizhang.mechanisms.registry import get_registry
from taizhang.org.models import User
from taizhang.org.roles import CO_HANDLER, REPORTER, Role
from taizhang.org.scopes import grants_of, sees_everything

from .models import Case


def states_by_role() -> dict[str, dict[str, set[str]]]:
    """{role: {mechanism: states where the role has a state-changing transition}}."""
    out: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for mech in get_registry().mechanisms.values():
        for t in mech.transitions.values():
            if t.to is None:
                continue
            for role in t.roles if t.waiting_for is None else t.waiting_for:
                out[role][mech.code].update(t.from_)
    return out


def approvals_by_role() -> dict[str, set[str]]:
    """{role: transition codes whose pending request the role approves}."""
    out: dict[str, set[str]] = defaultdict(set)
    for mech in get_registry().mechanisms.values():
        for t in mech.transitions.values():
            if t.approval:
                for role in t.approval.roles:
                    out[role].add(t.code)
    return out


def in_states(states: dict[str, set[str]]) -> Q:
    q = Q(pk__in=[])
    for mechanism, codes in states.items():
        q |= Q(mechanism=mechanism, state__in=sorted(codes))
    return q


def todo_q(user: User) -> Q:
    """Cases waiting for the person's action (combine with `Case.objects.for_user(user, "act")`)."""
    if user is None or not user.is_authenticated:
        return Q(pk__in=[])
    by_role = states_by_role()
    approvals = approvals_by_role()
    q = Q(pk__in=[])
    if REPORTER in by_role:
        q |= Q(reporter=user) & in_states(by_role[REPORTER])
    everywhere = sees_everything(user)
    for grant in grants_of(user):
        if grant.role == Role.INSPECTOR:
            scope = Q()
        elif grant.division is not None:
            scope = Q(division__path__startswith=grant.division.path)
        elif grant.unit is not None:
            scope = Q(unit__path__startswith=grant.unit.path)
        elif grant.role == Role.RESIDENT:
            scope = Q(reporter=user)
        else:
            continue
        work = in_states(by_role.get(grant.role, {}))
        codes = approvals.get(grant.role)
        if codes:
            work |= Q(pending__code__in=sorted(codes)) & ~Q(pending__by=user.pk)
        q |= scope & work
        if grant.role == Role.HANDLER and grant.unit is not None and CO_HANDLER in by_role:
            assisting = Case.co_units.through.objects.filter(
                unit__path__startswith=grant.unit.path, case_id=OuterRef("pk")
            )
            q |= Exists(assisting) & in_states(by_role[CO_HANDLER])
    if everywhere and user.is_superuser and not grants_of(user):
        return Q(pk__in=[])  # an administrator without roles has no case work
    return q & ~Q(state_kind="closed")

"""What waits for a person: the cases where one of their roles may move the case on.

A to-do is a transition that changes the state (催办, 标记 and 延期 keep it and are not work waiting)
and that the mechanism says the state waits for from the role (`waiting_for`: a leader may 立案 too,
but the case waits for the dispatcher), or an approval the person may give. The filter is pure SQL so it counts a million cases cheaply;
per-case conditions (`only_if`, `distinct_from`, deadlines) are left to the case page, which shows
exactly what the person may do.
"""

from __future__ import annotations

from collections import defaultdict

from django.db.models import Q

from taizhang.mechanisms.registry import get_registry
from taizhang.mechanisms.roles import split_spec
from taizhang.org.models import User
from taizhang.org.parties import SUPERVISOR, WORKING_PARTIES, node_path
from taizhang.org.roles import REPORTER
from taizhang.org.scopes import Grant, default_party, flag, grant_party_q, grants_of, memo_on_user, unit_lines

from .models import CaseParty


def states_by_role() -> dict[tuple[str, str | None], dict[str, set[str]]]:
    """{(role, party): {mechanism: states where the role has a state-changing transition}}."""
    out: dict[tuple[str, str | None], dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for mech in get_registry().mechanisms.values():
        for t in mech.transitions.values():
            if not t.moves:
                continue
            for spec in t.roles if t.waiting_for is None else t.waiting_for:
                out[split_spec(spec)][mech.code].update(t.from_)
    return out


def approvals_by_role() -> dict[tuple[str, str | None], dict[str, set[str]]]:
    """{(role, party): {mechanism: transition codes whose pending request the role approves}} (two
    mechanisms may both call a transition `extend` and have different approvers)."""
    out: dict[tuple[str, str | None], dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for mech in get_registry().mechanisms.values():
        for t in mech.transitions.values():
            if t.approval:
                for spec in t.approval.roles:
                    out[split_spec(spec)][mech.code].add(t.code)
    return out


def in_states(states: dict[str, set[str]]) -> Q:
    q = Q(pk__in=[])
    for mechanism, codes in states.items():
        q |= Q(mechanism=mechanism, state__in=sorted(codes))
    return q


def party_scope(user: User, grant: Grant, party: str | None) -> Q:
    """Cases where the grant holds its role over `party` (a bare role: the default party of the node).

    The SQL twin of `match_spec`: nobody with a post in a unit doing the work (or above or below it)
    acts for the supervising body.
    """
    kind = party or default_party(grant)
    q = Q(pk__in=CaseParty.objects.filter(grant_party_q(grant, kind)).values("case_id"))
    if kind == SUPERVISOR:
        conflict = Q(pk__in=[])
        for grant_unit in (g.unit for g in grants_of(user) if g.unit is not None):
            conflict |= Q(path__startswith=node_path(unit=grant_unit))
        lines = unit_lines(user)
        if lines:
            conflict |= Q(path__in=lines)
        working = CaseParty.objects.filter(conflict, kind__in=WORKING_PARTIES)
        q &= ~Q(pk__in=working.values("case_id"))
    return q


def todo_q(user: User) -> Q:
    """Cases waiting for the person's action (combine with `Case.objects.for_user(user, "act")`)."""
    if user is None or not user.is_authenticated:
        return Q(pk__in=[])
    return memo_on_user(user, "_taizhang_todo_q", lambda: build_todo_q(user))


def build_todo_q(user: User) -> Q:
    by_role = states_by_role()
    approvals = approvals_by_role()
    q = Q(pk__in=[])
    if (REPORTER, None) in by_role:
        q |= Q(reporter=user) & in_states(by_role[(REPORTER, None)])
    grants = grants_of(user)
    for grant in grants:
        keys = {key for key in [*by_role, *approvals] if key[0] == grant.role}
        for key in keys:
            work = in_states(by_role.get(key, {}))
            for mechanism, codes in approvals.get(key, {}).items():
                work |= Q(mechanism=mechanism, pending__code__in=sorted(codes)) & ~Q(pending__by=user.pk)
            if flag(grant.role, "reads_everything"):
                scope = Q()
            elif flag(grant.role, "acts_for_self_only"):
                scope = Q(reporter=user)
            elif not grant.path:
                continue
            else:
                scope = party_scope(user, grant, key[1])
            q |= scope & work
    if user.is_superuser and not grants:
        return Q(pk__in=[])  # an administrator without roles has no case work
    return q & ~Q(state_kind="closed")

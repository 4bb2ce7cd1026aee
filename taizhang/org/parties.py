"""The parties of a case (the engine's words) and which of a person's roles reach which party.

A case has parties, not one unit: the division it is placed in, the lead unit, 协办 units, the
supervising body (the division or unit that handed it over), an enforcement party (联合执法), and the
units that led it before. Everyone in a party sees the case; what one may do depends on the party a
transition names (`verifier@supervisor`). The reporter is the case's own column, and supporters
(我也遇到) are no party: they read the public ledger only.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.utils.translation import gettext_lazy as _

PLACE, LEAD, CO, SUPERVISOR, ENFORCEMENT, FORMER = (
    "place",
    "lead",
    "co",
    "supervisor",
    "enforcement",
    "former",
)
PARTY_NAMES = {
    PLACE: _("所在区划"),
    LEAD: _("主办单位"),
    CO: _("协办单位"),
    SUPERVISOR: _("监督方"),
    ENFORCEMENT: _("联合执法单位"),
    FORMER: _("原承办单位"),
}
# The parties a transition may name (an earlier lead only reads).
ACTING_PARTIES = (PLACE, LEAD, CO, SUPERVISOR, ENFORCEMENT)
# The parties that do the work: none of them may act as the supervising body of the same case.
WORKING_PARTIES = (LEAD, CO, ENFORCEMENT)


def node_path(division=None, unit=None) -> str:
    """The key a party row is found by: "d" + a division's path or "u" + a unit's path.

    Both trees in one column, so that "every party a person's nodes reach" is one indexed prefix search.
    """
    node = division if division is not None else unit
    if node is not None:
        return node.party_prefix + node.path
    raise ValueError("a party is a division or a unit")


@dataclass(frozen=True)
class PartyNode:
    """One party of a case as the permission rules need it."""

    kind: str
    path: str
    division_id: int | None = None
    unit_id: int | None = None
    # The party row's id (None for a row the operation adds and has not written yet).
    id: int | None = field(default=None, compare=False)

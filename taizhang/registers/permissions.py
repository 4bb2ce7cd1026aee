"""Who sees and who may change a register item: the org tree's rules for cases, applied to the item's
place (its division) and unit.

A role held on a division reaches the items placed in its subtree; a role held on a unit, the items of
that unit and the units below; `reads_everything` roles (纪委监督) and administrators read every item; a
resident (a role held on nothing) reads none. Who may create, change or re-assess is the register file's
`actions`: role specs matched by the same function as a case's transitions (taizhang.org.scopes).
"""

from __future__ import annotations

from django.db.models import Q

from taizhang.mechanisms.register import Register
from taizhang.org.models import Division, Unit, User
from taizhang.org.parties import LEAD, PLACE, PartyNode, node_path
from taizhang.org.scopes import Acting, memo_on_user, pick_acting, reach_q, sees_everything

from .models import ItemParty, RegisterItem

# A register's spec names the item's unit `@unit`; the engine's word for that party is the lead unit.
UNIT = "unit"


def visible_q(user: User) -> Q | None:
    """Items the person may see; None: every item. Built once per user object (per request)."""
    if user is None or not user.is_authenticated:
        return Q(pk__in=[])
    return memo_on_user(user, "_taizhang_register_q", lambda: build_visible_q(user))


def build_visible_q(user: User) -> Q | None:
    if sees_everything(user):
        return None
    return Q(pk__in=ItemParty.objects.filter(reach_q(user)).values("item_id"))


def parties_for(division: Division | None, unit: Unit | None) -> list[PartyNode]:
    """The parties of an item placed on `division` and `unit` (either may be None)."""
    out = []
    if division is not None:
        out.append(PartyNode(PLACE, node_path(division=division), division_id=division.pk))
    if unit is not None:
        out.append(PartyNode(LEAD, node_path(unit=unit), unit_id=unit.pk))
    return out


def party_rows(item: RegisterItem) -> list[ItemParty]:
    """The rows `parties_for` the item's current placement, to be inserted."""
    return [
        ItemParty(item=item, kind=p.kind, division_id=p.division_id, unit_id=p.unit_id, path=p.path)
        for p in parties_for(item.division, item.unit)
    ]


def engine_spec(spec: str) -> str:
    """`role@unit` -> `role@lead` (the engine's name of a unit party); other specs as written."""
    role, _, party = spec.partition("@")
    return f"{role}@{LEAD}" if party == UNIT else spec


def acting_for(
    user: User, register: Register, action: str, division: Division | None, unit: Unit | None
) -> Acting | None:
    """How the person may take `action` (create, change, assess) on an item placed so, or None."""
    specs = getattr(register.definition.actions, action)
    found = pick_acting(user, [engine_spec(s) for s in specs], parties_for(division, unit), None)
    if found is None:
        return None
    original = next(s for s in specs if engine_spec(s) == found.spec)
    return Acting(original, found.grant)

"""The bodies that supervise and decide (issue #13, parties of a case) and their own people.

A hazard is verified (复核销号) and its 挂账 and extensions approved by the body that handed it over: the
street (街道/镇) or, for a 重大隐患 the district's dispatcher assigns, the district (区) — by the roles held
on that division, never by a department located there (a unit of its own), the enterprise's own 安全总监
or a bureau that does the work. A 信访事项's extension is approved by the deciding body's own 负责人, and its 复查 and 复核 go
one level up the unit tree (区人民政府, then 市人民政府).
"""

from __future__ import annotations

from taizhang.org.models import Unit, User
from taizhang.org.roles import Role

from .demand_org import street_office
from .org import Org
from .people import Account, Cast, extra_accounts
from .places import CITY, CITY_GOVERNMENT, DISTRICT, DISTRICT_GOVERNMENT, STREETS, Street


def plan_body_accounts(org: Org, before: list[Account]) -> list[Account]:
    """A 核查员 of the district and of every street, and a 负责人 of every body that decides 信访事项 and
    had none (the streets' offices, 区交通运输局). Planned last, so every earlier account keeps its name."""
    rows: list[tuple[str, str, str, int]] = [(Role.VERIFIER, DISTRICT[0], "区安委办复核员", 1)]
    for street in STREETS:
        town = street.name.endswith("镇")
        rows.append((Role.VERIFIER, street.code, "镇安监站复核员" if town else "街道安监站复核员", 1))
    for street in STREETS:
        rows.append(
            (Role.LEADER, street_office(street.code), "镇长" if street.name.endswith("镇") else "主任", 1)
        )
    rows.append((Role.LEADER, "LZQ-JTJ", "局长", 1))
    return extra_accounts(org, before, rows)


def hazard_verifiers(org: Org, cast: Cast, street: Street, district: bool) -> list[User]:
    """Who may verify a hazard supervised by the street (or by the district when `district`): the 核查员
    held on that division."""
    return list(cast.all(Role.VERIFIER, DISTRICT[0] if district else street.code))


def body_above(org: Org, unit: Unit) -> Unit:
    """The body one level above `unit` (as taizhang.cases.parties.one_level_above decides): its parent
    unit, else the people's government of the division above (区人民政府 above a street's office)."""
    if unit.parent_id is not None:
        return org.units[unit.parent.code]
    above = unit.division.parent
    governments = {DISTRICT[0]: DISTRICT_GOVERNMENT[0], CITY[0]: CITY_GOVERNMENT[0]}
    if above is None or above.code not in governments:
        raise ValueError(f"{unit.name} 没有上一级机关")
    return org.units[governments[above.code]]


def deciding_leader(org: Org, cast: Cast, unit: Unit) -> User:
    """The deciding body's own 负责人 (or a 负责人 above it), who approves a 信访 extension."""
    leaders = cast.up(org, Role.LEADER, unit)
    if not leaders:
        raise ValueError(f"{unit.name} 没有负责人")
    return leaders[0]

"""The units and people the 12345 hotline and 信访 need besides those of the hazard loop.

Demands go to the departments of every field (人社、教育、卫健 …), to the streets' offices (办事处 /
镇人民政府), and to invented utility companies for 水电气热; petitions are reviewed (复查) by the
body one level above the one that decided (the district government, built with the org tree) and
rechecked (复核) by the one above that (the city's). Their accounts are planned after the hazard loop's,
so the names of the accounts that existed before stay the same.
"""

from __future__ import annotations

from dataclasses import dataclass

from taizhang.org.models import Unit, User
from taizhang.org.roles import Role

from .org import Org
from .people import Account, Cast, extra_accounts
from .places import CITY_GOVERNMENT, DISTRICT_GOVERNMENT, STREETS

TAKER, HOTLINE_DISPATCHER = "12345热线受理员", "12345热线派单员"
PETITION_REGISTRAR, PETITION_ROUTER = "区信访局登记接待员", "区信访局转送交办员"


@dataclass(frozen=True)
class ExtraUnit:
    code: str
    name: str
    division: str  # division code
    kind: str = "department"
    parent: str | None = None  # unit code


ZF = DISTRICT_GOVERNMENT[0]


HOTLINE_DEPARTMENTS: tuple[ExtraUnit, ...] = (
    ExtraUnit("LZQ-RSJ", "潞州区人力资源和社会保障局", "LZQ", parent=ZF),
    ExtraUnit("LZQ-YBJ", "潞州区医疗保障局", "LZQ", parent=ZF),
    ExtraUnit("LZQ-JYJ", "潞州区教育局", "LZQ", parent=ZF),
    ExtraUnit("LZQ-WLJ", "潞州区文化和旅游局", "LZQ", parent=ZF),
    # A branch of the city's bureau, not a district bureau: no unit above it in the district.
    ExtraUnit("LZQ-STJ", "长治市生态环境局潞州分局", "LZQ"),
    ExtraUnit("LZQ-WJJ", "潞州区卫生健康局", "LZQ", parent=ZF),
    # Invented utility companies (no real company's name).
    ExtraUnit("QY-NSRL", "暖晟热力有限公司", "LZQ", "enterprise"),
    ExtraUnit("QY-HQGS", "汇泉供水有限公司", "LZQ", "enterprise"),
)
# 信访 复查 and 复核 bodies: the district's and the city's governments.
REVIEW_UNIT, RECHECK_UNIT = DISTRICT_GOVERNMENT[0], CITY_GOVERNMENT[0]


def street_office(code: str) -> str:
    """The code of a street's 办事处 (a town's 人民政府), which handles the demands of its area."""
    return f"{code}-BSC"


def street_office_name(name: str) -> str:
    return f"{name}人民政府" if name.endswith("镇") else f"{name}办事处"


def build_hotline_units(org: Org) -> None:
    """Insert the extra units into the tree built by build_org (and into `org.units`)."""
    rows = [*HOTLINE_DEPARTMENTS] + [
        ExtraUnit(street_office(s.code), street_office_name(s.name), s.code) for s in STREETS
    ]
    for extra in rows:
        org.units[extra.code] = Unit.objects.create(
            code=extra.code,
            name=extra.name,
            kind=extra.kind,
            division=org.divisions[extra.division],
            parent=org.units[extra.parent] if extra.parent else None,
        )


# (role, node, post, count): appended after the hazard loop's accounts; usernames continue the
# `<role>_<node>` scheme (a second 派遣员 on 潞州区 is paiqian_lzq2).
HOTLINE_ACCOUNTS: tuple[tuple[str, str, str, int], ...] = (
    (Role.DISPATCHER, "LZQ", HOTLINE_DISPATCHER, 1),
    (Role.INTAKE, "LZQ", PETITION_REGISTRAR, 1),
    (Role.DISPATCHER, "LZQ", PETITION_ROUTER, 1),
    (Role.HANDLER, "LZQ-RSJ", "劳动保障监察员", 2),
    (Role.LEADER, "LZQ-RSJ", "局长", 1),
    (Role.HANDLER, "LZQ-YBJ", "业务科室办理人", 1),
    (Role.HANDLER, "LZQ-JYJ", "业务科室办理人", 1),
    (Role.HANDLER, "LZQ-WLJ", "业务科室办理人", 1),
    (Role.HANDLER, "LZQ-STJ", "环境监察员", 1),
    (Role.HANDLER, "LZQ-WJJ", "业务科室办理人", 1),
    (Role.LEADER, "LZQ-ZJJ", "局长", 1),
    (Role.HANDLER, "QY-NSRL", "客服调度员", 1),
    (Role.HANDLER, "QY-HQGS", "客服调度员", 1),
    (Role.HANDLER, REVIEW_UNIT, "信访复查承办人", 1),
    (Role.HANDLER, RECHECK_UNIT, "信访复核承办人", 1),
)


def plan_hotline_accounts(org: Org, before: list[Account]) -> list[Account]:
    """The extra accounts, named after those in `before` (whose usernames they must not repeat)."""
    rows = list(HOTLINE_ACCOUNTS) + [
        (Role.HANDLER, street_office(s.code), "12345诉求办理员", 1) for s in STREETS
    ]
    return extra_accounts(org, before, rows)


def holders(cast: Cast, role: str, node: str, post: str) -> list[User]:
    """The people holding `role` on `node` in the post named `post` (e.g. the district's 12345 派单员)."""
    return [a.user for a in cast.accounts if a.role == role and a.node == node and a.where.endswith(post)]

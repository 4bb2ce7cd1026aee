"""Creating the demo org tree (divisions and units) from the data in places.py."""

from __future__ import annotations

from dataclasses import dataclass, field

from taizhang.org.models import Division, Unit

from .places import (
    CITY,
    CITY_GOVERNMENT,
    DEPARTMENTS,
    DISTRICT,
    DISTRICT_GOVERNMENT,
    ENTERPRISES,
    STREETS,
    Community,
    Enterprise,
    Street,
)


@dataclass
class Place:
    """Where a case happens: a grid with its community and street."""

    street: Street
    community: Community
    grid: Division
    enterprise: Enterprise | None = None


@dataclass
class Org:
    city: Division
    district: Division
    divisions: dict[str, Division] = field(default_factory=dict)
    units: dict[str, Unit] = field(default_factory=dict)
    grids: dict[str, list[Division]] = field(default_factory=dict)  # community code -> its grids
    community_data: dict[str, tuple[Street, Community]] = field(default_factory=dict)

    def parent_unit(self, code: str) -> Unit | None:
        unit = self.units[code]
        return self.units.get(unit.parent.code) if unit.parent_id else None

    def workshops(self, enterprise: Enterprise) -> list[Unit]:
        return [self.units[f"{enterprise.code}-{w.code}"] for w in enterprise.workshops]


def build_org() -> Org:
    """Insert the whole tree; parents before children so each node's path is computed on save."""

    def div(code: str, name: str, level: str, parent: Division | None) -> Division:
        node = Division.objects.create(code=code, name=name, level=level, parent=parent)
        org.divisions[code] = node
        return node

    def unit(
        code: str,
        name: str,
        kind: str,
        division: Division,
        parent: Unit | None = None,
        enforcement: bool = False,
    ) -> Unit:
        node = Unit.objects.create(
            code=code, name=name, kind=kind, division=division, parent=parent, enforcement=enforcement
        )
        org.units[code] = node
        return node

    city = Division.objects.create(code=CITY[0], name=CITY[1], level="city")
    district = Division.objects.create(code=DISTRICT[0], name=DISTRICT[1], level="district", parent=city)
    org = Org(city=city, district=district, divisions={city.code: city, district.code: district})
    for street in STREETS:
        s = div(street.code, street.name, "street", district)
        for community in street.communities:
            code = f"{street.code}-{community.code}"
            c = div(code, community.name, "community", s)
            org.community_data[code] = (street, community)
            org.grids[code] = [
                div(f"{code}-{i + 1:02d}", community.grid_name(i), "grid", c) for i in range(community.grids)
            ]
    unit(*CITY_GOVERNMENT, "department", city)
    government = unit(*DISTRICT_GOVERNMENT, "department", district)
    for dept in DEPARTMENTS:
        parent = None if dept.vertical else government
        unit(dept.code, dept.name, "department", district, parent=parent, enforcement=dept.enforcement)
    for street in STREETS:
        unit(street.office_code, street.office_name, "department", org.divisions[street.code])
    for ent in ENTERPRISES:
        where = org.divisions[ent.community]
        e = unit(ent.code, ent.name, "enterprise", where)
        for shop in ent.workshops:
            w = unit(f"{ent.code}-{shop.code}", shop.name, "workshop", where, parent=e)
            for i, team in enumerate(shop.teams):
                unit(f"{w.code}-{i + 1}", team, "team", where, parent=w)
    return org

"""Choices for the list's filter form: only what the person can see, named in Chinese."""

from __future__ import annotations

from django.db.models import Q

from taizhang.mechanisms.registry import get_registry
from taizhang.org.models import Division, Unit
from taizhang.org.scopes import grants_of, sees_everything


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


def filter_options(user, mechanism: str = "") -> dict:
    """Mechanisms, states, grades, categories, channels (of one mechanism or all), divisions and units."""
    mechs = list(get_registry().mechanisms.values())
    chosen = [m for m in mechs if m.code == mechanism] or mechs

    def merged(attr: str) -> list[tuple[str, str]]:
        seen: dict[str, str] = {}
        for m in chosen:
            for item in getattr(m.definition, attr):
                seen.setdefault(item.code, item.name)
        return list(seen.items())

    states = [(m.name, [(s.code, s.name) for s in m.definition.states]) for m in chosen]
    divisions, units = visible_nodes(user)
    return {
        "mechanisms": [(m.code, m.name) for m in mechs],
        "states": states,
        "grades": merged("grades"),
        "categories": merged("categories"),
        "channels": merged("channels"),
        "divisions": list(divisions.values_list("code", "name", "level")),
        "units": list(units.values_list("code", "name")),
    }

"""Choices for the list's filter form: only what the person can see, named in Chinese."""

from __future__ import annotations

from taizhang.mechanisms.registry import get_registry
from taizhang.org.scopes import visible_nodes


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

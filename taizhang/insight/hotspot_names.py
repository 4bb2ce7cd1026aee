"""The name of a hot spot: "place · problem", e.g. "A市A5区魅力之城小区 · 油烟临街门面" (see `hotspots`)."""

from __future__ import annotations

from collections.abc import Callable

from .hotspots import AREA, Group
from .rules import Naming
from .similar import Weights
from .text import normalise


def name_of(
    group: Group, weights: Weights, rules: Naming, division_name: str | Callable[[], str | None] = ""
) -> tuple[str, str, str]:
    """(name, place, problem) of a group: "A市A5区魅力之城小区 · 夜间噪音扰民".

    `division_name` (a name, or a function giving it, called only when needed) names the place when
    neither an area nor a place is named by enough of the demands."""
    area = ""
    if group.areas:
        top, count = max(group.areas.items(), key=lambda kv: (kv[1], len(kv[0]), kv[0]))
        area = top if count / group.n >= rules.place_share else ""
    spot = ""
    for counts in (group.title_places, group.places):  # a place the titles name says it best
        common = [(p, c) for p, c in counts.items() if c / group.n >= rules.place_share]
        if common:
            spot = max(common, key=lambda pc: (pc[1], len(pc[0]), pc[0]))[0]
            break
    if not spot and not area and callable(division_name):
        division_name = division_name() or ""
    place = (area + spot) if spot else (area or division_name or "")
    named = [p for p, c in group.places.items() if c / group.n >= rules.place_share] + [spot]
    pool = group.title_terms or group.terms

    def is_place(word: str) -> bool:
        return any(word in p for p in named if p) or bool(AREA.fullmatch(word.upper())) or word in place

    words = [w for w in pool if not is_place(w)]
    common_words = [w for w in words if pool[w] / group.n >= rules.place_share]
    ranked = sorted(
        common_words if len(common_words) >= 2 else words,
        key=lambda w: (-(pool[w] / group.n) * weights.idf(w), w),
    )[: rules.problem_terms]
    seed = normalise(group.seed_title)
    rank = {w: i for i, w in enumerate(ranked)}
    ranked.sort(key=lambda w: seed.find(w) if w in seed else len(seed) + rank[w])
    problem = "".join(ranked)
    name = f"{place} · {problem}" if place and problem else (place or problem or "未命名热点")
    return name[:200], place[:100], problem[:100]

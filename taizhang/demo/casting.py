"""Choosing each story: its plot (the state it ends in), variants, hazard, place, people and start time."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils import timezone

from taizhang.org.roles import Role

from .bodies import hazard_verifiers
from .catalog import HAZARDS, Hazard
from .geo import point_near
from .org import Org, Place
from .people import Cast
from .places import ENTERPRISES, SHOPS, STREETS, Enterprise
from .stories import Staff, Story, district_supervises

PLOT_WEIGHTS = {
    "closed": 42,
    "fixed": 10,
    "rejected": 5,
    "reported": 4,
    "registered": 3,
    "assigned": 4,
    "rectifying": 14,
    "controlled": 2,
    "enforcement": 3,
    "verifying": 6,
    "parked": 3,
}
VARIANT_ODDS = {
    "returned": 0.10,
    "rework": 0.12,
    "extend": 0.12,
    "late": 0.15,
    "cordon": 0.6,
    "enforce": 0.12,
    "park": 0.03,
}


@dataclass(frozen=True)
class Plan:
    """What a story is to show: the state it ends in, its variants, and optionally channel and grade."""

    plot: str
    variants: frozenset[str] = frozenset()
    channel: str | None = None
    grade: str | None = None


def _p(plot: str, *variants: str, channel: str | None = None, grade: str | None = None) -> Plan:
    return Plan(plot, frozenset(variants), channel, grade)


# The first stories of every run: each plot, variant, channel and grade at least once, so that even a
# small demo shows them all. Their hazards are chosen to fit; closed ones start early enough to finish.
OPENING: tuple[Plan, ...] = (
    _p("closed", channel="self_check"),
    _p("rectifying", "late"),
    _p("fixed"),
    _p("closed", "returned", channel="hotline"),
    _p("reported", channel="resident"),
    _p("closed", "rework", channel="resident"),
    _p("registered"),
    _p("closed", "extend", channel="inspection"),
    _p("assigned"),
    _p("closed", "late"),
    _p("controlled", grade="major"),
    _p("closed", "cordon"),
    _p("enforcement"),
    _p("closed", "enforce"),
    _p("suspended"),
    _p("verifying"),
    _p("parked", grade="major"),
    _p("rejected"),
    _p("closed", "park"),
    _p("rectifying", "late", grade="larger"),
)
# How long ago a story starts, in days, by plot; closed stories by grade.
AGES = {
    "reported": (0.05, 2.5),
    "registered": (1, 3),
    "assigned": (1, 3),
    "controlled": (1, 3),
    "rectifying": (1.5, 40),
    "enforcement": (6, 25),
    "suspended": (8, 25),
    "verifying": (3, 14),
    "parked": (20, 80),
    "rejected": (1, 88),
    "fixed": (0.5, 88),
    "general": (12, 88),
    "larger": (30, 88),
    "major": (58, 88),
}
OPENING_AGES = {
    "closed": (60, 85),
    "rectifying": (25, 40),
    "verifying": (13, 16),
    "enforcement": (8, 20),
    "parked": (20, 60),
    "reported": (0.1, 2),
}
WINDOWS = {
    "grid": (8, 18),
    "resident": (7, 21),
    "hotline": (7, 22),
    "inspection": (9, 17),
    "self_check": (8, 17),
}
NEEDS = {
    "fixed": "spot",
    "controlled": "cordon",
    "enforcement": "enforcer",
    "suspended": "enforcer",
    "parked": "park",
    "cordon": "cordon",
    "enforce": "enforcer",
    "park": "park",
}


def weighted(rng: random.Random, pairs: list[tuple[str, int]]) -> str:
    return rng.choices([p for p, _ in pairs], weights=[w for _, w in pairs])[0]


def pick_plan(i: int, rng: random.Random) -> Plan:
    if i < len(OPENING):
        return OPENING[i]
    plot = weighted(rng, list(PLOT_WEIGHTS.items()))
    return Plan(plot, frozenset(v for v, odds in VARIANT_ODDS.items() if rng.random() < odds))


def fits(h: Hazard, wanted: set[str] | frozenset[str]) -> bool:
    return all(getattr(h, NEEDS[w]) for w in wanted if w in NEEDS)


def pick_hazard(rng: random.Random, plan: Plan, strict: bool) -> tuple[Hazard, frozenset[str]]:
    """A hazard the plan fits; with `strict` (opening stories) the variants must fit too, else they are trimmed."""
    required = {plan.plot} | (plan.variants if strict else set())
    pool = [
        h
        for h in HAZARDS
        if fits(h, required)
        and (plan.channel != "self_check" or h.where == "enterprise")
        and (plan.channel not in ("resident", "hotline") or h.where != "enterprise")
        and (plan.grade is None or dict(h.grade_choices()).get(plan.grade))
    ]
    hz = rng.choice(pool)
    return hz, frozenset(v for v in plan.variants if fits(hz, {v}))


def pick_grade(rng: random.Random, hz: Hazard, plan: Plan, opening: bool) -> str:
    if plan.plot == "fixed":
        return "general"
    if plan.grade:
        return plan.grade
    choices = hz.grade_choices()
    if opening and any(g != "major" for g, _ in choices):
        choices = [(g, w) for g, w in choices if g != "major"]  # quick enough to finish in the window
    return weighted(rng, choices)


def pick_place(rng: random.Random, org: Org, hz: Hazard) -> tuple[Place, dict[str, str]]:
    if hz.where == "enterprise":
        ent: Enterprise | None = rng.choice([e for e in ENTERPRISES if e.kind in hz.kinds])
        street, community = org.community_data[ent.community]
    else:
        ent = None
        rural = hz.where == "village"
        pairs = [(s, c) for s in STREETS for c in s.communities if c.rural == rural or hz.where == "shop"]
        street, community = rng.choices(pairs, weights=[s.weight for s, _ in pairs])[0]
    code = f"{street.code}-{community.code}"
    grid = rng.choice(org.grids[code])
    text = {
        "estate": rng.choice(community.estates) if community.estates else community.name,
        "bldg": f"{rng.randint(1, 18)}号楼",
        "shop": rng.choice(SHOPS),
        "road": rng.choice(street.roads),
        "village": community.name,
        "k": str(rng.randint(2, 9)),
        "ent": ent.name if ent else "",
        "ws": "",
        "dir": rng.choice(("东侧", "西侧", "南侧", "北侧")),
    }
    if hz.site:
        text["addr"] = hz.site.format(**text)
    elif ent is not None:
        text["ws"] = rng.choice(ent.workshops).name
        text["addr"] = f"{ent.name}{text['ws']}"
    elif hz.where == "estate":
        text["addr"] = f"{community.name}{text['estate']}{text['bldg']}"
    elif hz.where == "shop":
        text["addr"] = f"{text['road']}{rng.randint(1, 300)}号{text['shop']}"
    elif hz.where == "road":
        text["addr"] = f"{text['road']}{rng.randint(1, 300)}号附近"
    else:
        text["addr"] = f"{community.name}{rng.randint(1, 8)}组{rng.randint(1, 80)}号"
    return Place(street, community, grid, ent), text


def pick_reporter(rng: random.Random, cast: Cast, plan: Plan, place: Place) -> tuple[str, object]:
    """The channel and who reports: 网格员, 企业安全员 (自查), residents, the 12345 hotline, or the district's
    special inspections (专项检查, filed by its dispatcher or leader)."""
    ent = place.enterprise
    if plan.plot == "fixed":
        channel = "self_check" if ent else "grid"
    elif plan.channel:
        channel = plan.channel
    elif ent is not None:
        channel = weighted(rng, [("self_check", 45), ("inspection", 40), ("grid", 15)])
    else:
        channel = weighted(rng, [("grid", 50), ("resident", 15), ("hotline", 20), ("inspection", 15)])
    if channel == "grid":
        return channel, cast.one(Role.GRID_WORKER, place.grid.code)
    if channel == "resident":
        return channel, rng.choice(cast.all(Role.RESIDENT, None))
    if channel == "hotline":
        return channel, cast.one(Role.INTAKE, "LZQ", rng)
    if channel == "self_check":
        return channel, cast.one(Role.ENTERPRISE_OFFICER, ent.code)
    return channel, cast.one(weighted(rng, [(Role.DISPATCHER, 7), (Role.LEADER, 3)]), "LZQ")


def start_time(rng: random.Random, lo: float, hi: float, window: tuple[int, int], end: datetime) -> datetime:
    """A moment between `lo` and `hi` days before `end`, at a time of day inside `window`."""
    moment = timezone.localtime(end - timedelta(days=rng.uniform(lo, hi)))
    minutes = rng.randint(window[0] * 60, window[1] * 60 - 1)
    moment = moment.replace(hour=minutes // 60, minute=minutes % 60, second=rng.randint(0, 59), microsecond=0)
    if moment > end - timedelta(days=lo):
        moment -= timedelta(days=1)
    return moment


def cast_story(i: int, rng: random.Random, org: Org, cast: Cast, end: datetime) -> Story:
    plan = pick_plan(i, rng)
    plot, opening = plan.plot, i < len(OPENING)
    hz, variants = pick_hazard(rng, plan, opening)
    grade = pick_grade(rng, hz, plan, opening)
    place, text = pick_place(rng, org, hz)
    channel, reporter = pick_reporter(rng, cast, plan, place)
    street = place.street.code
    staff = Staff(
        intake=cast.one(Role.INTAKE, street),
        dispatcher=cast.one(Role.DISPATCHER, street),
        leader=cast.one(Role.LEADER, street),
        district_dispatcher=cast.one(Role.DISPATCHER, "LZQ"),
        district_leader=cast.one(Role.LEADER, "LZQ"),
        inspector=cast.one(Role.INSPECTOR, "LZQ"),
    )
    key = hz.units[0] if rng.random() < 0.65 else rng.choice(hz.units)
    enforced = plot == "enforcement" or "enforce" in variants
    if enforced and key == hz.enforcer:
        # 联合执法 brings in a bureau besides the unit that must rectify, never the same one.
        key = next(k for k in hz.units if k != hz.enforcer)
    if key == "enterprise":
        unit = next(w for w in org.workshops(place.enterprise) if w.name == text["ws"])
    else:
        unit = org.units[place.street.office_code if key == "street" else key]
    handlers = [(u, False) for u in cast.up(org, Role.HANDLER, unit)]
    if key == "enterprise":
        handlers += [(u, True) for u in cast.all(Role.ENTERPRISE_OFFICER, place.enterprise.code)]
    handler, officer = rng.choice(handlers)
    lo, hi = (
        OPENING_AGES[plot] if opening and plot in OPENING_AGES else AGES[grade if plot == "closed" else plot]
    )
    lat, lon = locate(rng, place)
    story = Story(
        rng=rng,
        plot=plot,
        variants=variants,
        hazard=hz,
        place=place,
        grade=grade,
        channel=channel,
        reporter=reporter,
        staff=staff,
        unit=unit,
        handler=handler,
        officer_handles=officer,
        verifier=rng.choice(hazard_verifiers(org, cast, place.street, district_supervises(grade))),
        start=start_time(rng, lo, hi, WINDOWS[channel], end),
        text=text,
        lat=lat,
        lon=lon,
    )
    if "returned" in variants:
        others = [
            org.units[c] for c in ("LZQ-CGJ", "LZQ-SJJ", "LZQ-ZJJ", "LZQ-YJJ", place.street.office_code)
        ]
        story.wrong_unit = rng.choice([u for u in others if u.code != unit.code])
        story.wrong_handler = cast.one(Role.HANDLER, story.wrong_unit.code)
    if hz.enforcer:
        story.enf_unit = org.units[hz.enforcer]
        story.enf_handler = cast.one(Role.HANDLER, hz.enforcer, rng)
    return story


def locate(rng: random.Random, place: Place) -> tuple[float, float]:
    """Coordinates near the street's centre, inside its area (villages spread wider than city blocks)."""
    return point_near(rng, place.street, place.community.rural)

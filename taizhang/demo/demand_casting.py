"""Choosing each demand story: plot, variants, template, place, people, answer quality and start time.

Some demands are called in again by neighbours within days (templates marked `hot`): the repeats name
the same place and problem, so hot spots emerge, and the first repeat of a cluster is often merged
(并单) into the first call while that is still open.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from taizhang.org.models import Unit, User
from taizhang.org.roles import Role

from . import demand_catalog as cat
from .casting import start_time, weighted
from .demand_catalog import STREET_OFFICE, DemandText
from .demand_org import HOTLINE_DISPATCHER, TAKER, holders, street_office
from .demand_stories import DemandStory, Desk
from .demand_texts import DEMANDS
from .geo import point_near
from .org import Org, Place
from .people import Cast
from .places import SHOPS, STREETS

PLOT_WEIGHTS = {
    "closed": 55,
    "direct": 7,
    "replied": 7,
    "handling": 10,
    "dispatched": 4,
    "return_review": 2,
    "accepted": 3,
    "invalid": 4,
    "reopened": 2,
    "referred": 1,
    "guided": 1,
}
VARIANT_ODDS = {
    "returned": 0.06,
    "refused": 0.04,
    "extend": 0.07,
    "co": 0.7,
    "late_sign": 0.08,
    "late_reply": 0.08,
    "unreachable": 0.06,
}
REDO_ODDS = {"good": 0.02, "partial": 0.1, "poor": 0.25}
QUALITY = (("good", 70), ("partial", 15), ("poor", 15))
# How long ago a story starts, in days, by plot.
AGES = {
    "accepted": (0.02, 0.25),
    "invalid": (0.1, 88),
    "referred": (0.1, 88),
    "guided": (0.1, 88),
    "direct": (0.3, 88),
    "dispatched": (0.1, 2.5),
    "return_review": (0.2, 1.5),
    "handling": (0.5, 20),
    "replied": (1.2, 4),
    "reopened": (4, 25),
    "closed": (4, 88),
}
WINDOWS = {"hotline": (7, 23), "web": (6, 24), "app": (9, 18)}
HOT_ODDS = 0.45  # a hot template's call is followed by repeats
# Units a wrongly dispatched demand may go to first.
WRONG_UNITS = ("LZQ-CGJ", "LZQ-ZJJ", "LZQ-SJJ", "LZQ-ZFJ", "LZQ-JTJ", "LZQ-STJ", STREET_OFFICE)


@dataclass(frozen=True)
class Plan:
    plot: str
    variants: frozenset[str] = frozenset()
    quality: str | None = None
    need: str = ""  # consult, co or hot: what the template must be


def _p(plot: str, *variants: str, quality: str | None = None, need: str = "") -> Plan:
    return Plan(plot, frozenset(variants), quality, need)


# The first stories of every run: every state, variant and outcome at least once.
OPENING: tuple[Plan, ...] = (
    _p("closed", quality="good", need="hot"),  # followed by a repeat merged into it
    _p("closed", "returned"),
    _p("direct", need="consult"),
    _p("invalid"),
    _p("closed", "co", "extend", need="co"),
    _p("accepted"),
    _p("dispatched"),
    _p("return_review", "refused"),
    _p("closed", "refused", quality="poor"),
    _p("handling", "co", need="co"),
    _p("replied", quality="partial"),
    _p("closed", "redo", quality="poor"),
    _p("reopened", quality="poor"),
    _p("closed", "unreachable"),
    _p("closed", "late_sign"),
    _p("closed", "late_reply", quality="partial"),
    _p("handling"),
    _p("referred"),
    _p("guided"),
)
OPENING_AGES = {
    "handling": (12, 18),
    "closed": (20, 80),
    "direct": (5, 60),
    "invalid": (2, 60),
    "dispatched": (1.2, 2),
}


def pick_plan(i: int, rng: random.Random) -> Plan:
    if i < len(OPENING):
        return OPENING[i]
    plot = weighted(rng, list(PLOT_WEIGHTS.items()))
    variants = {v for v, odds in VARIANT_ODDS.items() if rng.random() < odds}
    if plot == "return_review":
        variants = {"refused"}
    return Plan(plot, frozenset(variants), need="consult" if plot == "direct" else "")


def pick_template(rng: random.Random, plan: Plan) -> DemandText:
    pool = [
        d
        for d in DEMANDS
        if (plan.need != "consult" or d.category == "consult")
        and (plan.need != "co" or d.co_units)
        and (plan.need != "hot" or d.hot)
    ]
    return rng.choice(pool)


def pick_place(rng: random.Random, org: Org, where: str) -> tuple[Place, dict[str, str], bool]:
    """A place fitting the template, the texts naming it, and whether the demand names a place."""
    pairs = [(s, c) for s in STREETS for c in s.communities]
    if where == "estate":
        pairs = [(s, c) for s, c in pairs if c.estates]
    elif where == "village":
        pairs = [(s, c) for s, c in pairs if c.rural]
    street, community = rng.choices(pairs, weights=[s.weight for s, _ in pairs])[0]
    grid = rng.choice(org.grids[f"{street.code}-{community.code}"])
    text = {
        "estate": rng.choice(community.estates) if community.estates else community.name,
        "bldg": f"{rng.randint(1, 18)}号楼",
        "road": rng.choice(street.roads),
        "village": community.name,
        "community": community.name,
        "street": street.name,
        "shop": rng.choice({"eatery": cat.EATERIES, "store": cat.STORES}.get(where, SHOPS)),
        "company": rng.choice(cat.COMPANIES),
        "school": rng.choice(cat.SCHOOLS),
        "gym": rng.choice(cat.GYMS),
        "agency": rng.choice(cat.AGENCIES),
        "route": rng.choice(cat.ROUTES),
        "dir": rng.choice(("东段", "西段", "南段", "北段")),
        "k": str(rng.randint(2, 9)),
        "t": str(rng.randint(12, 16)),
        "money": str(rng.randint(4, 36) * 10000),
        "balance": str(rng.randint(8, 50) * 100),
        "meters": str(rng.randint(3, 15) * 100),
        "ports": str(rng.randint(2, 6) * 10),
    }
    text["addr"] = {
        "estate": f"{community.name}{text['estate']}{text['bldg']}",
        "road": f"{text['road']}{rng.randint(1, 300)}号附近",
        "village": f"{community.name}{rng.randint(1, 8)}组",
    }.get(where, "")
    if where in ("shop", "eatery", "store"):
        text["addr"] = f"{text['road']}{rng.randint(1, 300)}号{text['shop']}"
    return Place(street, community, grid), text, where != "anywhere"


def caller(rng: random.Random) -> tuple[str, str]:
    """An invented caller and a masked number, the way a work order shows them (never a whole number)."""
    name = rng.choice(cat.CALLER_SURNAMES) + rng.choice(("先生", "女士"))
    phone = f"1{rng.choice('3578')}{rng.randint(0, 9)}****{rng.randint(0, 9999):04d}"
    return name, phone


def unit_of(org: Org, key: str, place: Place) -> Unit:
    return org.units[street_office(place.street.code) if key == STREET_OFFICE else key]


def pick_reporter(
    rng: random.Random, cast: Cast, place: Place, located: bool, desk: Desk
) -> tuple[str, User]:
    channel = weighted(rng, [("hotline", 72), ("web", 16), ("app", 12 if located else 0)])
    if channel == "web":
        return channel, rng.choice(cast.all(Role.RESIDENT, None))
    if channel == "app":
        return channel, cast.one(Role.GRID_WORKER, place.grid.code)
    return channel, rng.choice(desk.takers)


def hotline_desk(cast: Cast) -> Desk:
    return Desk(
        takers=holders(cast, Role.INTAKE, "LZQ", TAKER),
        dispatcher=holders(cast, Role.DISPATCHER, "LZQ", HOTLINE_DISPATCHER)[0],
        leader=cast.one(Role.LEADER, "LZQ"),
        inspector=cast.one(Role.INSPECTOR, "LZQ"),
    )


def cast_demand(i: int, rng: random.Random, org: Org, cast: Cast, end: datetime) -> DemandStory:
    plan = pick_plan(i, rng)
    opening = i < len(OPENING)
    template = pick_template(rng, plan)
    place, text, located = pick_place(rng, org, template.where)
    desk = hotline_desk(cast)
    channel, reporter = pick_reporter(rng, cast, place, located, desk)
    text["caller"], text["phone"] = caller(rng)
    if channel == "web":
        text["caller"] = reporter.display_name
    key = template.units[0] if rng.random() < 0.75 else rng.choice(template.units)
    unit = unit_of(org, key, place)
    quality = plan.quality or weighted(rng, list(QUALITY))
    variants = set(plan.variants)
    if "co" in variants and not template.co_units:
        variants.discard("co")
    if plan.plot in ("closed",) and not opening and rng.random() < REDO_ODDS[quality]:
        variants.add("redo")
    if template.grade in ("emergency", "utilities") or template.category == "consult":
        variants -= {"extend", "late_reply"}
    lo, hi = OPENING_AGES.get(plan.plot, AGES[plan.plot]) if opening else AGES[plan.plot]
    lat, lon = point_near(rng, place.street, place.community.rural) if located else (0.0, 0.0)
    story = DemandStory(
        rng=rng,
        plot=plan.plot,
        variants=frozenset(variants),
        demand=template,
        place=place,
        located=located,
        text=text,
        channel=channel,
        reporter=reporter,
        taker=rng.choice(desk.takers) if channel != "hotline" else reporter,
        desk=desk,
        unit=unit,
        handler=rng.choice(cast.up(org, Role.HANDLER, unit)),
        quality=quality,
        start=start_time(rng, lo, hi, WINDOWS[channel], end),
        lat=lat,
        lon=lon,
        grade=template.grade,
    )
    if "co" in variants:
        story.co_units = [unit_of(org, k, place) for k in template.co_units]
        story.co_units = [u for u in story.co_units if u.code != unit.code]
        story.co_handlers = [cast.one(Role.HANDLER, u.code) for u in story.co_units]
    if variants & {"returned", "refused"}:
        wrong = [unit_of(org, k, place) for k in WRONG_UNITS]
        story.wrong_unit = rng.choice([u for u in wrong if u.code != unit.code])
        story.wrong_handler = cast.one(Role.HANDLER, story.wrong_unit.code)
    if plan.plot == "invalid":
        story.invalid = rng.choice(cat.INVALID)
    if plan.plot in ("referred", "guided"):
        story.outcome = rng.choice(cat.REFERRALS if plan.plot == "referred" else cat.GUIDED)
    if plan.plot == "replied":
        story.answer_by = end - timedelta(hours=1)
    return story


def repeats(
    master: DemandStory, rng: random.Random, cast: Cast, end: datetime, room: int, merge: bool = False
) -> list[DemandStory]:
    """Neighbours calling about the master's problem within days; the first is often (with `merge`,
    always) merged into the master."""
    out: list[DemandStory] = []
    merge_first = master.plot not in ("accepted", "invalid", "direct", "referred", "guided") and (
        merge or rng.random() < 0.7
    )
    offsets = sorted(rng.uniform(0.1, 3.0) for _ in range(min(room, rng.randint(1, 4))))
    for j, offset in enumerate(offsets):
        start = master.start + timedelta(days=offset)
        if start >= end - timedelta(hours=1):
            break
        age = (end - start).total_seconds() / 86400
        if j == 0 and merge_first:
            plot = "merged"
        elif age < 2:
            plot = rng.choice(("dispatched", "handling", "handling"))
        elif age < 6:
            plot = rng.choice(("handling", "replied", "closed"))
        else:
            plot = "closed"
        text = dict(master.text)
        if master.demand.where == "estate":
            text["bldg"] = f"{rng.randint(1, 18)}号楼"
            text["addr"] = f"{master.place.community.name}{text['estate']}{text['bldg']}"
        text["t"] = str(rng.randint(12, 16))
        text["caller"], text["phone"] = caller(rng)
        desk = master.desk
        channel, reporter = pick_reporter(rng, cast, master.place, master.located, desk)
        if channel == "web":
            text["caller"] = reporter.display_name
        out.append(
            DemandStory(
                rng=rng,
                plot=plot,
                variants=frozenset(),
                demand=master.demand,
                place=master.place,
                located=master.located,
                text=text,
                channel=channel,
                reporter=reporter,
                taker=rng.choice(desk.takers) if channel != "hotline" else reporter,
                desk=desk,
                unit=master.unit,
                handler=master.handler,
                quality=weighted(rng, list(QUALITY)),
                start=start,
                lat=master.lat + rng.uniform(-0.0004, 0.0004) if master.located else 0.0,
                lon=master.lon + rng.uniform(-0.0004, 0.0004) if master.located else 0.0,
                grade=master.grade,
                master=master if plot == "merged" else None,
            )
        )
    for story in out:
        if story.plot == "replied":
            story.answer_by = end - timedelta(hours=1)
    if out and out[0].master is not None:
        master.hold_days = max(master.hold_days, offsets[0] + 1)
    return out


def cast_demands(count: int, seed: int, org: Org, cast: Cast, end: datetime) -> list[DemandStory]:
    """`count` demand stories: the opening ones, then random ones, with repeats after some hot ones."""
    stories: list[DemandStory] = []
    i = 0
    while len(stories) < count:
        rng = random.Random(f"{seed}-demand-{i}")
        story = cast_demand(i, rng, org, cast, end)
        stories.append(story)
        hot = story.demand.hot and story.plot not in ("invalid", "accepted", "referred", "guided")
        if hot and (i == 0 or rng.random() < HOT_ODDS):
            stories += repeats(story, rng, cast, end, count - len(stories), merge=i == 0)
        i += 1
    return stories

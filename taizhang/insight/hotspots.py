"""Hot spots (热点): demands about the same problem at the same place (or group of people) within a
time window, grouped as they arrive, ranked by a heat index and named "place · problem".

Pure logic here (no database); `hotspot_index` keeps the groups in the database, `hotspot_queries`
reads them for a person. Every number is data: `mechanisms/insight/hotspots.yaml` (`rules.hotspot_rules`),
named below by its key.

**Demand.** A case's words (title words count double) and place names, as the similarity index reads
them (`similar.case_words`), its creation time, division and reporter.

**Group state.** For each word, place, masked area (A市A5区) and division: in how many of the group's
demands it occurs; the first and last demand's times; demands, distinct reporters and supporters.
A demand not (yet) in a group is a group of one.

**Joining.** A demand is scored against candidate groups of its scope (district and mechanism) that
have a demand within `window_days` of it, found through its `query_terms` rarest words and places:

* text = cosine of the demand's TF-IDF vector (tf = 1 + ln count, idf = ln((N+1)/(df+1)) + 1, as
  `similar.Weights`) and the group's, whose weight for a word is (share of the group's demands that
  have it) × idf;
* problem = the same cosine without the words that make up either side's place names;
* place = for a place both name: min(1, share of the group naming it / `place_full_share`), the best
  of them; when both name places but none in common, 0 and the score is multiplied by
  `place_conflict` (the same complaint about another estate is another hot spot, even in the same
  grid); else `same_division` when the group's commonest division is the demand's; else
  `place_unknown` when neither names a place; else 0;
* score = `text_weight` · text + `place_weight` · place (× `place_conflict`), times problem /
  `min_problem` when problem is below `min_problem` (the same place with another problem is another
  hot spot).

The demand joins the best-scoring group of two or more whose score reaches `join_threshold`, else the
best-scoring lone demand that does (the two make a new group), else it stays alone until a later
demand joins it. Only groups of two or more are stored.

**Heat index.** For a group with n demands, r distinct reporters, s supporters (我也遇到), a span
of d days between its first and last demand, last demand at time L:

    mass = count · ln(1+n) + reporters · ln(1+r) + support · ln(1+s) + span · ln(1+d)
    heat(now) = mass · 2^(−(now − L) / half_life_days)

(`heat:` weights.) Logarithms keep one very large group from drowning the rest and let distinct people
count more than one person writing repeatedly. Since ln heat = ln mass + ln2 · L / half_life − ln2 ·
now / half_life, ordering by `rank_key` = ln mass + ln2 · L(days since 1970) / half_life orders by
heat at every moment: the stored key never needs refreshing as time passes.

**Name.** place · problem: the masked area most demands name (A市A5区) followed by the place the
largest share names (at least `naming.place_share`), or the commonest division's name when no place
is named; the problem is the `problem_terms` words of the demands' titles with the highest share ×
idf, leaving out place words, in the order they appear in the founding demand's title.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property

import rjieba

from .rules import Grouping, Heat
from .similar import PLACE_PREFIX, Weights, text_score
from .text import (
    ADMIN_AREA,
    CJK_RUN,
    GENERIC_PLACES,
    PLACE_HEAD,
    PLACE_NAME_STOP,
    STOP_WORDS,
    normalise,
    tokens,
)

AREA = re.compile(r"(?:[A-Za-z]\d{0,3}(?:省|市|区|县))+")
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
TITLE_TERMS = 40  # title words kept per group, for naming
COMPOUND_CHARS = 6  # longest own name of a compound place (魅力之城 of 魅力之城小区)


def compound_places(*texts: str) -> set[str]:
    """Place names whose own name ends in a place word: 魅力之城小区, 金色家园小区.

    `text.places` cuts at the first place word (城 of 魅力之城) and so misses them. Here a place word
    directly followed by another one ends a name that starts after the previous place word (or a
    stop word), at most `COMPOUND_CHARS` characters back.
    """
    found: set[str] = set()
    for text in texts:
        clean = ADMIN_AREA.sub(" ", normalise(text).replace("的", " "))
        for run in CJK_RUN.findall(clean):
            heads = list(PLACE_HEAD.finditer(run))
            for i in range(len(heads) - 1):
                first, second = heads[i], heads[i + 1]
                if first.end() != second.start():
                    continue
                start = max(heads[i - 1].end() if i else 0, first.end() - COMPOUND_CHARS)
                words = [w for w in rjieba.cut(run[start : first.end()]) if w.strip()]
                while words and (words[0] in STOP_WORDS or words[0] in PLACE_NAME_STOP or len(words[0]) == 1):
                    words.pop(0)
                name = "".join(words)
                if len(name) >= 3 and not name[0].isdigit():
                    place = name + second.group()
                    if place not in GENERIC_PLACES:
                        found.add(place)
    return found


@dataclass
class Demand:
    """What grouping reads of one case (`demand_of` builds one)."""

    id: int
    created_at: datetime
    words: dict[str, int]
    places: list[str]
    title: str
    reporter: str
    division_id: int | None = None
    support: int = 0

    @cached_property
    def area(self) -> str:
        """The masked administrative area the title names first ("A市A5区"), if any."""
        m = AREA.search(normalise(self.title).upper())
        return m.group(0) if m else ""

    @cached_property
    def title_words(self) -> list[str]:
        return list(dict.fromkeys(tokens(self.title)))

    @cached_property
    def title_places(self) -> list[str]:
        return [p for p in self.places if p in normalise(self.title)]


@dataclass
class Group:
    """The state of a group (or of one demand on its own), enough to score, name and rank it."""

    id: int | None = None
    n: int = 0
    terms: Counter = field(default_factory=Counter)
    title_terms: Counter = field(default_factory=Counter)
    places: Counter = field(default_factory=Counter)
    title_places: Counter = field(default_factory=Counter)
    areas: Counter = field(default_factory=Counter)
    divisions: Counter = field(default_factory=Counter)
    seed_title: str = ""
    first_at: datetime | None = None
    last_at: datetime | None = None
    reporters: int = 0
    support: int = 0
    members: list[Demand] = field(default_factory=list)  # kept only while grouping in memory
    vector: dict[str, float] | None = field(default=None, repr=False, compare=False)  # cache

    @classmethod
    def of(cls, demand: Demand) -> Group:
        group = cls()
        group.add(demand, new_reporter=True)
        return group

    def add(self, demand: Demand, new_reporter: bool, cap: int = 80) -> None:
        """Count a demand in (`new_reporter`: its reporter is not among the group's yet)."""
        self.n += 1
        self.vector = None
        self.terms.update(demand.words.keys())
        self.title_terms.update(demand.title_words)
        self.places.update(set(demand.places))
        self.title_places.update(set(demand.title_places))
        if demand.area:
            self.areas[demand.area] += 1
        if demand.division_id is not None:
            self.divisions[str(demand.division_id)] += 1
        if not self.seed_title:
            self.seed_title = demand.title
        self.first_at = min(filter(None, (self.first_at, demand.created_at)))
        self.last_at = max(filter(None, (self.last_at, demand.created_at)))
        self.reporters += 1 if new_reporter else 0
        self.support += demand.support
        if len(self.terms) > cap * 2:  # trim now and then, not on every add
            self.terms = Counter(dict(self.terms.most_common(cap)))
        if len(self.title_terms) > TITLE_TERMS * 2:
            self.title_terms = Counter(dict(self.title_terms.most_common(TITLE_TERMS)))

    def trimmed(self, cap: int) -> Group:
        self.vector = None
        self.terms = Counter(dict(self.terms.most_common(cap)))
        self.title_terms = Counter(dict(self.title_terms.most_common(TITLE_TERMS)))
        return self

    @property
    def division_id(self) -> int | None:
        top = self.divisions.most_common(1)
        return int(top[0][0]) if top else None

    def state(self) -> dict:
        """What is stored in `HotSpot.state`."""
        return {
            "terms": dict(self.terms),
            "title_terms": dict(self.title_terms),
            "places": dict(self.places),
            "title_places": dict(self.title_places),
            "areas": dict(self.areas),
            "divisions": dict(self.divisions),
            "seed_title": self.seed_title,
        }

    @classmethod
    def from_state(cls, state: dict, **fields) -> Group:
        return cls(
            terms=Counter(state.get("terms", {})),
            title_terms=Counter(state.get("title_terms", {})),
            places=Counter(state.get("places", {})),
            title_places=Counter(state.get("title_places", {})),
            areas=Counter(state.get("areas", {})),
            divisions=Counter(state.get("divisions", {})),
            seed_title=state.get("seed_title", ""),
            **fields,
        )


def demand_of(
    id: int,
    created_at: datetime,
    title: str,
    words: dict[str, int],
    places: list[str],
    reporter: str,
    *,
    address: str = "",
    division_id: int | None = None,
    support: int = 0,
) -> Demand:
    """A demand from a case's indexed words and places (`similar.case_words` / `CaseTokens`), with the
    compound place names of its title and address added."""
    extra = compound_places(title, address) - set(places)
    return Demand(id, created_at, words, sorted([*places, *extra]), title, reporter, division_id, support)


# ----------------------------------------------------------------------------------------- scoring


def group_vector(
    group: Group, weights: Weights, exclude: set[str] | frozenset = frozenset()
) -> dict[str, float]:
    """Unit vector of the group: share of its demands having a word × the word's idf (cached when whole)."""
    if not exclude and group.vector is not None:
        return group.vector
    vec = {w: c / group.n * weights.idf(w) for w, c in group.terms.items() if w not in exclude}
    norm = math.sqrt(sum(v * v for v in vec.values())) or 1.0
    vec = {w: v / norm for w, v in vec.items()}
    if not exclude:
        group.vector = vec
    return vec


def score(
    demand: Demand,
    group: Group,
    weights: Weights,
    rules: Grouping,
    vector: dict[str, float] | None = None,
    floor: float = 0.0,
) -> tuple[float, float, float]:
    """(score, text, place) of the demand as one more demand of the group (module docstring).

    `vector` is the demand's own (computed when None); below `floor` the "same problem" check is
    skipped, since it can only lower the score.
    """
    text = text_score(vector or weights.vector(demand.words), group_vector(group, weights))
    place = 0.0
    for p in set(demand.places) & set(group.places):
        place = max(place, min(1.0, group.places[p] / group.n / rules.place_full_share))
    conflict = place == 0.0 and bool(demand.places) and bool(group.places)  # two places, not the same
    if not conflict and place < rules.same_division and demand.division_id is not None:
        if group.division_id == demand.division_id:
            place = rules.same_division
    if place == 0.0 and not demand.places and not group.places:
        place = rules.place_unknown
    total = rules.text_weight * text + rules.place_weight * place
    if conflict:
        total *= rules.place_conflict
    if total < floor:
        return total, text, place
    named = set(demand.places) | {p for p, c in group.places.items() if c / group.n >= 0.3}
    problem = text
    if named:
        in_place = {w for w in set(demand.words) | set(group.terms) if any(w in p for p in named)}
        if in_place:
            rest = {w: n for w, n in demand.words.items() if w not in in_place}
            problem = text_score(weights.vector(rest), group_vector(group, weights, in_place))
    if problem < rules.min_problem:
        total *= problem / rules.min_problem
    return total, text, place


def best_group(demand: Demand, candidates, weights: Weights, rules: Grouping) -> tuple[Group | None, float]:
    """The candidate the demand joins (None: none reaches `join_threshold`) and its score.

    A group of two or more that reaches the threshold wins over any lone demand, so that the
    demands of a hot spot gather in it instead of pairing off with the lone demand most like them;
    among equals the best score wins, then the larger group, then the older (lower id).
    """
    vector = weights.vector(demand.words)
    best, best_key = None, None
    for group in candidates:
        s = score(demand, group, weights, rules, vector, floor=rules.join_threshold)[0]
        if s < rules.join_threshold:
            continue
        key = (group.n > 1, round(s, 9), group.n, -(group.id or 0))
        if best_key is None or key > best_key:
            best, best_key = group, key
    return best, (best_key[1] if best_key else 0.0)


def query_terms(demand: Demand, weights: Weights, rules: Grouping) -> list[str]:
    """The terms to look for candidates with: the demand's places, then its title words, then the rest
    of its words, each rarest first, at most `query_terms`; words in more than `common_share` of the
    scope's cases are left out. Places and title words come first because they say what and where:
    a description's rarest words are mostly story."""
    cap = max(20, rules.common_share * weights.n)
    title = set(demand.title_words)
    tiers = (
        [PLACE_PREFIX + p for p in demand.places],
        [w for w in demand.words if w in title],
        [w for w in demand.words if w not in title],
    )
    out: list[str] = []
    for tier in tiers:
        usable = [t for t in dict.fromkeys(tier) if 0 < weights.df.get(t, 0) <= cap]
        usable.sort(key=lambda t: (weights.df[t], t))
        out += usable
    return out[: rules.query_terms]


# -------------------------------------------------------------------------------------------- heat


def heat_mass(rules: Heat, count: int, reporters: int, support: int, first_at, last_at) -> float:
    """The heat index without its decay (module docstring)."""
    span_days = max(0.0, (last_at - first_at).total_seconds() / 86400) if first_at and last_at else 0.0
    return (
        rules.count * math.log1p(count)
        + rules.reporters * math.log1p(reporters)
        + rules.support * math.log1p(support)
        + rules.span * math.log1p(span_days)
    )


def heat_at(rules: Heat, mass: float, last_at: datetime, now: datetime) -> float:
    """The heat index at `now`: `mass` halved for every `half_life_days` since the last demand."""
    age_days = max(0.0, (now - last_at).total_seconds() / 86400)
    return mass * 0.5 ** (age_days / rules.half_life_days)


def rank_key(rules: Heat, mass: float, last_at: datetime) -> float:
    """ln heat + ln2 · now / half_life: orders groups by heat whatever the moment."""
    days = (last_at - EPOCH).total_seconds() / 86400
    return math.log(max(mass, 1e-9)) + math.log(2) * days / rules.half_life_days

"""The rebuild's in-memory grouper finds exactly the candidates a plain loop over its postings finds."""

from __future__ import annotations

import heapq
import random
from collections import defaultdict
from datetime import UTC, datetime, timedelta

import pytest

from taizhang.insight.hotspot_batch import Grouper, Postings
from taizhang.insight.hotspots import Demand, query_terms
from taizhang.insight.rules import hotspot_rules
from taizhang.insight.similar import Weights

WORDS = [f"词{i}" for i in range(40)]
PLACES = ["丽发新城", "景园滨河苑", "魅力之城", "开元路", "金桂苑"]


def weights(stream: list[Demand]) -> Weights:
    found = Weights.__new__(Weights)
    found.n = len(stream)
    found.df = defaultdict(int)
    for d in stream:
        for term in [*d.words, *(f"@{p}" for p in d.places)]:
            found.df[term] += 1
    found.df = dict(found.df)
    return found


def stream(seed: int, n: int = 600) -> list[Demand]:
    """Demands over 200 days from a small vocabulary: long postings, many ties, groups closing."""
    rng = random.Random(seed)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    out = []
    for i in range(n):
        words = {w: rng.randint(1, 2) for w in rng.sample(WORDS[: rng.choice((8, 40))], rng.randint(2, 6))}
        places = rng.sample(PLACES, rng.choice((0, 1, 1, 2)))
        title = "".join(list(words)[:2])
        at = start + timedelta(days=200 * i / n, seconds=rng.randint(0, 3600))
        out.append(Demand(i + 1, at, words, places, title, f"p{rng.randint(1, 80)}"))
    return out


def plain_candidates(grouper: Grouper, demand: Demand) -> list[int]:
    """The candidates' ids as the first version of the grouper computed them: a loop over the lists."""
    since = demand.created_at - grouper.window
    relevance: dict[int, float] = defaultdict(float)
    for term in query_terms(demand, grouper.weights, grouper.rules):
        posting = grouper.postings.get(term)
        if posting is None:
            continue
        weight = grouper.weights.idf(term)
        for gid in posting.ids[: posting.size].tolist():
            group = grouper.active.get(gid)
            if group is None or group.last_at < since:
                continue
            relevance[gid] += weight
    top = heapq.nlargest(grouper.rules.candidates, relevance.items(), key=lambda kv: (kv[1], -kv[0]))
    return [gid for gid, _ in top]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_candidates_equal_the_plain_loop_demand_by_demand(seed):
    demands = stream(seed)
    closed = []
    grouper = Grouper(weights(demands), hotspot_rules().grouping, closed.append)
    compared = 0
    for i, demand in enumerate(demands):
        if i % 50 == 49:  # close groups now and then, as the rebuild's sweep does
            grouper.sweep(demand.created_at - grouper.window)
        expected = plain_candidates(grouper, demand)
        assert [g.id for g in grouper.candidates(demand)] == expected
        compared += bool(expected)
        grouper.add(demand)
    grouper.finish()
    assert compared > len(demands) // 2 and closed  # the comparison had something to compare


def test_postings_grow_again_after_being_emptied():
    posting = Postings()
    for gid in range(20):
        posting.append(gid)
    assert posting.ids[: posting.size].tolist() == list(range(20))
    posting.keep(posting.ids[:0])
    posting.append(7)
    posting.append(9)
    assert posting.ids[: posting.size].tolist() == [7, 9]

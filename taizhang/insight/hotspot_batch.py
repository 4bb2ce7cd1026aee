"""Grouping a time-ordered stream of demands in memory: `taizhang hotspots rebuild` and the benchmark.

The same scoring as a demand arriving one at a time (`hotspots.best_group`), with candidates found
through an in-memory inverted index of the groups' words and places instead of the database's
postings of cases. Only groups with a demand in the window stay in memory: a group whose last demand
is older than `window_days` can take no more and is handed to `on_close` (groups of one are dropped),
so memory follows the number of demands in one window, not the total.
"""

from __future__ import annotations

import heapq
from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import timedelta

from .hotspots import Demand, Group, best_group, query_terms
from .rules import Grouping
from .similar import PLACE_PREFIX, Weights

SWEEP_EVERY = 5000  # demands between two sweeps of closed groups


class Grouper:
    """Groups demands given in order of creation; `on_close(group)` receives every group of two or more."""

    def __init__(self, weights: Weights, rules: Grouping, on_close: Callable[[Group], None]):
        self.weights = weights
        self.rules = rules
        self.on_close = on_close
        self.window = timedelta(days=rules.window_days)
        self.active: dict[int, Group] = {}
        self.reporters: dict[int, set[str]] = {}
        self.postings: dict[str, list[int]] = defaultdict(list)
        self.next_id = 1
        self.added = 0
        self.joined = 0

    def candidates(self, demand: Demand) -> list[Group]:
        """Active groups sharing the demand's rarest words or places, the `candidates` most relevant."""
        since = demand.created_at - self.window
        relevance: dict[int, float] = defaultdict(float)
        for term in query_terms(demand, self.weights, self.rules):
            ids = self.postings.get(term)
            if not ids:
                continue
            weight = self.weights.idf(term)
            dead = 0
            for gid in ids:
                group = self.active.get(gid)
                if group is None or group.last_at < since:
                    dead += 1
                    continue
                relevance[gid] += weight
            if dead > len(ids) // 2:  # lazily forget closed groups
                self.postings[term] = [g for g in ids if g in self.active]
        top = heapq.nlargest(self.rules.candidates, relevance.items(), key=lambda kv: (kv[1], -kv[0]))
        return [self.active[gid] for gid, _ in top]

    def add(self, demand: Demand) -> Group:
        """Put one demand in its group (or a new one); returns the group."""
        self.added += 1
        if self.added % SWEEP_EVERY == 0:
            self.sweep(demand.created_at - self.window)
        group, _score = best_group(demand, self.candidates(demand), self.weights, self.rules)
        if group is None:
            group = Group(id=self.next_id)
            self.next_id += 1
            self.active[group.id] = group
            self.reporters[group.id] = set()
        else:
            self.joined += 1
        before = set(group.terms) | {PLACE_PREFIX + p for p in group.places}
        new_reporter = demand.reporter not in self.reporters[group.id]
        self.reporters[group.id].add(demand.reporter)
        group.add(demand, new_reporter, self.rules.group_terms)
        group.members.append(demand)
        for term in [*demand.words, *(PLACE_PREFIX + p for p in demand.places)]:
            if term not in before:
                before.add(term)
                self.postings[term].append(group.id)
        return group

    def add_all(self, demands: Iterable[Demand]) -> None:
        for demand in demands:
            self.add(demand)

    def sweep(self, before) -> None:
        """Close the groups whose last demand is older than `before`."""
        closed = [gid for gid, g in self.active.items() if g.last_at < before]
        for gid in closed:
            self.close(gid)

    def close(self, gid: int) -> None:
        group = self.active.pop(gid)
        self.reporters.pop(gid, None)
        if group.n >= 2:
            self.on_close(group.trimmed(self.rules.group_terms))

    def finish(self) -> None:
        """Close every group still open (the end of the stream)."""
        for gid in list(self.active):
            self.close(gid)
        self.postings.clear()

"""Grouping a time-ordered stream of demands in memory: `taizhang hotspots rebuild` and the benchmark.

The same scoring as a demand arriving one at a time (`hotspots.best_group`), with candidates found
through an in-memory inverted index of the groups' words and places instead of the database's
postings of cases. Only groups with a demand in the window stay in memory: a group whose last demand
is older than `window_days` can take no more and is handed to `on_close` (groups of one are dropped),
so memory follows the number of demands in one window, not the total.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta

import numpy as np

from .hotspots import Demand, Group, best_group, query_terms
from .rules import Grouping
from .similar import PLACE_PREFIX, Weights

SWEEP_EVERY = 5000  # demands between two sweeps of closed groups
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MICROSECOND = timedelta(microseconds=1)


class Postings:
    """Group ids that have had a term, in order of arrival (repeats kept), in a growing numpy array."""

    __slots__ = ("ids", "size")

    def __init__(self) -> None:
        self.ids = np.empty(8, dtype=np.int64)
        self.size = 0

    def append(self, gid: int) -> None:
        if self.size == len(self.ids):
            self.ids = np.concatenate([self.ids, np.empty(max(8, len(self.ids)), dtype=np.int64)])
        self.ids[self.size] = gid
        self.size += 1

    def keep(self, ids: np.ndarray) -> None:
        self.ids, self.size = ids.copy(), len(ids)


def micros(at) -> int:
    """A time as whole microseconds since 1970 (exact, unlike a float timestamp)."""
    return (at - EPOCH) // MICROSECOND


class Grouper:
    """Groups demands given in order of creation; `on_close(group)` receives every group of two or more.

    A term's postings can hold thousands of groups in a busy district's window, so the candidates'
    relevance is summed with numpy over arrays of group ids (per group: alive?, last demand's time),
    in the same order and with the same result as a loop over the lists would give.
    """

    def __init__(self, weights: Weights, rules: Grouping, on_close: Callable[[Group], None]):
        self.weights = weights
        self.rules = rules
        self.on_close = on_close
        self.window = timedelta(days=rules.window_days)
        self.active: dict[int, Group] = {}
        self.reporters: dict[int, set[str]] = {}
        self.postings: dict[str, Postings] = defaultdict(Postings)
        self.alive = np.zeros(1024, dtype=bool)  # by group id
        self.last = np.zeros(1024, dtype=np.int64)  # by group id: its last demand's time (micros)
        self.next_id = 1
        self.added = 0
        self.joined = 0

    def candidates(self, demand: Demand) -> list[Group]:
        """Active groups sharing the demand's rarest words or places, the `candidates` most relevant
        (most idf weight of shared terms, then the older group)."""
        since = micros(demand.created_at - self.window)
        found, weights = [], []
        for term in query_terms(demand, self.weights, self.rules):
            posting = self.postings.get(term)
            if posting is None or not posting.size:
                continue
            ids = posting.ids[: posting.size]
            alive = self.alive[ids]
            live = alive & (self.last[ids] >= since)
            count = int(live.sum())
            if posting.size - count > posting.size // 2:  # lazily forget closed groups
                posting.keep(ids[alive])
            if count:
                found.append(ids[live])
                weights.append(np.full(count, self.weights.idf(term)))
        if not found:
            return []
        # bincount adds each group's weights in the order given: term by term, as a loop would.
        gids, at = np.unique(np.concatenate(found), return_inverse=True)
        relevance = np.bincount(at, weights=np.concatenate(weights))
        k = self.rules.candidates
        if len(gids) > k:
            top = relevance >= np.partition(relevance, len(gids) - k)[len(gids) - k]
            gids, relevance = gids[top], relevance[top]
        order = np.lexsort((gids, -relevance))[:k]
        return [self.active[int(g)] for g in gids[order]]

    def track(self, group: Group) -> None:
        """Record the group's id as alive with its last demand's time."""
        if group.id >= len(self.alive):
            grow = max(len(self.alive), group.id + 1 - len(self.alive))
            self.alive = np.concatenate([self.alive, np.zeros(grow, dtype=bool)])
            self.last = np.concatenate([self.last, np.zeros(grow, dtype=np.int64)])
        self.alive[group.id] = True
        self.last[group.id] = micros(group.last_at)

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
        self.track(group)
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
        self.alive[gid] = False
        self.reporters.pop(gid, None)
        if group.n >= 2:
            self.on_close(group.trimmed(self.rules.group_terms))

    def finish(self) -> None:
        """Close every group still open (the end of the stream)."""
        for gid in list(self.active):
            self.close(gid)
        self.postings.clear()

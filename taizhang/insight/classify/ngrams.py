"""Character n-gram counts computed with numpy: what scikit-learn's char analyser gives, ~10x faster.

Each n-gram (n ≤ 3) is a 64-bit key made of its characters' code points, 21 bits each, the first one
highest: a unigram is below 2^21, a bigram below 2^42, a trigram below 2^63, and since no text here
holds the code point 0 (it is cut away with all other non-words) keys of different lengths never
meet. A batch of texts is joined with code point 0 between them and cut into keys in one pass; the
keys are looked up in a hash table of the vocabulary (open addressing, probed for all keys at once).
So the work per batch is a handful of numpy calls instead of a Python loop over every n-gram and a
dictionary look-up for each — prediction must keep up with thousands of messages a second.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.sparse import csr_matrix
from sklearn.base import BaseEstimator, TransformerMixin

BITS = 21
MAX_N = 3
GOLDEN = np.uint64(0x9E3779B97F4A7C15)  # Fibonacci hashing: the top bits of key × 2^64/φ


def batch_keys(texts: Sequence[str], low: int, high: int) -> tuple[np.ndarray, np.ndarray]:
    """The keys of every text's n-grams for low ≤ n ≤ high (with repeats) and the text each is from."""
    points = np.frombuffer("\0".join(texts).encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    # before[j]: separators in points[:j], so a window points[j:j+n] crosses one if before differs.
    before = np.concatenate(([0], np.cumsum(points == 0)))
    keys, rows = [np.empty(0, np.uint64)], [np.empty(0, np.int64)]
    for n in range(low, high + 1):
        m = len(points) - n + 1
        if m <= 0:
            break
        key = points[:m].copy()
        for i in range(1, n):
            key = (key << np.uint64(BITS)) | points[i : m + i]
        inside = (before[n : m + n] == before[:m]) & (points[:m] != 0)
        keys.append(key[inside])
        rows.append(before[:m][inside])
    return np.concatenate(keys), np.concatenate(rows)


def keys_of(text: str, low: int, high: int) -> np.ndarray:
    """The keys of one text's n-grams for low ≤ n ≤ high (with repeats)."""
    return batch_keys([text], low, high)[0]


class KeyTable:
    """Positions of sorted unique keys, found by hashing (a binary search of a large vocabulary is
    a cache miss per step; this is about one per key)."""

    def __init__(self, keys: np.ndarray):
        self.bits = max(4, (2 * len(keys)).bit_length())  # at most half full
        size = 1 << self.bits
        self.keys = np.zeros(size, dtype=np.uint64)
        self.index = np.full(size, -1, dtype=np.int64)
        pending, slot = np.arange(len(keys)), self.slots(keys)
        while len(pending):  # linear probing: each round, one key per free slot wins it
            wanted = slot[pending]
            free = self.index[wanted] < 0
            taken_slots, first = np.unique(wanted[free], return_index=True)
            winners = pending[free][first]
            self.keys[taken_slots], self.index[taken_slots] = keys[winners], winners
            placed = np.zeros(len(keys), dtype=bool)
            placed[winners] = True
            pending = pending[~placed[pending]]
            slot[pending] = (slot[pending] + 1) & (size - 1)

    def slots(self, keys: np.ndarray) -> np.ndarray:
        return ((keys * GOLDEN) >> np.uint64(64 - self.bits)).astype(np.int64)

    def find(self, keys: np.ndarray) -> np.ndarray:
        """The position of each key in the vocabulary, -1 where it is not in it."""
        out = np.full(len(keys), -1, dtype=np.int64)
        active, slot, mask = np.arange(len(keys)), self.slots(keys), (1 << self.bits) - 1
        while len(active):
            at = slot[active]
            index = self.index[at]
            hit = (index >= 0) & (self.keys[at] == keys[active])
            out[active[hit]] = index[hit]
            active = active[~hit & (index >= 0)]
            slot[active] = (slot[active] + 1) & mask
        return out


class CharNgrams(TransformerMixin, BaseEstimator):
    """Counts of character n-grams of the joined words (or of their first `head` characters).

    Input: the word lists of `features.prepare`. Output: a sparse count matrix over the n-grams seen
    in at least `min_df` training texts. Feed it to a `TfidfTransformer`.
    """

    def __init__(self, low: int = 1, high: int = 3, head: int = 0, min_df: int = 2):
        self.low = low
        self.high = high
        self.head = head
        self.min_df = min_df

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        state.pop("_table", None)  # rebuilt from vocabulary_ when needed: not part of a stored model
        return state

    def _text(self, tokens: Sequence[str]) -> str:
        joined = "".join(tokens)
        return joined[: self.head] if self.head else joined

    def fit(self, docs: Sequence[Sequence[str]], y=None) -> CharNgrams:
        if not 1 <= self.low <= self.high <= MAX_N:
            raise ValueError(f"n-gram lengths must be within 1..{MAX_N}")
        seen = [np.unique(keys_of(self._text(d), self.low, self.high)) for d in docs]
        keys, df = np.unique(np.concatenate(seen) if seen else np.empty(0, np.uint64), return_counts=True)
        self.vocabulary_ = keys[df >= self.min_df]
        self.__dict__.pop("_table", None)
        return self

    def transform(self, docs: Sequence[Sequence[str]]) -> csr_matrix:
        shape = (len(docs), len(self.vocabulary_))
        keys, rows = batch_keys([self._text(d) for d in docs], self.low, self.high)
        if not len(keys) or not len(self.vocabulary_):
            return csr_matrix(shape, dtype=np.float32)
        if getattr(self, "_table", None) is None:
            self._table = KeyTable(self.vocabulary_)
        cols = self._table.find(keys)
        known = cols >= 0
        data = np.ones(int(known.sum()), dtype=np.float32)
        counts = csr_matrix((data, (rows[known], cols[known])), shape=shape)
        counts.sum_duplicates()
        return counts

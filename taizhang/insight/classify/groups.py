"""Groups of near-identical texts, so that cross-validation never tests a model on a copy of what it
was trained on.

Public complaint data repeats itself: the same message posted twice, a template signed by many, and
in the Teddy Cup data the same message published both raw and as stop-word-free jieba tokens. Two
texts are linked when the character trigrams of the shorter one are mostly (`OVERLAP`) found in the
other (the overlap coefficient |A∩B| / min(|A|, |B|), which a copy with stop words removed still
passes); a group is a connected component of links. Texts shorter than `MIN_TRIGRAMS` trigrams link
only when identical.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

import numpy as np
from scipy.sparse import coo_matrix, csr_matrix
from scipy.sparse.csgraph import connected_components

from .ngrams import keys_of

OVERLAP = 0.4
MIN_TRIGRAMS = 6
NOT_WORD = re.compile(r"[^\u4e00-\u9fffa-z0-9]+")
BLOCK = 2000  # rows multiplied at a time (bounds memory: the product of a block is dense-ish)


def trigram_sets(texts: Sequence[str]) -> csr_matrix:
    """A binary text × trigram matrix (letters, digits and CJK only, lower case)."""
    rows, cols, index = [], [], {}
    for i, text in enumerate(texts):
        clean = NOT_WORD.sub("", unicodedata.normalize("NFKC", text or "").lower())
        keys = np.unique(keys_of(clean, 3, 3))
        ids = [index.setdefault(int(k), len(index)) for k in keys]
        cols.extend(ids)
        rows.extend([i] * len(ids))
    data = np.ones(len(cols), dtype=np.float32)
    return csr_matrix((data, (rows, cols)), shape=(len(texts), max(len(index), 1)))


def duplicate_groups(texts: Sequence[str], overlap: float = OVERLAP) -> np.ndarray:
    """A group number per text: texts that are (near) copies of each other share one."""
    n = len(texts)
    if n == 0:
        return np.empty(0, dtype=np.int64)
    sets = trigram_sets(texts)
    sizes = np.asarray(sets.sum(axis=1)).ravel()
    first, second = [], []
    exact: dict[str, int] = {}
    for i, text in enumerate(texts):  # identical texts, however short
        j = exact.setdefault(text, i)
        if j != i:
            first.append(j)
            second.append(i)
    transposed = sets.T.tocsr()
    for start in range(0, n, BLOCK):
        shared = (sets[start : start + BLOCK] @ transposed).tocoo()
        a, b = shared.row + start, shared.col
        keep = a < b
        a, b, common = a[keep], b[keep], shared.data[keep]
        smaller = np.minimum(sizes[a], sizes[b])
        link = (smaller >= MIN_TRIGRAMS) & (common >= overlap * smaller)
        first.extend(a[link].tolist())
        second.extend(b[link].tolist())
    graph = coo_matrix((np.ones(len(first)), (first, second)), shape=(n, n))
    _, labels = connected_components(graph, directed=False)
    return labels

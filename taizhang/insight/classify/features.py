"""What the classifier reads of a text: rjieba words and character n-grams, stop words left out.

Training data comes in two kinds: raw messages ("我家小区门口的路灯坏了…") and messages published
only as jieba tokens with stop words removed, joined without spaces ("小区门口路灯坏"). Both are
brought to the second form before anything is counted — words are cut with rjieba, stop words,
punctuation and lone characters without meaning dropped — so a raw message and its segmented copy
give nearly the same features, and a new demand at intake is read the way the training data was.

The functions here are referred to by name from a pickled model: renaming or changing them changes
what a stored model computes, so it needs a new `store.FORMAT_VERSION`.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

import numpy as np
import rjieba
from scipy.sparse import csr_matrix

from taizhang.insight.text import STOP_WORDS

WORD = re.compile(r"[\u4e00-\u9fffa-z0-9]+")
# Characters a text may hold that carry nothing (the segmented data keeps Excel's "_x000D_" for CR).
NOISE = re.compile(r"_?x000d_?")
MAX_CHARS = 3000  # what is read of a very long message: its start says what it is about
# Full-width ASCII and the ideographic space, mapped as NFKC maps them: most messages need nothing
# else, and checking that is far cheaper than normalising (the result is the same either way).
FULL_WIDTH = {c: c - 0xFEE0 for c in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}


def words(text: str) -> list[str]:
    """The content words of a text in order: lower case, no punctuation, no stop words."""
    text = (text or "").translate(FULL_WIDTH)
    if not unicodedata.is_normalized("NFKC", text):
        text = unicodedata.normalize("NFKC", text)
    text = NOISE.sub(" ", text.lower()[:MAX_CHARS])
    return [word for word in rjieba.cut(text) if word not in STOP_WORDS and WORD.fullmatch(word)]


def prepare(texts: Iterable[str]) -> list[list[str]]:
    """The words of each text (the pipeline's first step; both vectorisers read its output)."""
    return [words(t) for t in texts]


def same(tokens: list[str]) -> list[str]:
    """The words as they are (the word vectoriser's analyser)."""
    return tokens


def word_counts(vocabulary: dict[str, int], docs: list[list[str]], dtype=np.float32) -> csr_matrix:
    """What a fitted word vectoriser's `CountVectorizer.transform` gives for `same`'s word lists.

    Its own loop keeps a dictionary per text; at prediction this does the look-ups with `map` and
    lets the sparse matrix sum repeats — the same counts in a third of the time.
    """
    look = vocabulary.get
    cols: list[int] = []
    rows: list[int] = []
    for i, doc in enumerate(docs):
        found = [j for j in map(look, doc) if j is not None]
        cols.extend(found)
        rows.extend([i] * len(found))
    data = np.ones(len(cols), dtype=dtype)
    counts = csr_matrix((data, (rows, cols)), shape=(len(docs), len(vocabulary)))
    counts.sum_duplicates()
    return counts

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

import rjieba

from taizhang.insight.text import STOP_WORDS

WORD = re.compile(r"[\u4e00-\u9fffa-z0-9]+")
# Characters a text may hold that carry nothing (the segmented data keeps Excel's "_x000D_" for CR).
NOISE = re.compile(r"_?x000d_?")
MAX_CHARS = 3000  # what is read of a very long message: its start says what it is about


def words(text: str) -> list[str]:
    """The content words of a text in order: lower case, no punctuation, no stop words."""
    text = NOISE.sub(" ", unicodedata.normalize("NFKC", text or "").lower()[:MAX_CHARS])
    out = []
    for word in rjieba.cut(text):
        if word in STOP_WORDS or not WORD.fullmatch(word):
            continue
        out.append(word)
    return out


def prepare(texts: Iterable[str]) -> list[list[str]]:
    """The words of each text (the pipeline's first step; both vectorisers read its output)."""
    return [words(t) for t in texts]


def same(tokens: list[str]) -> list[str]:
    """The words as they are (the word vectoriser's analyser)."""
    return tokens

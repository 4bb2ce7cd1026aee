"""The classifier's fast feature arithmetic gives exactly what the plain computation gives."""

from __future__ import annotations

import unicodedata

import numpy as np
import rjieba
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.feature_extraction.text import TfidfVectorizer

from taizhang.insight.classify import features
from taizhang.insight.classify.model import transform
from taizhang.insight.classify.ngrams import BITS, CharNgrams, KeyTable, batch_keys
from taizhang.insight.text import STOP_WORDS

TEXTS = [
    "小区门口的路灯坏了，晚上很黑，请尽快维修。",
    "ＡＢＣ　１２３：全角字符（１）和 ① ㎡ … ﬁ",
    "反映西地省A市开元路地铁施工噪音扰民问题_x000D_",
    "",
    "e\u0301 Ａ\u0301 路灯",
    "孩子上学难，学校学位不足",
]
# Letters of the data's kinds: CJK, ASCII, full-width forms, punctuation, combining marks, controls.
ALPHABET = st.sampled_from(
    list("路灯小区噪音学校的了，。！ abcXYZ019") + ["Ａ", "１", "　", "\u0301", "①", "\0", "…"]
)


def plain_words(text: str) -> list[str]:
    """features.words as first written: normalise everything, test every word with the pattern."""
    text = features.NOISE.sub(" ", unicodedata.normalize("NFKC", text or "").lower()[: features.MAX_CHARS])
    return [w for w in rjieba.cut(text) if w not in STOP_WORDS and features.WORD.fullmatch(w)]


def plain_keys(text: str, low: int, high: int) -> list[int]:
    """Every n-gram's key, computed one n-gram at a time."""
    out = []
    for n in range(low, high + 1):
        for i in range(len(text) - n + 1):
            key = 0
            for ch in text[i : i + n]:
                key = (key << BITS) | ord(ch)
            out.append(key)
    return out


@settings(max_examples=200, deadline=None)
@given(st.text(ALPHABET, max_size=60))
def test_words_skip_normalising_only_where_it_changes_nothing(text):
    assert features.words(text) == plain_words(text)


def test_words_of_the_fixtures_match_the_plain_computation():
    for text in TEXTS:
        assert features.words(text) == plain_words(text)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.text(st.sampled_from("路灯小区噪音abc1"), max_size=12), max_size=6), st.integers(1, 3))
def test_keys_of_a_batch_are_each_texts_keys_with_its_row(texts, low):
    keys, rows = batch_keys(texts, low, 3)
    for i, text in enumerate(texts):
        assert sorted(keys[rows == i].tolist()) == sorted(plain_keys(text, low, 3))
    assert len(keys) == len(rows) == sum(len(plain_keys(t, low, 3)) for t in texts)


def test_key_table_finds_every_vocabulary_key_and_nothing_else():
    rng = np.random.default_rng(0)
    vocab = np.unique(rng.integers(1, 2**62, 5000, dtype=np.int64).astype(np.uint64))
    table = KeyTable(vocab)
    assert table.find(vocab).tolist() == list(range(len(vocab)))
    absent = np.setdiff1d(rng.integers(1, 2**62, 5000, dtype=np.int64).astype(np.uint64), vocab)
    assert (table.find(absent) == -1).all()
    assert KeyTable(np.empty(0, np.uint64)).find(vocab[:3]).tolist() == [-1, -1, -1]


def test_char_ngram_counts_of_a_batch_equal_one_text_at_a_time():
    docs = features.prepare(TEXTS * 3)
    for head in (0, 20):
        counter = CharNgrams(1, 3, head, min_df=2).fit(docs)
        batch = counter.transform(docs).toarray()
        single = np.vstack([counter.transform([d]).toarray() for d in docs])
        assert np.array_equal(batch, single)
        for i, doc in enumerate(docs):  # and each count is the number of times the n-gram occurs
            text = counter._text(doc)
            keys = plain_keys(text, 1, 3)
            for col, key in enumerate(counter.vocabulary_.tolist()):
                assert batch[i, col] == keys.count(key)


def test_a_stored_counter_pickles_without_its_table():
    import pickle

    counter = CharNgrams().fit(features.prepare(TEXTS * 2))
    counter.transform(features.prepare(TEXTS))
    assert "_table" in counter.__dict__
    copy = pickle.loads(pickle.dumps(counter))
    assert "_table" not in copy.__dict__
    assert np.array_equal(
        copy.transform(features.prepare(TEXTS)).toarray(),
        counter.transform(features.prepare(TEXTS)).toarray(),
    )


def test_word_counts_equal_the_vectoriser_own():
    docs = features.prepare(TEXTS * 2)
    vectoriser = TfidfVectorizer(analyzer=features.same, sublinear_tf=True, dtype=np.float32).fit(docs)
    ours = transform(vectoriser, docs)
    theirs = vectoriser.transform(docs)
    assert ours.dtype == theirs.dtype
    assert np.array_equal(ours.toarray(), theirs.toarray())

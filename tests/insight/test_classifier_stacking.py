"""The classifier's core: NB-SVM, and probabilities stacked on its out-of-fold margins (or a temperature)."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy.sparse import csr_matrix, diags
from sklearn.linear_model import LogisticRegression
from sklearn.svm import LinearSVC

from taizhang.insight.classify.nbsvm import NBSVM, StackedProbabilities, Temperature


def test_nbsvm_folds_its_scaling_into_the_weights_and_stacking_copes_with_a_missing_topic():
    rng = np.random.default_rng(0)
    X = csr_matrix(rng.random((40, 12)) * (rng.random((40, 12)) < 0.4))
    y = np.array(["a", "b", "c", "d"] * 10)
    nbsvm = NBSVM(C=0.5).fit(X, y)
    present = X.copy()
    present.data[:] = 1
    r = nbsvm.ratios(present, y == "b")
    svm = LinearSVC(C=0.5).fit(X @ diags(r), (y == "b").astype(int))
    assert np.allclose(nbsvm.decision_function(X)[:, 1], svm.decision_function(X @ diags(r)))
    # "d" is one group: the fold that tests it trains without it, and its margins are ABSENT there.
    groups = np.where(y == "d", 99, np.arange(40))
    stacked = StackedProbabilities(NBSVM(), folds=3, min_groups=1).fit(X, y, groups=groups)
    probabilities = stacked.predict_proba(X)
    assert isinstance(stacked.stacker_, LogisticRegression)
    assert list(stacked.classes_) == ["a", "b", "c", "d"] and np.allclose(probabilities.sum(axis=1), 1)


def templates(
    topics: int = 3, per_topic: int = 3, copies: int = 4
) -> tuple[csr_matrix, np.ndarray, np.ndarray]:
    """Each topic a few templates copied several times, each template with words of its own."""
    rows, y, groups = [], [], []
    width = topics * per_topic * 3
    for t in range(topics):
        for k in range(per_topic):
            template = t * per_topic + k
            row = np.zeros(width)
            row[template * 3 : template * 3 + 3] = 1
            rows += [row] * copies
            y += ["abc"[t]] * copies
            groups += [template] * copies
    return csr_matrix(np.array(rows)), np.array(y), np.array(groups)


def test_with_few_distinct_messages_per_topic_the_svms_decide():
    # Out of fold, a held-out template looks like none of its topic (its topic has fewer examples left
    # than the others): a regression stacked on those margins learns to invert the SVMs.
    X, y, groups = templates()
    stacked = StackedProbabilities(NBSVM(), folds=3).fit(X, y, groups=groups)
    assert isinstance(stacked.stacker_, Temperature)
    assert (stacked.predict(X) == y).all()
    probabilities = stacked.predict_proba(X)
    margins = stacked.base_.decision_function(X)
    assert (probabilities.argmax(axis=1) == margins.argmax(axis=1)).all()
    assert np.allclose(probabilities.sum(axis=1), 1)
    assert Temperature.BOUNDS[0] <= stacked.stacker_.scale_ <= Temperature.BOUNDS[1]
    X, y, groups = templates(per_topic=10, copies=1)
    assert isinstance(
        StackedProbabilities(NBSVM(), folds=3).fit(X, y, groups=groups).stacker_, LogisticRegression
    )


@given(
    arrays(np.float64, st.tuples(st.integers(1, 6), st.integers(2, 5)), elements=st.floats(-5, 5)),
    st.floats(0.01, 20),
)
def test_a_temperature_never_reorders_topics(margins, scale):
    temperature = Temperature()
    temperature.scale_ = scale
    probabilities = temperature.predict_proba(margins)
    assert np.allclose(probabilities.sum(axis=1), 1)
    for row, p in zip(margins, probabilities, strict=True):
        order = np.argsort(row, kind="stable")
        assert (np.diff(p[order]) >= -1e-12).all()  # a larger margin never gets a smaller probability


def test_the_temperature_fits_how_sure_the_margins_deserve_to_sound():
    classes = np.array(["a", "b"])
    right = np.array([[2.0, -2.0], [-2.0, 2.0]] * 20)
    y = np.array(["a", "b"] * 20)
    assert Temperature().fit(right, y, classes).scale_ > 5  # always right: sure
    wrong = Temperature().fit(right, y[::-1].copy(), classes)
    assert wrong.scale_ < 0.05  # always wrong: as unsure as it may be, never inverted

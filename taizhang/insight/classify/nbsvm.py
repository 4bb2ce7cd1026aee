"""The classifier proper: NB-SVM, with probabilities from a logistic regression stacked on its margins.

**NB-SVM** (Wang & Manning 2012, "Baselines and bigrams"): for each topic, a linear SVM separating it
from the rest on features first scaled by their naive-Bayes log-count ratio — how much more often a
feature occurs in that topic's texts than in the others'. Words typical of one topic are stretched,
shared ones shrunk, so the SVM's penalty falls mostly on uninformative features. Here the ratio is
taken to the power `power` (sign kept; 0.5 worked better than Wang & Manning's 1). The scaling is
folded into the weights after training, so predicting costs what a plain linear model costs.

**Stacked probabilities.** The margins of the seven one-vs-rest SVMs are not probabilities, and their
argmax is not the best decision either. `StackedProbabilities` trains the SVMs on `folds` grouped
folds of the training data (copies of one message stay in one fold, so a margin is never measured on
a message the SVMs saw), standardises each row of out-of-fold margins, and fits a multinomial logistic
regression from them to the topics; the SVMs used later are then trained on all the data. The
regression both calibrates (its probabilities are the confidence intake compares with a threshold)
and decides, weighing one topic's margin against the others'. Figures in bench/README.md.

With few distinct messages per topic (a new platform training on its first closed cases, many of
them copies of a few complaints) the out-of-fold margins mislead: a topic whose only other messages
sit in the held-out fold looks like a "no", and the regression learnt to invert the SVMs (5% right on
the demo's cases where the SVMs alone got 40%). Below `min_groups` groups in the smallest topic the
stack is only a `Temperature`: one positive scale on the margins, so the SVMs decide and their
out-of-fold fit only sets how sure the probabilities sound (on teddy2020c samples the full stack
stopped losing to the SVMs alone at about 10 groups per topic).

Both are pickled into stored models: changing what they compute needs a new `store.FORMAT_VERSION`.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import minimize_scalar
from scipy.sparse import diags, spmatrix
from scipy.special import log_softmax, softmax
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedGroupKFold
from sklearn.svm import LinearSVC

ABSENT = -1.0  # the margin given to a topic a fold's training part lacks: a sure "no"


class NBSVM(ClassifierMixin, BaseEstimator):
    """One-vs-rest linear SVMs on features scaled by naive-Bayes log-count ratios."""

    def __init__(self, C: float = 0.5, power: float = 0.5, alpha: float = 1.0):
        self.C = C
        self.power = power
        self.alpha = alpha  # smoothing of the feature counts

    def ratios(self, present: spmatrix, positive: np.ndarray) -> np.ndarray:
        """Log-count ratios of each feature between the positive rows and the others, powered."""
        p = self.alpha + np.asarray(present[positive].sum(axis=0)).ravel()
        q = self.alpha + np.asarray(present[~positive].sum(axis=0)).ravel()
        r = np.log((p / p.sum()) / (q / q.sum()))
        return np.sign(r) * np.abs(r) ** self.power

    def fit(self, X: spmatrix, y) -> NBSVM:
        y = np.asarray(y)
        self.classes_ = np.unique(y)
        present = X.copy().tocsr()
        present.data[:] = 1  # the ratio counts texts that have a feature, not its weight
        # Features × topics, C order: the product with a sparse row reads it as it lies (the transpose
        # of a topics × features array was copied whole at every call: 12 ms for one message).
        weights = np.zeros((X.shape[1], len(self.classes_)))
        intercept = np.zeros(len(self.classes_))
        for i, label in enumerate(self.classes_):
            positive = y == label
            if positive.all():  # a single topic: it is always the answer
                intercept[i] = 1.0
                continue
            r = self.ratios(present, positive)
            svm = LinearSVC(C=self.C).fit(X @ diags(r), positive.astype(np.int8))
            weights[:, i] = svm.coef_.ravel() * r  # (x * r) · w  ==  x · (r * w)
            intercept[i] = svm.intercept_[0]
        self.weights_, self.intercept_ = weights, intercept
        return self

    def decision_function(self, X: spmatrix) -> np.ndarray:
        return np.asarray(X @ self.weights_) + self.intercept_

    def predict(self, X: spmatrix) -> np.ndarray:
        return self.classes_[self.decision_function(X).argmax(axis=1)]


def standardised(margins: np.ndarray) -> np.ndarray:
    """Each row's margins centred and scaled to unit spread: only how topics compare counts."""
    spread = margins.std(axis=1, keepdims=True)
    return (margins - margins.mean(axis=1, keepdims=True)) / np.where(spread > 0, spread, 1.0)


class Temperature:
    """Probabilities softmax(scale × margins) with one scale > 0 fitted by likelihood: never reorders topics."""

    BOUNDS = (0.01, 20.0)

    def fit(self, margins: np.ndarray, y: np.ndarray, classes: np.ndarray) -> Temperature:
        truth = np.searchsorted(classes, y)
        rows = np.arange(len(y))

        def loss(scale: float) -> float:
            return -float(log_softmax(scale * margins, axis=1)[rows, truth].mean())

        self.scale_ = float(minimize_scalar(loss, bounds=self.BOUNDS, method="bounded").x)
        return self

    def predict_proba(self, margins: np.ndarray) -> np.ndarray:
        return softmax(self.scale_ * margins, axis=1)


class StackedProbabilities(ClassifierMixin, BaseEstimator):
    """`base`'s margins turned into topic probabilities by a logistic regression fitted out of fold.

    `fit(X, y, groups=...)` keeps rows of one group (near-copies of one message) in one fold; without
    groups every row is its own. `folds` is reduced when the data have fewer groups. Below `min_groups`
    groups in the smallest topic the regression is replaced by a `Temperature`.
    """

    def __init__(self, base=None, folds: int = 3, C: float = 0.3, seed: int = 0, min_groups: int = 10):
        self.base = base
        self.folds = folds
        self.C = C
        self.seed = seed
        self.min_groups = min_groups

    def margins(self, model, X: spmatrix) -> np.ndarray:
        """`model`'s margins as columns of `self.classes_` (topics it never saw get ABSENT)."""
        out = np.full((X.shape[0], len(self.classes_)), ABSENT)
        out[:, np.searchsorted(self.classes_, model.classes_)] = model.decision_function(X)
        return out

    def fit(self, X: spmatrix, y, groups=None) -> StackedProbabilities:
        y = np.asarray(y)
        self.classes_ = np.unique(y)
        base = self.base if self.base is not None else NBSVM()
        groups = np.arange(len(y)) if groups is None else np.asarray(groups)
        folds = min(self.folds, len(np.unique(groups)))
        out_of_fold = np.zeros((len(y), len(self.classes_)))
        splitter = StratifiedGroupKFold(folds, shuffle=True, random_state=self.seed)
        for train, test in splitter.split(X, y, groups):
            if len(np.unique(y[train])) < 2:  # a fold too small to learn anything: a neutral guess
                continue
            out_of_fold[test] = self.margins(clone(base).fit(X[train], y[train]), X[test])
        fewest = min(len(np.unique(groups[y == label])) for label in self.classes_)
        if fewest >= self.min_groups:
            self.stacker_ = LogisticRegression(C=self.C, max_iter=1000).fit(standardised(out_of_fold), y)
        else:
            self.stacker_ = Temperature().fit(standardised(out_of_fold), y, self.classes_)
        self.base_ = clone(base).fit(X, y)
        return self

    def predict_proba(self, X: spmatrix) -> np.ndarray:
        return self.stacker_.predict_proba(standardised(self.margins(self.base_, X)))

    def predict(self, X: spmatrix) -> np.ndarray:
        return self.classes_[self.predict_proba(X).argmax(axis=1)]

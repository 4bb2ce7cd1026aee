"""The topic classifier: TF-IDF over words and character n-grams, NB-SVM, stacked probabilities.

Three blocks of features, each TF-IDF with sublinear term frequency and words seen at least twice:

* the rjieba words of the text (stop words out, see features.py);
* character 1–3-grams of those words joined — robust to words cut differently and to typos;
* character 1–3-grams of the first `HEAD_CHARS` characters: the start of a message is its subject
  ("反映…小区停车收费问题"), which says most about the topic; counting it again weighs it more.

One-vs-rest linear SVMs on naive-Bayes-scaled features (NB-SVM) separate the topics; a logistic
regression fitted on their out-of-fold margins (folds grouped by near-copies, see groups.py) turns the
margins into probabilities and decides: the confidence that intake compares with the locality's
threshold (nbsvm.py). Choices and their figures (grouped cross-validation) are in bench/README.md.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.sparse import hstack
from sklearn import config_context
from sklearn.feature_extraction.text import TfidfTransformer, TfidfVectorizer
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.preprocessing import FunctionTransformer

from taizhang.errors import ActionError

from .features import prepare, same, word_counts
from .groups import duplicate_groups
from .nbsvm import NBSVM, StackedProbabilities
from .ngrams import CharNgrams

SVM_C = 0.5
NB_POWER = 0.5  # the naive-Bayes ratios' exponent (Wang & Manning's 1 scored lower)
STACK_C = 0.3  # regularisation of the logistic regression on the margins
HEAD_CHARS = 20
MIN_DF = 2  # a word or n-gram counts when at least this many training texts have it …
SMALL = 1000  # … unless there are fewer texts than this: then every word counts
CALIBRATION_FOLDS = 3  # folds of out-of-fold margins for the stacked regression
STACK_MIN_GROUPS = 10  # fewer distinct messages in a topic: a temperature instead of the regression
MIN_PER_LABEL = 2  # a label needs this many examples for the calibration's folds
TOP = 3  # alternatives kept with a prediction


@dataclass(frozen=True)
class Prediction:
    """The most likely topic, its confidence (0–1) and the next likely ones with theirs."""

    label: str
    confidence: float
    ranked: tuple[tuple[str, float], ...]


def build_pipeline(folds: int = CALIBRATION_FOLDS, min_df: int = MIN_DF) -> Pipeline:
    """An untrained pipeline: texts in, calibrated topic probabilities out.

    Fit it with `classify__groups=` (near-copy groups of the texts) so the stacked regression's folds
    never split a message's copies; `train_pipeline` does.
    """

    def chars(head: int) -> Pipeline:
        return Pipeline(
            [("count", CharNgrams(1, 3, head, min_df)), ("weigh", TfidfTransformer(sublinear_tf=True))]
        )

    words = TfidfVectorizer(analyzer=same, sublinear_tf=True, min_df=min_df, dtype=np.float32)
    features = FeatureUnion([("words", words), ("chars", chars(0)), ("head", chars(HEAD_CHARS))])
    classify = StackedProbabilities(
        NBSVM(C=SVM_C, power=NB_POWER), folds=folds, C=STACK_C, min_groups=STACK_MIN_GROUPS
    )
    return Pipeline(
        [
            ("prepare", FunctionTransformer(prepare)),
            ("features", features),
            ("classify", classify),
        ]
    )


def check_training_data(texts: Sequence[str], labels: Sequence[str]) -> None:
    """Enough examples of every label to train and calibrate; ActionError says what is missing."""
    if len(texts) != len(labels):
        raise ActionError("training_data_invalid", "文本与标签的条数不一致", 422)
    counts = Counter(labels)
    if len(counts) < 2:
        raise ActionError("training_data_invalid", "训练数据至少需要两个不同的标签", 422)
    few = sorted(label for label, n in counts.items() if n < MIN_PER_LABEL)
    if few:
        raise ActionError(
            "training_data_invalid",
            f"每个标签至少需要 {MIN_PER_LABEL} 条样本，以下标签不足：{'、'.join(few)}",
            422,
        )


def train_pipeline(texts: Sequence[str], labels: Sequence[str]) -> Pipeline:
    """A pipeline trained on the texts and their labels (raises ActionError for unusable data)."""
    check_training_data(texts, labels)
    folds = min(CALIBRATION_FOLDS, min(Counter(labels).values()))
    pipeline = build_pipeline(folds, MIN_DF if len(texts) >= SMALL else 1)
    pipeline.fit(list(texts), list(labels), classify__groups=duplicate_groups(list(texts)))
    return pipeline


def predict(pipeline: Pipeline, texts: Sequence[str]) -> list[Prediction]:
    """The topic of each text with its confidence and the runners-up."""
    if not texts:
        return []
    with config_context(assume_finite=True, skip_parameter_validation=True):
        probabilities = probabilities_of(pipeline, list(texts))
    classes = [str(c) for c in pipeline.classes_]
    out = []
    for row in probabilities:
        order = np.argsort(-row)[:TOP]
        ranked = tuple((classes[i], round(float(row[i]), 4)) for i in order)
        out.append(Prediction(ranked[0][0], ranked[0][1], ranked))
    return out


def probabilities_of(pipeline: Pipeline, texts: list[str]) -> np.ndarray:
    """`pipeline.predict_proba(texts)`, its steps called one by one.

    The same arithmetic without the machinery around it (a feature union dispatches its parts through
    joblib even when sequential): at intake, one message at a time, that machinery was half the cost.
    """
    data: object = texts
    for _, step in pipeline.steps[:-1]:
        if isinstance(step, FeatureUnion) and not step.transformer_weights:
            data = hstack([transform(part, data) for _, part in step.transformer_list], format="csr")
        else:
            data = step.transform(data)
    return pipeline.steps[-1][1].predict_proba(data)


def transform(step, docs):
    """`step.transform(docs)`, with the word vectoriser's counting done by `features.word_counts`."""
    if isinstance(step, TfidfVectorizer) and step.analyzer is same:
        # `_tfidf` is the fitted weighting the vectoriser applies to its counts; stored models are
        # bound to the scikit-learn minor version they were trained with (store.py), so it is there.
        return step._tfidf.transform(word_counts(step.vocabulary_, docs, step.dtype), copy=False)
    return step.transform(docs)

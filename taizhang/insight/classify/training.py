"""Training a model into the model directory, and evaluating one on labelled data.

`do_train` holds out a share of the data first (grouped: copies of a message stay on one side),
trains on the rest and scores the held-out part — the figure written into the manifest — then trains
the model it stores on all the data. `evaluate_model` scores a stored model on any labelled data.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sklearn.model_selection import GroupShuffleSplit

from taizhang.errors import ActionError

from . import model as topic_model
from .data import Examples
from .groups import duplicate_groups
from .metrics import Evaluation, evaluate
from .model import check_training_data, train_pipeline
from .store import TopicModel, activate, save_model

SEED = 20200


@dataclass
class TrainResult:
    model: TopicModel
    holdout: Evaluation | None
    seconds: float
    activated: bool


def split_holdout(examples: Examples, share: float) -> tuple[list[int], list[int]]:
    """Indices (train, held out) with about `share` of the groups of near-copies held out."""
    groups = duplicate_groups(examples.texts)
    splitter = GroupShuffleSplit(n_splits=1, test_size=share, random_state=SEED)
    train, test = next(splitter.split(examples.texts, examples.labels, groups))
    return train.tolist(), test.tolist()


def holdout_score(examples: Examples, share: float) -> Evaluation | None:
    """Macro-F1 and the rest on a held-out share, or None when the data are too few to spare any."""
    train, test = split_holdout(examples, share)
    labels = np.array(examples.labels)
    try:
        check_training_data([examples.texts[i] for i in train], labels[train].tolist())
    except ActionError:
        return None
    pipeline = train_pipeline([examples.texts[i] for i in train], labels[train].tolist())
    predicted = [p.label for p in topic_model.predict(pipeline, [examples.texts[i] for i in test])]
    return evaluate(labels[test].tolist(), predicted)


def do_train(examples: Examples, root: Path, holdout: float = 0.2, make_active: bool = True) -> TrainResult:
    """Train, store a new version under `root`, and (by default) make it the active one."""
    check_training_data(examples.texts, examples.labels)
    if not 0 <= holdout < 1:
        raise ActionError("invalid", "留出比例须在 0 到 1 之间（0 表示不留出）", 422)
    started = time.perf_counter()
    scored = holdout_score(examples, holdout) if holdout else None
    pipeline = train_pipeline(examples.texts, examples.labels)
    seconds = time.perf_counter() - started
    counts = {label: examples.labels.count(label) for label in sorted(set(examples.labels))}
    stored = save_model(
        pipeline,
        root,
        labels=[str(c) for c in pipeline.classes_],
        training={
            "source": examples.source,
            "rows": len(examples.texts),
            "skipped": examples.skipped,
            "sha256": examples.sha256(),
            "label_counts": counts,
            "seconds": round(seconds, 1),
        },
        metrics={"holdout": {"share": holdout, **scored.as_dict()}} if scored else {},
        params={
            "classifier": "nb-svm+stacked-lr",
            "svm_c": topic_model.SVM_C,
            "nb_power": topic_model.NB_POWER,
            "stack_c": topic_model.STACK_C,
            "head_chars": topic_model.HEAD_CHARS,
            "min_df": topic_model.MIN_DF,
            "calibration_folds": topic_model.CALIBRATION_FOLDS,
            "stack_min_groups": topic_model.STACK_MIN_GROUPS,
        },
    )
    if make_active:
        activate(root, stored.version)
    return TrainResult(stored, scored, seconds, make_active)


def evaluate_model(stored: TopicModel, examples: Examples) -> Evaluation:
    """The stored model's predictions on the examples, scored over the labels true or predicted."""
    if not examples.texts:
        raise ActionError("training_data_invalid", "评估数据中没有可用的行", 422)
    predicted = [p.label for p in stored.predict(examples.texts)]
    return evaluate(examples.labels, predicted)

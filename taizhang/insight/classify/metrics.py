"""How well predicted topics match the true ones: macro-F1 (the Teddy Cup's metric), per-class
precision/recall/F1 and the confusion matrix, as figures and as text aligned for Chinese labels."""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from sklearn.metrics import confusion_matrix, f1_score, precision_recall_fscore_support


@dataclass
class ClassScore:
    label: str
    precision: float
    recall: float
    f1: float
    support: int


@dataclass
class Evaluation:
    """Scores of predictions against true labels; `labels` orders the classes and the matrix."""

    labels: list[str]
    macro_f1: float
    accuracy: float
    classes: list[ClassScore]
    matrix: list[list[int]]  # matrix[i][j]: true labels[i] predicted as labels[j]
    count: int

    def as_dict(self) -> dict:
        return {
            "macro_f1": round(self.macro_f1, 4),
            "accuracy": round(self.accuracy, 4),
            "count": self.count,
            "classes": {
                c.label: {
                    "precision": round(c.precision, 4),
                    "recall": round(c.recall, 4),
                    "f1": round(c.f1, 4),
                    "support": c.support,
                }
                for c in self.classes
            },
        }


def evaluate(
    truth: Sequence[str], predicted: Sequence[str], labels: Sequence[str] | None = None
) -> Evaluation:
    """Scores over every label that is true or predicted at least once (or the given labels)."""
    names = list(labels) if labels else sorted(set(truth) | set(predicted))
    p, r, f, s = precision_recall_fscore_support(truth, predicted, labels=names, zero_division=0)
    macro = f1_score(truth, predicted, labels=names, average="macro", zero_division=0)
    right = sum(t == q for t, q in zip(truth, predicted, strict=True))
    classes = [
        ClassScore(name, float(p[i]), float(r[i]), float(f[i]), int(s[i])) for i, name in enumerate(names)
    ]
    matrix = confusion_matrix(truth, predicted, labels=names).tolist()
    return Evaluation(names, float(macro), right / max(len(truth), 1), classes, matrix, len(truth))


def width(text: str) -> int:
    """Terminal columns: wide (CJK) characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def pad(text: str, size: int, left: bool = False) -> str:
    gap = " " * max(size - width(text), 0)
    return text + gap if left else gap + text


def report(result: Evaluation) -> str:
    """Macro-F1 and accuracy, a per-class table and the confusion matrix (rows: true, columns: predicted)."""
    lines = [
        f"宏平均 F1（macro-F1）：{result.macro_f1:.4f}",
        f"准确率：{result.accuracy:.4f}（{result.count} 条）",
        "",
    ]
    first = max([width("类别"), *(width(c.label) for c in result.classes)])
    head = ["精确率", "召回率", "F1", "样本数"]
    cols = [max(width(h), 7) for h in head]
    lines.append("  ".join([pad("类别", first, True), *(pad(h, w) for h, w in zip(head, cols, strict=True))]))
    for c in result.classes:
        cells = [f"{c.precision:.4f}", f"{c.recall:.4f}", f"{c.f1:.4f}", str(c.support)]
        lines.append(
            "  ".join([pad(c.label, first, True), *(pad(x, w) for x, w in zip(cells, cols, strict=True))])
        )
    lines += ["", "混淆矩阵（行：真实类别，列：预测类别）"]
    size = max(
        [*(width(name) for name in result.labels), *(len(str(v)) for row in result.matrix for v in row)]
    )
    lines.append("  ".join([pad("", first, True), *(pad(name, size) for name in result.labels)]))
    for name, row in zip(result.labels, result.matrix, strict=True):
        lines.append("  ".join([pad(name, first, True), *(pad(str(v), size) for v in row)]))
    return "\n".join(lines)

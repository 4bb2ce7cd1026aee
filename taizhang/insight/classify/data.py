"""Training and evaluation data: a labelled CSV file, or the platform's own closed cases.

A CSV needs a text column (`content` by default; several columns joined with commas, e.g.
`留言主题,留言详情`, are read as one text) and a label column (`一级标签` by default). Rows with an
empty text or label are skipped and counted. Cases give `title + description` as the text and a form
field (`topic`, 问题领域) as the label: what the people who handled them settled on.
"""

from __future__ import annotations

import csv
import hashlib
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from taizhang.errors import ActionError


@dataclass
class Examples:
    """Texts with their labels, where they came from and how many rows were left out."""

    texts: list[str] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)
    source: str = ""
    skipped: int = 0

    def sha256(self) -> str:
        """A hash of the texts and labels in order: which data a model learnt."""
        digest = hashlib.sha256()
        for text, label in zip(self.texts, self.labels, strict=True):
            digest.update(text.encode("utf-8") + b"\x1f" + label.encode("utf-8") + b"\x1e")
        return digest.hexdigest()


def case_text(title: str, description: str = "") -> str:
    """What the model reads of a case: its title, then its description."""
    return f"{(title or '').strip()}\n{(description or '').strip()}".strip()


def data_error(message: str) -> ActionError:
    return ActionError("training_data_invalid", message, 422)


def read_csv(path: Path | str, text_column: str = "content", label_column: str = "一级标签") -> Examples:
    """Texts and labels of a CSV file (UTF-8, with or without BOM); ActionError names a missing column."""
    path = Path(path)
    wanted = [c.strip() for c in text_column.split(",") if c.strip()]
    csv.field_size_limit(min(sys.maxsize, 2**31 - 1))  # messages can be long
    try:
        handle = path.open(encoding="utf-8-sig", newline="")
    except OSError as exc:
        raise data_error(f"无法读取文件 {path}：{exc.strerror or exc}") from None
    out = Examples(source=str(path))
    with handle:
        try:
            reader = csv.DictReader(handle)
            columns = reader.fieldnames or []
            missing = [c for c in [*wanted, label_column] if c not in columns]
            if missing or not wanted:
                raise data_error(
                    f"文件 {path.name} 中没有列「{'」「'.join(missing) or text_column}」，现有列：{'、'.join(columns) or '（无）'}"
                )
            for row in reader:
                text = "\n".join((row.get(c) or "").strip() for c in wanted).strip()
                label = (row.get(label_column) or "").strip()
                if not text or not label:
                    out.skipped += 1
                    continue
                out.texts.append(text)
                out.labels.append(label)
        except UnicodeDecodeError:
            raise data_error(f"文件 {path.name} 不是 UTF-8 编码，请以 UTF-8 保存") from None
        except csv.Error as exc:
            raise data_error(f"文件 {path.name} 第 {reader.line_num} 行无法解析：{exc}") from None
    return out


def read_cases(mechanism: str = "demand", label_field: str = "topic") -> Examples:
    """Closed cases of a mechanism that a unit handled, with the label field filled in.

    Cases closed without a unit (无效诉求) or merged into another are left out. The label is the field
    as it stood at closure: a topic pre-filled at intake counts as confirmed by the dispatcher who sent
    the case on and by the unit that did not return it.
    """
    from taizhang.cases.models import Case

    rows: Iterable = (
        Case.objects.filter(
            mechanism=mechanism, state_kind="closed", merged_into__isnull=True, unit__isnull=False
        )
        .order_by("pk")
        .values_list("title", "description", "data")
        .iterator(chunk_size=2000)
    )
    out = Examples(source=f"cases:{mechanism}.{label_field}")
    for title, description, data in rows:
        label = str((data or {}).get(label_field) or "").strip()
        if not label:
            out.skipped += 1
            continue
        out.texts.append(case_text(title, description))
        out.labels.append(label)
    return out

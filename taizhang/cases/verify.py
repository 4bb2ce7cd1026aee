"""`taizhang audit verify`: is the record still what was written?

For every case, read in keyset order a batch at a time: the hash chain recomputes (hashchain.py); the
case row is what its history says (replay.py); every attachment's file is there and still hashes to the
SHA-256 its history row chained; and, when a verifying key is set, the chain still extends the head the
latest signed checkpoint holds for it (checkpoints.py). Every problem is reported as it is found.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from taizhang.mechanisms.registry import get_mechanism

from .checkpoints import HeadCursor, HeadReader, check_series, gone_problem, head_problems, statement_of
from .hashchain import verify_case
from .keyset import keyset
from .models import Attachment, Case, CaseLink, Transition
from .replay import compare, link_mismatches


@dataclass
class Summary:
    cases: int = 0
    rows: int = 0
    files: int = 0
    problems: int = 0
    first: str | None = None
    checkpoint: int | None = None
    notes: list[str] = field(default_factory=list)


def file_problem(attachment: Attachment) -> str | None:
    """Why an attachment's stored file is not the one its history row chained, or None."""
    storage = attachment.file.storage
    sha = hashlib.sha256()
    try:
        with storage.open(attachment.file.name, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                sha.update(block)
    except FileNotFoundError:
        return "文件缺失"
    except Exception as exc:  # an object store's own errors: one unreadable file must not end the audit
        return f"文件无法读取（{exc.__class__.__name__}: {exc}）"
    if sha.hexdigest() != attachment.sha256:
        return "文件内容与记录的 SHA-256 不符（文件被改动或替换）"
    return None


def state_kind_of(case: Case) -> str | None:
    """The kind the case's mechanism gives its state (None when the mechanism or state is unknown)."""
    try:
        state = get_mechanism(case.mechanism).states.get(case.state)
    except KeyError:
        return None
    return state.kind if state else None


class Verifier:
    """One pass over the record; `report` is called with each problem, as found."""

    def __init__(self, report: Callable[[str], None], files: bool = True):
        self.summary = Summary()
        self._report = report
        self.files = files
        self.cursor: HeadCursor | None = None
        self.reader: HeadReader | None = None

    def problem(self, text: str) -> None:
        self.summary.problems += 1
        self.summary.first = self.summary.first or text
        self._report(text)

    def use_checkpoints(self, keys: dict[str, Ed25519PublicKey]) -> None:
        """Check the signed series and walk the latest checkpoint's heads along the cases."""
        latest, problems = check_series(keys)
        for text in problems:
            self.problem(text)
        if latest is None:
            if problems:
                return
            # With a verifying key, checkpoints are expected: none at all over existing history is what
            # deleting every checkpoint row looks like, and then nothing would show a rewrite.
            rows = Transition.objects.count()
            if rows:
                self.problem(
                    f"数据库中没有任何签名检查点，却已有 {rows} 条流转记录：检查点被全部删除，"
                    "或检查点系列尚未开始（由操作员运行 taizhang audit checkpoint --first）"
                )
            else:
                self.summary.notes.append("尚无流转记录，也尚无检查点")
            return
        self.summary.checkpoint = latest.serial
        self.reader = HeadReader(latest)
        self.cursor = HeadCursor(iter(self.reader))

    def run(self, cases, batch: int, whole: bool) -> Summary:
        """Verify `cases` (a queryset); `whole`: it is every case, so a head with no case is a case gone."""
        for chunk in keyset(cases.select_related("division"), batch):
            self.check_batch(chunk, whole)
        if self.cursor is not None:
            serial = self.summary.checkpoint
            for head in self.cursor.rest():
                if whole:
                    self.problem(gone_problem(head, serial))
            if self.reader.digest() != statement_of(self.reader.checkpoint)["heads_sha256"]:
                self.problem(f"检查点 #{serial} 保存的链头数据被改动（与签名的摘要不符）")
        return self.summary

    def check_batch(self, chunk: list[Case], whole: bool) -> None:
        ids = [c.pk for c in chunk]
        history: dict[int, list[Transition]] = defaultdict(list)
        for row in (
            Transition.objects.filter(case_id__in=ids)
            .order_by("case_id", "seq")
            .prefetch_related("attachments")
        ):
            history[row.case_id].append(row)
        co_units: dict[int, list[str]] = defaultdict(list)
        for case_id, code in Case.co_units.through.objects.filter(case_id__in=ids).values_list(
            "case_id", "unit__code"
        ):
            co_units[case_id].append(code)
        masters = dict(
            Case.objects.filter(pk__in={c.merged_into_id for c in chunk if c.merged_into_id}).values_list(
                "pk", "number"
            )
        )
        parents: dict[int, list[tuple[str, str]]] = defaultdict(list)
        for child_id, number, kind in CaseLink.objects.filter(child_id__in=ids).values_list(
            "child_id", "parent__number", "kind"
        ):
            parents[child_id].append((number, kind))
        for case in chunk:
            rows = history[case.pk]
            self.check_case(case, rows, co_units[case.pk], masters.get(case.merged_into_id), whole)
            for mismatch in link_mismatches(case, rows, parents[case.pk]):
                self.problem(f"案件关联与流转记录不符：{mismatch}")
            self.summary.cases += 1
            self.summary.rows += len(rows)

    def check_case(
        self, case: Case, rows: list[Transition], co_units: list[str], master: str | None, whole: bool
    ) -> None:
        broken = verify_case(case, rows)
        if broken:
            self.problem(f"哈希链断裂：{broken}")
        for mismatch in compare(case, rows, co_units, master, state_kind_of(case)):
            self.problem(f"案件表与流转记录不符：{mismatch}")
        if self.files:
            for row in rows:
                for attachment in row.attachments.all():
                    self.summary.files += 1
                    why = file_problem(attachment)
                    if why:
                        self.problem(
                            f"附件损坏：{case.number} 第 {row.seq} 条的附件 {attachment.pk}"
                            f"（{attachment.original_name}）{why}"
                        )
        if self.cursor is not None:
            passed, head = self.cursor.upto(case.pk)
            for gone in passed:
                if whole:
                    self.problem(gone_problem(gone, self.summary.checkpoint))
            if head:
                seqs = {row.seq: row.hash for row in rows}
                for text in head_problems(case.number, seqs, len(rows), head, self.summary.checkpoint):
                    self.problem(text)

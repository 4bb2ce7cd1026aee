"""Register items in the signed audit checkpoints (taizhang.cases.checkpoints, format 2).

A checkpoint of format 2 signs, besides every case's chain head, every item's: (item id, seq, hash of its
last history row), stored in chunks of kind `item` and summed up in the statement as `items`,
`item_events` and `item_heads_sha256`. An item's history rewritten after a checkpoint and every later hash
recomputed (which `verify_registers` alone cannot see) then no longer matches the signed head. A
checkpoint of format 1 (made before registers were covered) has no item heads: it still verifies, and
items are first covered by the next checkpoint.
"""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import Callable

from taizhang.cases.checkpoints import RECORD, Head, HeadCursor, HeadReader, statement_of
from taizhang.cases.keyset import keyset
from taizhang.cases.models import AuditCheckpoint

from .models import ItemEvent, RegisterItem

KIND = "item"


def covers_items(checkpoint: AuditCheckpoint | None) -> bool:
    """Whether the checkpoint signed the items' heads (format 2 and later)."""
    return checkpoint is not None and "item_heads_sha256" in statement_of(checkpoint)


def head_problems(number: str, seqs: dict[int, str], version: int, head: Head, serial: int) -> list[str]:
    """What is wrong with an item's chain (`seqs`: seq → hash) against its head in checkpoint #serial."""
    if version < head.seq:
        return [
            f"台账条目 {number}：检查点 #{serial} 时已有 {head.seq} 条记录，现只有 {version} 条（记录被删改）"
        ]
    if seqs.get(head.seq) != head.hash:
        return [
            f"台账条目 {number} 第 {head.seq} 条：与检查点 #{serial} 签名的链头不符（第 1–{head.seq} 条中有记录被改写）"
        ]
    return []


def gone_problem(head: Head, serial: int) -> str:
    return f"检查点 #{serial} 中的台账条目（id={head.case_id}）已不存在"


class ItemHeads:
    """Walks the item heads of a checkpoint alongside items read in id order; problems go to `problem`."""

    def __init__(self, checkpoint: AuditCheckpoint, problem: Callable[[str], None]):
        self.serial = checkpoint.serial
        self.reader = HeadReader(checkpoint, KIND)
        self.cursor = HeadCursor(iter(self.reader))
        self.problem = problem

    def check(self, pk: int, number: str, version: int, seqs: dict[int, str]) -> None:
        passed, head = self.cursor.upto(pk)
        for gone in passed:
            self.problem(gone_problem(gone, self.serial))
        if head:
            for text in head_problems(number, seqs, version, head, self.serial):
                self.problem(text)

    def finish(self) -> None:
        for gone in self.cursor.rest():
            self.problem(gone_problem(gone, self.serial))
        if self.reader.digest() != statement_of(self.reader.checkpoint)["item_heads_sha256"]:
            self.problem(f"检查点 #{self.serial} 保存的台账链头数据被改动（与签名的摘要不符）")


def spool_item_heads(
    previous: AuditCheckpoint | None, batch: int, spool
) -> tuple[list[int], dict, list[str]]:
    """Every item's head in keyset order, checked against `previous` (when it covers items), written to
    `spool` as compressed chunks; returns the chunk sizes, the statement's counts and the problems."""
    problems: list[str] = []
    heads = ItemHeads(previous, problems.append) if covers_items(previous) else None
    sha, sizes = hashlib.sha256(), []
    items = events = 0
    for chunk in keyset(RegisterItem.objects.values_list("pk", "number", "version", "last_hash"), batch):
        chains: dict[int, dict[int, str]] = {pk: {} for pk, *_ in chunk}
        for item_id, seq, digest in ItemEvent.objects.filter(item_id__in=list(chains)).values_list(
            "item_id", "seq", "hash"
        ):
            chains[item_id][seq] = digest
        records = []
        for pk, number, version, last_hash in chunk:
            if heads:
                heads.check(pk, number, version, chains[pk])
            if chains[pk].get(version) != last_hash:
                problems.append(f"台账条目 {number}：条目记录的最新哈希与第 {version} 条记录不符")
                continue
            records.append(RECORD.pack(pk, version, bytes.fromhex(last_hash)))
            items, events = items + 1, events + version
        raw = b"".join(records)
        sha.update(raw)
        compressed = zlib.compress(raw)
        spool.write(compressed)
        sizes.append(len(compressed))
    if heads:
        heads.finish()
    return sizes, {"items": items, "item_events": events, "item_heads_sha256": sha.hexdigest()}, problems

"""Signed checkpoints of every case's chain head, so that history can only grow.

A checkpoint is a statement — serial number, time, counts, the SHA-256 of every case's head in case
order (the *heads digest*), the SHA-256 of the previous statement and the signing key's id — signed
with the operator's Ed25519 key (audit_keys.py). The heads themselves (case id, seq, hash of the case's
last history row) are kept with the latest checkpoint only, compressed in chunks of one keyset batch.

`taizhang audit verify` checks that every signature holds, that the series has no gap, and that every
head of the latest checkpoint is still in today's chain at the same place with the same hash: a
history row rewritten and every later hash recomputed no longer matches. A new checkpoint is signed
only when today's chains still extend the previous one, so a rewrite is never signed over; and only
when the database still holds the latest checkpoint the signer's log outside it names
(checkpoint_log.py), so deleting every checkpoint row is not a way to start over on a rewritten history.

Format 2 signs the register items' chain heads too (taizhang.registers.checkpoint), as heads of kind
`item`; a checkpoint of format 1 keeps verifying as it was signed (its heads are of kind `case`).
"""

from __future__ import annotations

import hashlib
import json
import logging
import struct
import tempfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.conf import settings
from django.db import IntegrityError, transaction

from .audit_keys import AuditKeyError, key_id, keyring, read_private_key, signature_valid
from .checkpoint_log import LogUnreadable, append_log, latest_entry, log_problems
from .keyset import keyset
from .models import AuditCheckpoint, AuditCheckpointHeads, Case, Transition

logger = logging.getLogger("taizhang.audit")

FORMAT = "taizhang-audit-checkpoint/2"  # 2: with the register items' heads
RECORD = struct.Struct(">QI32s")  # case id, seq of its last history row, that row's hash


class CheckpointError(Exception):
    """A checkpoint that may not be made; `problems` says why, first problem first."""

    def __init__(self, problems: list[str]):
        super().__init__(problems[0])
        self.problems = problems


@dataclass(frozen=True)
class Head:
    case_id: int
    seq: int
    hash: str


class HeadReader:
    """A checkpoint's heads of one kind (`case`, `item`) in id order, one chunk in memory at a time;
    `digest` once read to the end."""

    def __init__(self, checkpoint: AuditCheckpoint, kind: str = "case"):
        self.checkpoint = checkpoint
        self.kind = kind
        self._sha = hashlib.sha256()

    def __iter__(self) -> Iterator[Head]:
        last = -1
        while True:
            chunk = (
                AuditCheckpointHeads.objects.filter(
                    checkpoint=self.checkpoint, kind=self.kind, index__gt=last
                )
                .order_by("index")
                .values_list("index", "data")
                .first()
            )
            if chunk is None:
                return
            last, data = chunk
            raw = zlib.decompress(bytes(data))
            self._sha.update(raw)
            for offset in range(0, len(raw) - RECORD.size + 1, RECORD.size):
                case_id, seq, digest = RECORD.unpack_from(raw, offset)
                yield Head(case_id, seq, digest.hex())

    def digest(self) -> str:
        return self._sha.hexdigest()


class HeadCursor:
    """Walks a checkpoint's heads alongside cases read in id order (a merge join)."""

    def __init__(self, heads: Iterator[Head]):
        self._heads = heads
        self._next = next(heads, None)

    def upto(self, case_id: int) -> tuple[list[Head], Head | None]:
        """Heads of cases before `case_id` not met (cases gone since), and the head of `case_id`."""
        passed = []
        while self._next is not None and self._next.case_id < case_id:
            passed.append(self._next)
            self._next = next(self._heads, None)
        if self._next is not None and self._next.case_id == case_id:
            head, self._next = self._next, next(self._heads, None)
            return passed, head
        return passed, None

    def rest(self) -> Iterator[Head]:
        """The heads left (cases gone since, when every case was read)."""
        while self._next is not None:
            yield self._next
            self._next = next(self._heads, None)


def statement_of(checkpoint: AuditCheckpoint) -> dict:
    return json.loads(checkpoint.statement)


def statement_hash(checkpoint: AuditCheckpoint) -> str:
    return hashlib.sha256(checkpoint.statement.encode()).hexdigest()


def head_problems(number: str, seqs: dict[int, str], version: int, head: Head, serial: int) -> list[str]:
    """What is wrong with a case's chain (`seqs`: seq → hash) against its head in checkpoint #serial."""
    if version < head.seq:
        return [f"{number}：检查点 #{serial} 时已有 {head.seq} 条流转记录，现只有 {version} 条（历史被删改）"]
    if seqs.get(head.seq) != head.hash:
        return [
            f"{number} 第 {head.seq} 条：与检查点 #{serial} 签名的链头不符（第 1–{head.seq} 条中有记录被改写）"
        ]
    return []


def gone_problem(head: Head, serial: int) -> str:
    return f"检查点 #{serial} 中的案件（id={head.case_id}）已不存在"


def check_series(keys: dict[str, Ed25519PublicKey]) -> tuple[AuditCheckpoint | None, list[str]]:
    """Check every checkpoint's signature and the links between them; returns the latest and problems.

    The latest is returned only when its signature holds (its heads are worth comparing with).
    """
    problems: list[str] = []
    previous: AuditCheckpoint | None = None
    latest_valid = False
    for cp in AuditCheckpoint.objects.order_by("serial").iterator():
        expected = previous.serial + 1 if previous else 1
        if cp.serial != expected:
            problems.append(f"检查点 #{expected}–#{cp.serial - 1} 缺失（被删除）")
        try:
            statement = json.loads(cp.statement)
        except ValueError:
            statement = {}
        latest_valid = signature_valid(keys, str(statement.get("key")), cp.statement.encode(), cp.signature)
        if not latest_valid:
            problems.append(
                f"检查点 #{cp.serial} 的签名无效：不是由配置的验证公钥对应的私钥签署（伪造或被改动）"
            )
        elif statement.get("serial") != cp.serial:
            latest_valid = False
            problems.append(f"检查点 #{cp.serial} 的序号与其签名内容（#{statement.get('serial')}）不符")
        elif statement.get("previous") != (statement_hash(previous) if previous else None):
            problems.append(f"检查点 #{cp.serial} 与前一个检查点不衔接（检查点被替换或删除）")
        previous = cp
    problems += log_problems(previous)
    return (previous if latest_valid else None), problems


def make_checkpoint(
    private: Ed25519PrivateKey,
    keys: dict[str, Ed25519PublicKey],
    now: datetime,
    batch: int,
    first: bool = False,
) -> AuditCheckpoint:
    """Sign every case's chain head, if today's chains extend the latest checkpoint; returns it.

    The latest checkpoint is the one the checkpoint log names: the database must still hold it and
    nothing the log does not know of. With an empty log a series is started only when `first` says so
    (the operator's deliberate `--first`), and `first` is refused once the log names a checkpoint.
    `keys` are the public keys earlier checkpoints may be signed with (this key's own is added).
    Raises CheckpointError naming what is wrong and signs nothing then.
    """
    path = settings.TAIZHANG_AUDIT_CHECKPOINT_LOG
    if not path:
        raise CheckpointError(
            ["未配置 TAIZHANG_AUDIT_CHECKPOINT_LOG：签署检查点须在数据库之外记下已签署的检查点"]
        )
    try:
        entry = latest_entry(path)
    except LogUnreadable as exc:
        raise CheckpointError([str(exc), "不签署新的检查点"]) from None
    if entry is None and not first:
        raise CheckpointError(
            [
                f"检查点日志 {path} 为空：检查点系列尚未开始，不会自动开始；"
                "确认记录无误（taizhang audit verify）后，由操作员运行 taizhang audit checkpoint --first"
            ]
        )
    if entry is not None and first:
        raise CheckpointError(
            [f"检查点日志 {path} 已记有检查点 #{entry.serial}：--first 只用于开始新的检查点日志"]
        )
    own = private.public_key()
    keys = {**keys, key_id(own): own}
    previous, problems = check_series(keys)  # without problems, `previous` is the latest (or None)
    if problems:
        raise CheckpointError([*problems, "检查点链本身有问题，不签署新的检查点"])
    from taizhang.registers.checkpoint import spool_item_heads  # registers build on cases: import late

    with tempfile.TemporaryFile() as spool, tempfile.TemporaryFile() as item_spool:
        sizes, summary = spool_heads(previous, batch, spool)
        item_sizes, item_summary, item_problems = spool_item_heads(previous, batch, item_spool)
        if item_problems:
            raise CheckpointError([*item_problems, "台账记录不再延续上一个检查点，不签署新的检查点"])
        statement = json.dumps(
            {
                "format": FORMAT,
                "serial": (previous.serial if previous else 0) + 1,
                "created_at": now.astimezone(UTC).isoformat(timespec="seconds"),
                "cases": summary["cases"],
                "transitions": summary["transitions"],
                "heads_sha256": summary["heads_sha256"],
                **item_summary,
                "previous": statement_hash(previous) if previous else None,
                "key": key_id(own),
            },
            sort_keys=True,
            separators=(",", ":"),
        )
        signature = private.sign(statement.encode()).hex()
        # The log line is written before the commit: a log that cannot be written stores nothing.
        try:
            with transaction.atomic():
                checkpoint = store(
                    previous, statement, signature, key_id(own), now, spool, sizes, (item_spool, item_sizes)
                )
                append_log(path, checkpoint)
        except OSError as exc:
            raise CheckpointError([f"检查点日志 {path} 无法写入（{exc}），检查点未保存"]) from None
    return checkpoint


def spool_heads(previous: AuditCheckpoint | None, batch: int, spool) -> tuple[list[int], dict]:
    """Read every case's head in keyset order, check it against `previous`, write compressed chunks."""
    reader = HeadReader(previous) if previous else None
    cursor = HeadCursor(iter(reader)) if reader else None
    serial = previous.serial if previous else 0
    sha, sizes, problems = hashlib.sha256(), [], []
    cases = transitions = 0
    for chunk in keyset(Case.objects.values_list("pk", "number", "version", "last_hash"), batch):
        ids = [pk for pk, *_ in chunk]
        chains: dict[int, dict[int, str]] = {pk: {} for pk in ids}
        for case_id, seq, digest in Transition.objects.filter(case_id__in=ids).values_list(
            "case_id", "seq", "hash"
        ):
            chains[case_id][seq] = digest
        records = []
        for pk, number, version, last_hash in chunk:
            if cursor:
                passed, head = cursor.upto(pk)
                problems += [gone_problem(h, serial) for h in passed]
                if head:
                    problems += head_problems(number, chains[pk], version, head, serial)
            if chains[pk].get(version) != last_hash:
                problems.append(f"{number}：案件记录的最新哈希与第 {version} 条流转记录不符")
                continue
            records.append(RECORD.pack(pk, version, bytes.fromhex(last_hash)))
            cases, transitions = cases + 1, transitions + version
        raw = b"".join(records)
        sha.update(raw)
        compressed = zlib.compress(raw)
        spool.write(compressed)
        sizes.append(len(compressed))
    if cursor:
        problems += [gone_problem(h, serial) for h in cursor.rest()]
        if reader.digest() != statement_of(previous)["heads_sha256"]:
            problems.append(f"检查点 #{serial} 保存的链头数据被改动（与签名的摘要不符）")
    if problems:
        raise CheckpointError([*problems, "流转记录不再延续上一个检查点，不签署新的检查点"])
    return sizes, {"cases": cases, "transitions": transitions, "heads_sha256": sha.hexdigest()}


def store(
    previous,
    statement: str,
    signature: str,
    kid: str,
    now,
    spool,
    sizes: list[int],
    items: tuple[Any, list[int]] | None = None,
) -> AuditCheckpoint:
    """Write the checkpoint and its heads (the cases' chunks; `items`: the items' spool and chunk sizes)
    in one short transaction; the previous heads are dropped."""
    serial = (previous.serial if previous else 0) + 1
    try:
        with transaction.atomic():
            latest = AuditCheckpoint.objects.select_for_update().order_by("-serial").first()
            if (latest.serial if latest else 0) != serial - 1:
                raise CheckpointError(["另一个检查点刚刚生成，本次未保存；请重试"])
            checkpoint = AuditCheckpoint.objects.create(
                serial=serial, created_at=now, statement=statement, signature=signature, key_id=kid
            )
            for kind, (source, chunks) in (("case", (spool, sizes)), ("item", items or (None, []))):
                if source is not None:
                    source.seek(0)
                for index, size in enumerate(chunks):
                    AuditCheckpointHeads.objects.create(
                        checkpoint=checkpoint, kind=kind, index=index, data=source.read(size)
                    )
            AuditCheckpointHeads.objects.filter(checkpoint__serial__lt=serial).delete()
    except IntegrityError:
        raise CheckpointError(["另一个检查点刚刚生成，本次未保存；请重试"]) from None
    return checkpoint


class CheckpointSchedule:
    """The worker's checkpoints: one every TAIZHANG_AUDIT_CHECKPOINT_INTERVAL seconds when a signing key
    is set; a refused one is logged as an error and tried again an interval later, not every cycle. It
    never starts a series (that is `taizhang audit checkpoint --first`, an operator's act)."""

    def __init__(self) -> None:
        self.not_before: datetime | None = None

    def tick(self, now: datetime) -> AuditCheckpoint | None:
        """Make a checkpoint if one is due; never raises (the worker must go on)."""
        interval = timedelta(seconds=settings.TAIZHANG_AUDIT_CHECKPOINT_INTERVAL)
        if (
            not settings.TAIZHANG_AUDIT_SIGNING_KEY
            or not interval
            or (self.not_before and now < self.not_before)
        ):
            return None
        last = AuditCheckpoint.objects.order_by("-serial").values_list("created_at", flat=True).first()
        if last is not None and now - last < interval:
            self.not_before = last + interval
            return None
        self.not_before = now + interval
        try:
            private = read_private_key(Path(settings.TAIZHANG_AUDIT_SIGNING_KEY))
            keys = keyring([Path(p) for p in settings.TAIZHANG_AUDIT_VERIFY_KEY])
            checkpoint = make_checkpoint(private, keys, now, batch=1000)
        except AuditKeyError as exc:
            logger.error("audit checkpoint: %s", exc)
            return None
        except CheckpointError as exc:
            logger.error("audit checkpoint refused: %s", "; ".join(exc.problems[:20]))
            return None
        logger.info("audit checkpoint #%s signed", checkpoint.serial)
        return checkpoint

"""The checkpoint log: the signer's memory of the series it signed, kept outside the database.

Every checkpoint's signed statement is appended as one JSON line to TAIZHANG_AUDIT_CHECKPOINT_LOG
(required with a signing key). Someone who can write to the database can delete every checkpoint row,
rewrite history and recompute its hashes; the log still names the latest checkpoint signed, so the
signer refuses to go on (and verify reports it) instead of signing the rewritten history.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

from .models import AuditCheckpoint


@dataclass(frozen=True)
class LogEntry:
    serial: int
    statement: str


class LogUnreadable(Exception):
    """The log's last line is not a checkpoint entry."""


def latest_entry(path: str) -> LogEntry | None:
    """The last checkpoint the log names, or None when the file is missing or empty."""
    if not Path(path).exists():
        return None
    last = None
    try:
        with open(path, encoding="utf-8") as log:
            for line in log:
                if line.strip():
                    last = line
    except (OSError, UnicodeDecodeError) as exc:
        raise LogUnreadable(f"检查点日志 {path} 无法读取（{exc}）") from None
    if last is None:
        return None
    try:
        entry = json.loads(last)
        return LogEntry(int(entry["serial"]), str(entry["statement"]))
    except (ValueError, KeyError, TypeError):
        raise LogUnreadable(f"检查点日志 {path} 的最后一行无法读取") from None


def log_problems(latest: AuditCheckpoint | None) -> list[str]:
    """What the log says is wrong with the database's series, whose latest checkpoint is `latest`.

    The database must hold the log's latest checkpoint, unchanged, and nothing after it (the signer
    writes every checkpoint to the log). A missing or empty log says nothing (a series not begun, or a
    new log after a restore: `taizhang audit checkpoint --first`).
    """
    path = settings.TAIZHANG_AUDIT_CHECKPOINT_LOG
    if not path:
        return []
    try:
        entry = latest_entry(path)
    except LogUnreadable as exc:
        return [str(exc)]
    if entry is None:
        return []
    # Looked up again rather than compared with `latest`: a checkpoint committed since `latest` was read
    # (the signer writes its log line just before the commit) is not mistaken for a deleted one.
    stored = AuditCheckpoint.objects.filter(serial=entry.serial).values_list("statement", flat=True).first()
    if stored is None:
        return [f"检查点日志记有检查点 #{entry.serial}，数据库中却没有（检查点被删除）"]
    if stored != entry.statement:
        return [f"数据库中的检查点 #{entry.serial} 与检查点日志中的不同（被替换）"]
    if latest is not None and latest.serial > entry.serial:
        return [
            f"数据库中的检查点 #{latest.serial} 不在检查点日志中（日志最后记的是 #{entry.serial}）："
            "日志被换成了旧的，或有别处在签署"
        ]
    return []


def append_log(path: str, checkpoint: AuditCheckpoint) -> None:
    """Append the signed statement to the log and flush it to disk."""
    line = json.dumps(
        {"serial": checkpoint.serial, "statement": checkpoint.statement, "signature": checkpoint.signature},
        ensure_ascii=False,
    )
    with open(path, "a", encoding="utf-8") as log:
        log.write(line + "\n")
        log.flush()
        os.fsync(log.fileno())

"""The per-case hash chain over transitions, and its verification."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime

from .models import Case, Transition


def instant(value: datetime | None) -> str | None:
    """A moment as the chains hash it (UTC, microseconds)."""
    return value.astimezone(UTC).isoformat(timespec="microseconds") if value else None


def transition_digest(t: Transition, attachment_hashes: list[str]) -> str:
    """SHA-256 over the previous hash and everything the row says, attachments' contents included."""
    payload = {
        "case": t.case_id,
        "seq": t.seq,
        "kind": t.kind,
        "code": t.code,
        "actor": t.actor_id,
        "role": t.role,
        "from": t.from_state,
        "to": t.to_state,
        "opinion": t.opinion,
        "changes": t.changes,
        "due_at": instant(t.due_at),
        "public": t.public,
        "at": instant(t.created_at),
        "attachments": sorted(attachment_hashes),
    }
    return chain_digest(t.prev_hash, payload)


def chain_digest(prev_hash: str, payload: dict) -> str:
    """SHA-256 over the previous row's hash and a row's canonical JSON: every hash chain of the record
    (cases' transitions, register items' history) is this one function."""
    blob = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256((prev_hash + blob).encode()).hexdigest()


@dataclass(frozen=True)
class BrokenLink:
    case_number: str
    seq: int
    reason: str

    def __str__(self) -> str:
        return f"{self.case_number} 第 {self.seq} 条：{self.reason}"


def verify_case(case: Case, rows: list[Transition] | None = None) -> BrokenLink | None:
    """The first broken link of a case's chain, or None when it is intact."""
    if rows is None:
        rows = list(case.transitions.order_by("seq").prefetch_related("attachments"))
    prev = ""
    for expected_seq, row in enumerate(rows, start=1):
        if row.seq != expected_seq:
            return BrokenLink(case.number, row.seq, f"序号不连续（应为 {expected_seq}）")
        if row.prev_hash != prev:
            return BrokenLink(case.number, row.seq, "前一条哈希不符")
        if transition_digest(row, [a.sha256 for a in row.attachments.all()]) != row.hash:
            return BrokenLink(case.number, row.seq, "内容与哈希不符（记录被改动）")
        prev = row.hash
    if case.last_hash != prev:
        return BrokenLink(case.number, len(rows), "案件记录的最新哈希与链尾不符")
    if case.version != len(rows):
        return BrokenLink(case.number, len(rows), f"案件版本 {case.version} 与记录条数 {len(rows)} 不符")
    return None

"""Register items in the signed audit checkpoints: a checkpoint (format 2) signs every item's chain head,
so an item's history rewritten after it — every later hash recomputed, which the chain check alone cannot
see — is found by `audit verify` and refused by the next checkpoint; a checkpoint of format 1 (made before
registers were covered) still verifies."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

import taizhang.cases.checkpoints as checkpoints
import taizhang.registers.checkpoint as item_checkpoint
from taizhang.cases.models import AuditCheckpoint, AuditCheckpointHeads
from taizhang.registers.actions import do_assess_item
from taizhang.registers.models import ItemEvent
from taizhang.registers.recording import event_digest
from tests.cases.helpers import report
from tests.security.test_audit_record import keys  # noqa: F401

from .helpers import ours, theirs
from .test_history import tamper

pytestmark = pytest.mark.usefixtures("keys")


def verify() -> str:
    out = io.StringIO()
    call_command("audit", "verify", "--skip-files", stdout=out, stderr=io.StringIO())
    return out.getvalue()


def verify_fails() -> str:
    with pytest.raises(CommandError) as info:
        call_command("audit", "verify", "--skip-files", stdout=io.StringIO(), stderr=io.StringIO())
    return str(info.value)


def rewrite_item_history(item, seq: int, opinion: str) -> None:
    """Change one history row of the item and recompute every hash after it, and the item's last hash."""
    tamper("SELECT 1", [])  # lifts the append-only trigger
    rows = list(ItemEvent.objects.filter(item_id=item.pk).order_by("seq"))
    prev = rows[seq - 2].hash if seq > 1 else ""
    with connection.cursor() as cur:
        for row in rows[seq - 1 :]:
            if row.seq == seq:
                row.opinion = opinion
            row.prev_hash = prev
            row.hash = event_digest(row)
            cur.execute(
                "UPDATE registers_itemevent SET opinion = %s, prev_hash = %s, hash = %s WHERE id = %s",
                [row.opinion, row.prev_hash, row.hash, row.pk],
            )
            prev = row.hash
        cur.execute("UPDATE registers_registeritem SET last_hash = %s WHERE id = %s", [prev, item.pk])


def reassessed(world):
    b = theirs(world)
    do_assess_item(world.leader, b.number, {"risk_level": "major"}, "复评：LEC 法 D=320")
    return b


def test_a_checkpoint_signs_the_items_heads_and_verify_agrees(world):
    b = reassessed(world)
    ours(world)
    report(world)
    call_command("audit", "checkpoint", "--first", stdout=io.StringIO())
    statement = json.loads(AuditCheckpoint.objects.get(serial=1).statement)
    assert statement["format"] == "taizhang-audit-checkpoint/2"
    assert (statement["items"], statement["item_events"]) == (2, 3)
    assert AuditCheckpointHeads.objects.filter(kind="item").exists()
    assert "与签名检查点 #1 一致" in verify()
    do_assess_item(world.leader, b.number, {"risk_level": "general"}, "整改后复评")  # history only grows
    call_command("audit", "checkpoint", stdout=io.StringIO())
    assert "与签名检查点 #2 一致" in verify()


def test_a_rewritten_item_history_after_a_checkpoint_is_found_and_not_signed_over(world):
    b = reassessed(world)
    call_command("audit", "checkpoint", "--first", stdout=io.StringIO())
    rewrite_item_history(b, 1, "首次评估：改写过的依据")
    found = verify_fails()
    assert b.number in found and "与检查点 #1 签名的链头不符" in found
    with pytest.raises(CommandError, match="与检查点 #1 签名的链头不符"):
        call_command("audit", "checkpoint", stdout=io.StringIO(), stderr=io.StringIO())
    assert AuditCheckpoint.objects.count() == 1


def test_a_changed_item_heads_chunk_is_found(world):
    reassessed(world)
    call_command("audit", "checkpoint", "--first", stdout=io.StringIO())
    AuditCheckpointHeads.objects.filter(kind="item").update(data=b"x\x9c\x03\x00\x00\x00\x00\x01")
    assert "保存的台账链头数据被改动" in verify_fails()


def test_a_checkpoint_of_format_1_still_verifies_and_the_next_one_covers_items(world, monkeypatch):
    b = reassessed(world)
    with monkeypatch.context() as old:  # the signer as it was before registers were covered
        old.setattr(checkpoints, "FORMAT", "taizhang-audit-checkpoint/1")
        old.setattr(item_checkpoint, "spool_item_heads", lambda previous, batch, spool: ([], {}, []))
        call_command("audit", "checkpoint", "--first", stdout=io.StringIO())
    statement = json.loads(AuditCheckpoint.objects.get(serial=1).statement)
    assert statement["format"] == "taizhang-audit-checkpoint/1" and "items" not in statement
    out = verify()
    assert "与签名检查点 #1 一致" in out and "格式 1" in out
    call_command("audit", "checkpoint", stdout=io.StringIO())  # format 2 over format 1
    assert "与签名检查点 #2 一致" in verify()
    rewrite_item_history(b, 2, "复评：改写过的依据")
    assert "与检查点 #2 签名的链头不符" in verify_fails()

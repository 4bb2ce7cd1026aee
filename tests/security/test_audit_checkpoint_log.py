"""Deleting every checkpoint is not a way to start over on a rewritten history.

The signer keeps its memory outside the database (TAIZHANG_AUDIT_CHECKPOINT_LOG, required with a
signing key): it signs only while the database still holds the checkpoint its log names last, and it
never starts a series by itself (`taizhang audit checkpoint --first` is the operator's act). `audit
verify` with a verifying key reports history with no checkpoint at all. On SQLite and on PostgreSQL.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command

from taizhang.cases.audit_keys import write_keypair
from taizhang.cases.checkpoints import CheckpointSchedule
from taizhang.cases.models import AuditCheckpoint, AuditCheckpointHeads
from taizhang.clock.now import now as clock_now
from tests.cases.helpers import act, report, to_rectifying
from tests.security.test_audit_record import keys, rewrite_history, verify_fails  # noqa: F401

pytestmark = pytest.mark.usefixtures("keys")  # the operator's key pair and log, every test

NO_CHECKPOINT = "数据库中没有任何签名检查点，却已有"


def delete_every_checkpoint() -> None:
    """What someone with database rights does before rewriting history."""
    AuditCheckpointHeads.objects.all().delete()
    AuditCheckpoint.objects.all().delete()


def log_lines(settings) -> list[dict]:
    with open(settings.TAIZHANG_AUDIT_CHECKPOINT_LOG, encoding="utf-8") as log:
        return [json.loads(line) for line in log if line.strip()]


def test_verify_with_a_verify_key_and_no_checkpoint_over_history_fails(world, settings):
    settings.TAIZHANG_AUDIT_CHECKPOINT_LOG = ""  # an auditor's machine, without the signer's log
    report(world)
    assert f"{NO_CHECKPOINT} 1 条流转记录" in verify_fails()
    assert "taizhang audit checkpoint --first" in verify_fails()


def test_verify_with_a_verify_key_and_no_history_yet_passes_with_a_note(world, capsys):
    call_command("audit", "verify")
    assert "尚无流转记录，也尚无检查点" in capsys.readouterr().out


def test_the_worker_never_starts_a_series_itself(world, settings, caplog):
    settings.TAIZHANG_AUDIT_CHECKPOINT_INTERVAL = 3600
    report(world)
    with caplog.at_level(logging.ERROR, logger="taizhang.audit"):
        assert CheckpointSchedule().tick(clock_now()) is None
    assert "taizhang audit checkpoint --first" in caplog.text
    assert not AuditCheckpoint.objects.exists()
    with pytest.raises(CommandError, match="检查点系列尚未开始，不会自动开始"):
        call_command("audit", "checkpoint")
    assert not AuditCheckpoint.objects.exists()


def test_first_starts_a_series_once_and_the_log_keeps_it(world, settings, capsys):
    case = report(world)
    call_command("audit", "checkpoint", "--first")
    assert [line["serial"] for line in log_lines(settings)] == [1]
    act(world.dispatcher, case, "register")
    with pytest.raises(CommandError, match="已记有检查点 #1：--first 只用于开始新的检查点日志"):
        call_command("audit", "checkpoint", "--first")
    call_command("audit", "checkpoint")
    assert [line["serial"] for line in log_lines(settings)] == [1, 2]
    assert log_lines(settings)[1]["statement"] == AuditCheckpoint.objects.get(serial=2).statement
    call_command("audit", "verify")
    assert "与签名检查点 #2 一致" in capsys.readouterr().out


def test_the_signer_refuses_when_the_database_lost_every_checkpoint(world, settings, caplog):
    settings.TAIZHANG_AUDIT_CHECKPOINT_INTERVAL = 3600
    case = to_rectifying(world, report(world))
    call_command("audit", "checkpoint", "--first")
    delete_every_checkpoint()
    rewrite_history(case, 2, "伪造的立案意见")
    message = "检查点日志记有检查点 #1，数据库中却没有（检查点被删除）"
    with pytest.raises(CommandError, match=message):
        call_command("audit", "checkpoint")
    with pytest.raises(CommandError, match="--first 只用于开始新的检查点日志"):
        call_command("audit", "checkpoint", "--first")
    with caplog.at_level(logging.ERROR, logger="taizhang.audit"):
        assert CheckpointSchedule().tick(clock_now() + timedelta(hours=2)) is None
    assert message in caplog.text
    assert not AuditCheckpoint.objects.exists()
    assert message in verify_fails()


def test_a_checkpoint_the_log_does_not_know_is_reported(world, settings, tmp_path):
    case = report(world)
    call_command("audit", "checkpoint", "--first")
    older = tmp_path / "older.jsonl"
    shutil.copy(settings.TAIZHANG_AUDIT_CHECKPOINT_LOG, older)
    act(world.dispatcher, case, "register")
    call_command("audit", "checkpoint")
    settings.TAIZHANG_AUDIT_CHECKPOINT_LOG = str(older)  # the log swapped for an older copy
    assert "数据库中的检查点 #2 不在检查点日志中（日志最后记的是 #1）" in verify_fails()
    with pytest.raises(CommandError, match="数据库中的检查点 #2 不在检查点日志中"):
        call_command("audit", "checkpoint")


def test_a_log_that_cannot_be_written_stores_no_checkpoint(world, monkeypatch):
    report(world)

    def disk_full(path, checkpoint):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("taizhang.cases.checkpoints.append_log", disk_full)
    with pytest.raises(CommandError, match="无法写入.*检查点未保存"):
        call_command("audit", "checkpoint", "--first")
    assert not AuditCheckpoint.objects.exists()


def test_a_signing_key_without_a_checkpoint_log_stops_start_up_naming_both(tmp_path):
    write_keypair(tmp_path / "signer.key", tmp_path / "signer.pub")
    base = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "TAIZHANG_AUDIT_CHECKPOINT_LOG")}
    env = base | {"TAIZHANG_AUDIT_SIGNING_KEY": str(tmp_path / "signer.key")}
    command = [sys.executable, "-m", "taizhang.cli", "check"]
    proc = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode != 0
    assert "TAIZHANG_AUDIT_SIGNING_KEY is set but TAIZHANG_AUDIT_CHECKPOINT_LOG is not" in proc.stderr
    env["TAIZHANG_AUDIT_CHECKPOINT_LOG"] = str(tmp_path / "checkpoints.jsonl")
    proc = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr

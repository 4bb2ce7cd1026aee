"""A record no one can quietly change: `taizhang audit verify|keygen|checkpoint` against tampering.

Each scenario is what someone with write access to the database (but not the signing key) could do:
edit a case row, rewrite a history row and recompute every hash after it, replace or remove a file,
delete history, forge or delete a checkpoint. On SQLite and on PostgreSQL.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import subprocess
import sys
import tempfile
from datetime import timedelta

import pytest
from django.core.files.storage import default_storage
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction
from django.test.utils import CaptureQueriesContext

from taizhang.cases.audit_keys import read_private_key, write_keypair
from taizhang.cases.checkpoints import (
    CheckpointError,
    CheckpointSchedule,
    make_checkpoint,
    spool_heads,
    store,
)
from taizhang.cases.hashchain import transition_digest
from taizhang.cases.models import Attachment, AuditCheckpoint, Case, Transition
from taizhang.clock.now import now as clock_now
from tests.cases.helpers import act, report, to_rectifying


@pytest.fixture
def keys(tmp_path, settings):
    """The operator's key pair and checkpoint log, configured as the settings name them."""
    private, public = tmp_path / "audit.key", tmp_path / "audit.pub"
    write_keypair(private, public)
    settings.TAIZHANG_AUDIT_SIGNING_KEY = str(private)
    settings.TAIZHANG_AUDIT_VERIFY_KEY = [str(public)]
    settings.TAIZHANG_AUDIT_CHECKPOINT_LOG = str(tmp_path / "checkpoints.jsonl")
    return private, public


def lift_history_triggers() -> None:
    """What an intruder with database rights does first."""
    on_table = " ON cases_transition" if connection.vendor == "postgresql" else ""
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TRIGGER IF EXISTS cases_transition_append_only{on_table}")


def rewrite_history(case: Case, seq: int, opinion: str) -> None:
    """Change one history row and recompute every hash after it, and the case's last hash."""
    lift_history_triggers()
    rows = list(Transition.objects.filter(case=case).order_by("seq").prefetch_related("attachments"))
    prev = rows[seq - 2].hash if seq > 1 else ""
    with connection.cursor() as cursor:
        for row in rows[seq - 1 :]:
            if row.seq == seq:
                row.opinion = opinion
            row.prev_hash = prev
            row.hash = transition_digest(row, [a.sha256 for a in row.attachments.all()])
            cursor.execute(
                "UPDATE cases_transition SET opinion = %s, prev_hash = %s, hash = %s WHERE id = %s",
                [row.opinion, row.prev_hash, row.hash, row.pk],
            )
            prev = row.hash
        cursor.execute("UPDATE cases_case SET last_hash = %s WHERE id = %s", [prev, case.pk])


def sql(statement: str, params: list) -> None:
    with connection.cursor() as cursor:
        cursor.execute(statement, params)


def verify_fails(*args) -> str:
    with pytest.raises(CommandError) as info:
        call_command("audit", "verify", *args)
    return str(info.value)


def test_an_intact_record_passes_with_its_checkpoint(world, keys, photo, capsys):
    case = report(world, attachments=[photo(world.grid_worker)])
    to_rectifying(world, case)
    call_command("audit", "checkpoint", "--first")
    act(world.handler, case, "rectified", attachments=[photo(world.handler)])
    call_command("audit", "verify")
    out = capsys.readouterr().out
    assert (
        "哈希链完好：1 个案件，5 条流转记录；案件表与流转记录一致；2 个附件文件完好" in out
        and "与签名检查点 #1 一致" in out
    )


@pytest.mark.parametrize(
    "column, value",
    [("state", "closed"), ("unit_id", None), ("due_at", None), ("title", "改过的标题")],
)
def test_a_case_row_changed_behind_the_platform_is_named_with_its_field(world, column, value):
    case = to_rectifying(world, report(world))
    if column == "unit_id":
        value = world.other_unit.pk
    sql(f"UPDATE cases_case SET {column} = %s WHERE id = %s", [value, case.pk])
    message = verify_fails()
    assert f"{case.number} 字段 {column}" in message


def test_closing_a_case_by_sql_is_reported_though_the_chain_is_intact(world):
    case = to_rectifying(world, report(world))
    sql("UPDATE cases_case SET state = 'closed', state_kind = 'closed' WHERE id = %s", [case.pk])
    message = verify_fails("--case", case.number)
    assert "哈希链断裂" not in message
    assert f"{case.number} 字段 state：案件表为 'closed'，流转记录为 'rectifying'" in message


def test_co_units_removed_by_sql_are_reported(world):
    case = report(world, mechanism="hazard")
    to_rectifying(world, case)
    Case.co_units.through.objects.create(case_id=case.pk, unit_id=world.housing_bureau.pk)
    assert f"{case.number} 字段 co_units" in verify_fails()


def test_a_rewritten_history_with_recomputed_hashes_fails_against_the_checkpoint(world, keys):
    case = to_rectifying(world, report(world))
    call_command("audit", "checkpoint", "--first")
    rewrite_history(case, 2, "伪造的立案意见")
    # The chain alone is consistent again: only the signed head shows the rewrite.
    assert "哈希链断裂" not in verify_fails()
    assert f"{case.number} 第 4 条：与检查点 #1 签名的链头不符" in verify_fails()
    with pytest.raises(CommandError, match=f"未生成检查点：{case.number} 第 4 条"):
        call_command("audit", "checkpoint")
    assert AuditCheckpoint.objects.count() == 1


def test_a_rewrite_of_the_rows_before_the_head_is_found_even_after_more_rows(world, keys, photo, capsys):
    case = to_rectifying(world, report(world))
    call_command("audit", "checkpoint", "--first")
    act(world.handler, case, "rectified", attachments=[photo(world.handler)])
    rewrite_history(case, 1, "伪造的上报")
    verify_fails()
    problems = capsys.readouterr().err
    assert f"{case.number} 第 4 条：与检查点 #1 签名的链头不符（第 1–4 条中有记录被改写）" in problems
    assert f"{case.number} 字段 description：案件表为 ''，流转记录为 '伪造的上报'" in problems


def test_a_forged_checkpoint_over_a_rewritten_history_is_refused(world, keys, tmp_path):
    case = to_rectifying(world, report(world))
    call_command("audit", "checkpoint", "--first")
    rewrite_history(case, 2, "伪造")
    # The intruder signs the rewritten heads with a key of his own, naming the operator's key.
    write_keypair(tmp_path / "evil.key", tmp_path / "evil.pub")
    evil = read_private_key(tmp_path / "evil.key")
    first = AuditCheckpoint.objects.get()
    statement = json.loads(first.statement)
    with tempfile.TemporaryFile() as spool:
        sizes, summary = spool_heads(None, 100, spool)
        previous = hashlib.sha256(first.statement.encode()).hexdigest()
        statement.update(serial=2, heads_sha256=summary["heads_sha256"], previous=previous)
        text = json.dumps(statement, sort_keys=True, separators=(",", ":"))
        store(first, text, evil.sign(text.encode()).hex(), statement["key"], clock_now(), spool, sizes)
    message = verify_fails()
    assert message.endswith("检查点 #2 的签名无效：不是由配置的验证公钥对应的私钥签署（伪造或被改动）")
    with pytest.raises(CommandError, match="检查点 #2 的签名无效"):
        call_command("audit", "checkpoint")


def test_a_deleted_latest_checkpoint_is_found_through_the_log(world, keys):
    case = report(world)
    call_command("audit", "checkpoint", "--first")
    act(world.dispatcher, case, "register")
    call_command("audit", "checkpoint")
    AuditCheckpoint.objects.filter(serial=2).delete()
    assert "检查点日志记有检查点 #2，数据库中却没有" in verify_fails()


def test_an_altered_attachment_file_is_reported(world, photo):
    case = report(world, attachments=[photo(world.grid_worker)])
    stored = Attachment.objects.get(case=case)
    with default_storage.open(stored.file.name, "wb") as handle:
        handle.write(b"\xff\xd8\xff not the photo that was reported")
    message = verify_fails()
    assert (
        f"{case.number} 第 1 条的附件 {stored.pk}" in message and "文件内容与记录的 SHA-256 不符" in message
    )


def test_a_replaced_file_with_its_recorded_hash_rewritten_breaks_the_chain(world, photo):
    case = report(world, attachments=[photo(world.grid_worker)])
    stored = Attachment.objects.get(case=case)
    forged = b"\xff\xd8\xff another photo"
    with default_storage.open(stored.file.name, "wb") as handle:
        handle.write(forged)
    sql(
        "UPDATE cases_attachment SET sha256 = %s WHERE id = %s",
        [hashlib.sha256(forged).hexdigest(), stored.pk],
    )
    assert f"哈希链断裂：{case.number} 第 1 条：内容与哈希不符" in verify_fails()


def test_a_missing_attachment_file_is_reported(world, photo):
    case = report(world, attachments=[photo(world.grid_worker)])
    stored = Attachment.objects.get(case=case)
    default_storage.delete(stored.file.name)
    assert f"{case.number} 第 1 条的附件 {stored.pk}（现场.jpg）文件缺失" in verify_fails()


def test_the_database_refuses_to_delete_or_update_history(world):
    case = report(world)
    for statement in (
        "DELETE FROM cases_transition WHERE case_id = %s",
        "UPDATE cases_transition SET opinion = 'x' WHERE case_id = %s",
    ):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            sql(statement, [case.pk])
    assert Transition.objects.filter(case=case).count() == 1


def test_cases_are_read_in_keyset_batches_and_every_problem_is_reported(world, capsys):
    cases = [report(world) for _ in range(5)]
    for bad in (cases[0], cases[3]):
        sql("UPDATE cases_case SET title = 'x' WHERE id = %s", [bad.pk])
    with CaptureQueriesContext(connection) as queries:
        message = verify_fails("--batch", "2", "--skip-files")
    assert "记录有 2 处问题（已校验 5 个案件，5 条流转记录）" in message
    assert cases[0].number in message  # the first problem
    assert cases[3].number in capsys.readouterr().err
    case_reads = [
        q["sql"]
        for q in queries.captured_queries
        if 'FROM "cases_case"' in q["sql"] and "LIMIT 2" in q["sql"]
    ]
    assert len(case_reads) == 3 and sum('"cases_case"."id" >' in s for s in case_reads) == 2
    assert not any("OFFSET" in q["sql"] for q in queries.captured_queries)


def test_keygen_makes_a_private_file_only_its_owner_reads_and_never_overwrites(tmp_path):
    private, public = tmp_path / "k", tmp_path / "k.pub"
    call_command("audit", "keygen", "--private", str(private), "--public", str(public))
    assert stat.S_IMODE(private.stat().st_mode) == 0o600
    assert public.read_text().startswith("-----BEGIN PUBLIC KEY-----")
    with pytest.raises(CommandError, match="已存在，不会覆盖"):
        call_command("audit", "keygen", "--private", str(private), "--public", str(tmp_path / "other.pub"))


def test_checkpoint_needs_the_signing_key(world, settings):
    settings.TAIZHANG_AUDIT_SIGNING_KEY = ""
    with pytest.raises(CommandError, match="未配置 TAIZHANG_AUDIT_SIGNING_KEY"):
        call_command("audit", "checkpoint")


def test_the_worker_signs_a_checkpoint_once_per_interval(world, keys, settings):
    settings.TAIZHANG_AUDIT_CHECKPOINT_INTERVAL = 3600
    report(world)
    call_command("audit", "checkpoint", "--first")
    schedule, now = CheckpointSchedule(), clock_now()
    assert schedule.tick(now + timedelta(minutes=59)) is None
    assert CheckpointSchedule().tick(now + timedelta(minutes=30)) is None  # a second worker too
    assert schedule.tick(now + timedelta(minutes=61)).serial == 2
    assert schedule.tick(now + timedelta(minutes=62)) is None


def test_make_checkpoint_signs_nothing_when_a_case_row_lost_its_head(world, keys):
    case = report(world)
    sql("UPDATE cases_case SET last_hash = %s WHERE id = %s", ["0" * 64, case.pk])
    with pytest.raises(CheckpointError, match=f"{case.number}：案件记录的最新哈希与第 1 条流转记录不符"):
        make_checkpoint(read_private_key(keys[0]), {}, clock_now(), 100, first=True)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        (
            {"TAIZHANG_AUDIT_SIGNING_KEY": "/nonexistent/audit.key"},
            "TAIZHANG_AUDIT_SIGNING_KEY='/nonexistent/audit.key': no such key file",
        ),
        (
            {"TAIZHANG_AUDIT_VERIFY_KEY": "/nonexistent/audit.pub"},
            "TAIZHANG_AUDIT_VERIFY_KEY='/nonexistent/audit.pub': no such key file",
        ),
        (
            {"TAIZHANG_AUDIT_CHECKPOINT_INTERVAL": "hourly"},
            "TAIZHANG_AUDIT_CHECKPOINT_INTERVAL='hourly': expected a whole number",
        ),
        (
            {"TAIZHANG_AUDIT_CHECKPOINT_LOG": "/nonexistent/log.jsonl"},
            "TAIZHANG_AUDIT_CHECKPOINT_LOG='/nonexistent/log.jsonl': its directory does not exist",
        ),
    ],
)
def test_a_bad_audit_setting_stops_start_up_naming_it(env, message):
    full = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"} | env
    command = [sys.executable, "-m", "taizhang.cli", "check"]
    proc = subprocess.run(command, env=full, capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode != 0 and message in proc.stderr

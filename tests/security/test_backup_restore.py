"""`taizhang backup` and `taizhang restore`: a copy that restores into a new database and media directory
and passes `taizhang audit verify` there, run as its own process against the restored copy only."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from taizhang.cases.models import Attachment, Case, Transition
from tests.cases.helpers import act, report, to_rectifying

pytestmark = pytest.mark.django_db(transaction=True)  # the backup reads through its own connection


def build_cases(world, photo) -> None:
    """Three cases, two with photos, one through to rectification with a photo of the work."""
    first = to_rectifying(world, report(world, attachments=[photo(world.grid_worker)]))
    act(world.handler, first, "rectified", attachments=[photo(world.handler, (10, 200, 10))])
    report(world, attachments=[photo(world.grid_worker, (10, 10, 200))])
    report(world)


def counts() -> tuple[int, int, int]:
    return Case.objects.count(), Transition.objects.count(), Attachment.objects.count()


def backup(tmp_path: Path) -> Path:
    out = tmp_path / "backups"
    out.mkdir()
    call_command("backup", "--output", str(out))
    (archive,) = out.glob("taizhang-backup-*.tar.gz")
    return archive


def audit_verify(database_url: str, media: Path) -> subprocess.CompletedProcess:
    """`taizhang audit verify` in a process of its own that knows only the restored copy."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TAIZHANG_", "DATABASE_URL"))}
    env.update(DATABASE_URL=database_url, TAIZHANG_MEDIA_ROOT=str(media))
    command = [sys.executable, "-m", "taizhang.cli", "audit", "verify"]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=300, check=False)


def expect_verified(result: subprocess.CompletedProcess, cases: int, rows: int, files: int) -> None:
    assert result.returncode == 0, result.stderr
    assert (
        f"哈希链完好：{cases} 个案件，{rows} 条流转记录；案件表与流转记录一致；{files} 个附件文件完好"
        in result.stdout
    )


@pytest.fixture
def sqlite_only():
    if connection.vendor != "sqlite":
        pytest.skip("the embedded SQLite database's backup (PostgreSQL: test_postgresql_…)")


def test_sqlite_backup_restores_into_a_new_database_that_passes_audit_verify(
    world, photo, tmp_path, sqlite_only
):
    build_cases(world, photo)
    at_backup = counts()
    archive = backup(tmp_path)
    report(world)  # written after the backup: not in the copy
    restored, media = tmp_path / "restored.sqlite3", tmp_path / "restored-media"
    call_command("restore", str(archive), "--database", str(restored), "--media", str(media))
    assert len([p for p in media.rglob("*") if p.is_file()]) == at_backup[2] == 3
    expect_verified(audit_verify(f"sqlite:///{restored}", media), *at_backup)


def test_the_archive_holds_a_manifest_and_a_sha256sum_list(world, photo, tmp_path, sqlite_only):
    build_cases(world, photo)
    archive = backup(tmp_path)
    with tarfile.open(archive) as tar:
        names = tar.getnames()
        manifest = tar.extractfile("manifest.json").read().decode()
        listing = tar.extractfile("media.sha256").read().decode().splitlines()
    assert names[0] == "database.sqlite3" and names[-2:] == ["media.sha256", "manifest.json"]
    assert '"cases": 3' in manifest and '"transitions": 7' in manifest and '"files": 3' in manifest
    stored = {a.sha256 for a in Attachment.objects.all()}
    assert {line.split("  ")[0] for line in listing} == stored


def test_restore_refuses_a_target_with_data_unless_forced(world, photo, tmp_path, sqlite_only):
    build_cases(world, photo)
    archive = backup(tmp_path)
    restored, media = tmp_path / "restored.sqlite3", tmp_path / "media-target"
    media.mkdir()
    (media / "keep.txt").write_text("earlier files")
    with pytest.raises(CommandError, match="附件目录 .* 不是空的；确认要覆盖请加 --force"):
        call_command("restore", str(archive), "--database", str(restored), "--media", str(media))
    assert not restored.exists() and (media / "keep.txt").exists()
    call_command("restore", str(archive), "--database", str(restored), "--media", str(media), "--force")
    with pytest.raises(CommandError, match="已有数据；确认要覆盖请加 --force"):
        call_command("restore", str(archive), "--database", str(restored), "--media", str(tmp_path / "m2"))
    (aside,) = tmp_path.glob("media-target.replaced-*")
    assert (aside / "keep.txt").read_text() == "earlier files"  # set aside, never deleted


def test_restore_refuses_an_archive_whose_file_was_altered(world, photo, tmp_path, sqlite_only):
    build_cases(world, photo)
    archive = backup(tmp_path)
    forged = tmp_path / "forged.tar.gz"
    with tarfile.open(archive) as source, tarfile.open(forged, "w:gz", format=tarfile.PAX_FORMAT) as out:
        for member in source:
            data = source.extractfile(member).read()
            if member.name.startswith("media/"):  # one bit of every photo flipped, headers kept
                data = data[:10] + bytes([data[10] ^ 1]) + data[11:]
            out.addfile(member, io.BytesIO(data))
    restored, media = tmp_path / "restored.sqlite3", tmp_path / "restored-media"
    with pytest.raises(CommandError, match=r"备份已损坏：media/cases/.* 的 SHA-256 与记录的不符"):
        call_command("restore", str(forged), "--database", str(restored), "--media", str(media))
    assert not restored.exists() and not media.exists()


def test_backup_never_overwrites(world, tmp_path, sqlite_only):
    target = tmp_path / "one.tar.gz"
    target.write_bytes(b"earlier backup")
    with pytest.raises(CommandError, match="已存在，不会覆盖"):
        call_command("backup", "--output", str(target))


def test_postgresql_dump_restores_into_a_fresh_database_that_passes_audit_verify(world, photo, tmp_path):
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's pg_dump backup (SQLite: test_sqlite_…)")
    if not (shutil.which("pg_dump") and shutil.which("pg_restore")):
        pytest.skip("pg_dump and pg_restore are not installed (postgresql-client)")
    import psycopg

    build_cases(world, photo)
    at_backup = counts()
    archive = backup(tmp_path)
    db = connection.settings_dict
    fresh = f"{db['NAME']}_restored"
    auth = f"{db['USER']}:{db['PASSWORD']}@" if db.get("PASSWORD") else f"{db['USER']}@"
    server = f"postgresql://{auth}{db['HOST'] or 'localhost'}:{db['PORT'] or 5432}"
    with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{fresh}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{fresh}"')
    try:
        media = tmp_path / "restored-media"
        call_command("restore", str(archive), "--database", f"{server}/{fresh}", "--media", str(media))
        expect_verified(audit_verify(f"{server}/{fresh}", media), *at_backup)
    finally:
        with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{fresh}" WITH (FORCE)')

"""`taizhang backup`: the database and the attachments' files in one tar.gz with a manifest.

SQLite: a consistent copy through SQLite's online backup API while the platform runs (WAL readers do
not stop writers). PostgreSQL: `pg_dump --format=custom` when pg_dump is on PATH (a logical dump; for
point-in-time recovery see README "Backups"). The files are those the copied database names, listed
from the copy itself (SQLite) or after the dump finished (PostgreSQL, files are never deleted), so
every attachment in the backup has its file.

Layout: `database.sqlite3` or `database.pgdump`, `media/<storage name>` for each file, `media.sha256`
(sha256sum format, `sha256sum -c` checks an unpacked archive) and `manifest.json` (format, time,
engine, counts, sizes, SHA-256 of the database copy and of the file list, missing files). Every
member also carries its SHA-256 in a PAX header, so `taizhang restore` checks each as it unpacks.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

from django.core.files.storage import default_storage
from django.db import connection, transaction

FORMAT = "taizhang-backup/1"
# Each member's SHA-256, as an extended attribute in its PAX header: GNU tar passes over it quietly (or sets
# it with --xattrs), and restore checks the bytes against it as it unpacks them.
SHA_HEADER = "SCHILY.xattr.user.taizhang.sha256"
DB_MEMBER = {"sqlite": "database.sqlite3", "postgresql": "database.pgdump"}
COUNTED = {
    "cases": "cases_case",
    "transitions": "cases_transition",
    "attachments": "cases_attachment",
    "checkpoints": "cases_auditcheckpoint",
}


class BackupError(Exception):
    """A backup that cannot be made; the message says why and what to do."""


@dataclass
class Manifest:
    engine: str
    created_at: str
    database: dict = field(default_factory=dict)
    counts: dict = field(default_factory=dict)
    media: dict = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)  # named by the database, not in the storage
    altered: list[str] = field(default_factory=list)  # not the bytes the database recorded

    def as_json(self) -> bytes:
        body = {"format": FORMAT, **self.__dict__}
        return json.dumps(body, ensure_ascii=False, indent=2, sort_keys=True).encode()


class HashingReader:
    """A file object that hashes what is read from it (so a file is read once, into the archive)."""

    def __init__(self, raw: IO[bytes]):
        self.raw, self.sha, self.size = raw, hashlib.sha256(), 0

    def read(self, n: int = -1) -> bytes:
        data = self.raw.read(n)
        self.sha.update(data)
        self.size += len(data)
        return data


def archive_path(output: Path, now: datetime) -> Path:
    """The archive to write: inside `output` when it is a directory, else `output` itself (never overwritten)."""
    if output.is_dir():
        output = output / f"taizhang-backup-{now:%Y%m%d-%H%M%S}.tar.gz"
    if output.exists():
        raise BackupError(f"{output} 已存在，不会覆盖")
    if not output.parent.is_dir():
        raise BackupError(f"目录 {output.parent} 不存在")
    return output


def copy_sqlite(target: Path) -> None:
    """A consistent copy of the running SQLite database (online backup API, one step)."""
    source = sqlite3.connect(connection.settings_dict["NAME"], timeout=30)
    copy = sqlite3.connect(target)
    try:
        source.backup(copy)
    finally:
        copy.close()
        source.close()


def dump_postgresql(target: Path, snapshot: str) -> None:
    """`pg_dump --format=custom` of the configured database as of `snapshot` into `target`."""
    if shutil.which("pg_dump") is None:
        raise BackupError(
            "PostgreSQL 的备份需要 pg_dump（安装与服务器同一主版本的 postgresql-client），"
            "或按 README「Backups」用 pg_basebackup 与 WAL 归档做基础备份。"
        )
    db = connection.settings_dict
    env = {**os.environ, "PGPASSWORD": str(db.get("PASSWORD") or "")}
    command = ["pg_dump", "--format=custom", "--no-owner", "--snapshot", snapshot, "--file", str(target)]
    for flag, key in (("--host", "HOST"), ("--port", "PORT"), ("--username", "USER")):
        if db.get(key):
            command += [flag, str(db[key])]
    result = subprocess.run([*command, db["NAME"]], env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise BackupError(f"pg_dump 失败（退出码 {result.returncode}）：{result.stderr.strip()}")


def sqlite_rows(path: Path, sql: str) -> Iterator[tuple]:
    """Rows of a query on the copied SQLite file, streamed."""
    copy = sqlite3.connect(path)
    try:
        yield from copy.execute(sql)
    finally:
        copy.close()


def cursor_rows(cursor, sql: str) -> Iterator[tuple]:
    cursor.execute(sql)
    while rows := cursor.fetchmany(1000):
        yield from rows


Rows = Callable[[str], Iterator[tuple]]


@contextmanager
def database_copy(engine: str, copy: Path) -> Iterator[Rows]:
    """Copy the database into `copy`; yields a query function over exactly what the copy holds.

    PostgreSQL: a repeatable-read transaction exports its snapshot, pg_dump dumps that snapshot, and the
    counts and the file list are read in the same transaction.
    """
    if engine == "sqlite":
        copy_sqlite(copy)
        yield lambda sql: sqlite_rows(copy, sql)
        return
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        cursor.execute("SELECT pg_export_snapshot()")
        dump_postgresql(copy, cursor.fetchone()[0])
        yield lambda sql: cursor_rows(cursor, sql)


IN_MEMORY = 64 << 20  # attachments are far smaller (TAIZHANG_MAX_UPLOAD_MB): read once, into memory


def add_member(archive: tarfile.TarFile, name: str, size: int, opener: Callable[[], IO[bytes]]) -> str:
    """Add one member with its SHA-256 in its PAX header (known before the bytes); returns the hash.

    A small member is read once; a large one is hashed first and hashed again on the way into the
    archive, and refused if it changed in between.
    """
    with opener() as handle:
        if size <= IN_MEMORY:
            data = handle.read(size + 1)
            if len(data) != size:
                raise BackupError(f"{name} 在备份过程中被改动")
            sha = hashlib.sha256(data).hexdigest()
            reader = HashingReader(io.BytesIO(data))
        else:
            sha = hashlib.sha256()
            for block in iter(lambda: handle.read(1 << 20), b""):
                sha.update(block)
            sha = sha.hexdigest()
    info = tarfile.TarInfo(name)
    info.size, info.mode, info.mtime = size, 0o644, int(datetime.now(UTC).timestamp())
    info.pax_headers = {SHA_HEADER: sha}
    if size <= IN_MEMORY:
        archive.addfile(info, reader)
    else:
        with opener() as handle:
            reader = HashingReader(handle)
            archive.addfile(info, reader)
    if reader.sha.hexdigest() != sha:
        raise BackupError(f"{name} 在备份过程中被改动")
    return sha


def add_media(archive: tarfile.TarFile, rows: Rows, manifest: Manifest, listing: IO[bytes]) -> None:
    """Every attachment's file the backed-up database names, as media/<name>, hashed into `listing`."""
    files = total = 0
    for name, recorded in list_in_batches(rows):
        try:
            size = default_storage.size(name)
            sha = add_member(archive, f"media/{name}", size, lambda n=name: default_storage.open(n, "rb"))
        except OSError:
            manifest.missing.append(name)
            continue
        listing.write(f"{sha}  media/{name}\n".encode())
        files, total = files + 1, total + size
        if sha != recorded:  # archived as it is; `taizhang audit verify` names it
            manifest.altered.append(name)
    manifest.media.update(files=files, bytes=total)


def list_in_batches(rows: Rows) -> Iterator[tuple]:
    """(file, sha256) of every attachment in id order, read a thousand at a time (keyset, as audit verify)."""
    last = 0
    while True:
        batch = list(
            rows(f"SELECT id, file, sha256 FROM cases_attachment WHERE id > {last} ORDER BY id LIMIT 1000")
        )
        yield from ((name, sha) for _, name, sha in batch if name)
        if len(batch) < 1000:
            return
        last = batch[-1][0]


def write_backup(output: Path, now: datetime) -> tuple[Path, Manifest]:
    """Write the archive; returns its path and manifest. Nothing is left behind on failure."""
    engine = connection.vendor
    if engine not in DB_MEMBER:
        raise BackupError(f"不支持的数据库：{engine}")
    target = archive_path(output, now)
    manifest = Manifest(engine=engine, created_at=now.astimezone(UTC).isoformat(timespec="seconds"))
    partial = target.with_name(target.name + ".part")
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".taizhang-backup-") as work:
        copy = Path(work) / DB_MEMBER[engine]
        try:
            with (
                database_copy(engine, copy) as rows,
                tarfile.open(partial, "w:gz", format=tarfile.PAX_FORMAT) as archive,
            ):
                for label, table in COUNTED.items():
                    manifest.counts[label] = list(rows(f"SELECT count(*) FROM {table}"))[0][0]
                size = copy.stat().st_size
                db_sha = add_member(archive, DB_MEMBER[engine], size, lambda: open(copy, "rb"))
                manifest.database = {"file": DB_MEMBER[engine], "sha256": db_sha, "bytes": size}
                listing = Path(work) / "media.sha256"
                with open(listing, "wb") as out:
                    add_media(archive, rows, manifest, out)
                size = listing.stat().st_size
                manifest.media["list_sha256"] = add_member(
                    archive, "media.sha256", size, lambda: open(listing, "rb")
                )
                body = manifest.as_json()
                add_member(archive, "manifest.json", len(body), lambda: io.BytesIO(body))
            os.replace(partial, target)
        finally:
            partial.unlink(missing_ok=True)
    return target, manifest

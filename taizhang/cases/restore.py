"""`taizhang restore`: unpack a `taizhang backup` archive into a database and a media directory.

The archive is read once, as a stream. Every member's bytes are checked against the SHA-256 in its PAX
header as they are written, and at the end against the manifest (database hash, file count, file
list); only then is anything put in place: the SQLite file by rename (its stale -wal/-shm removed), the
media directory by rename of the directory it was unpacked into, a PostgreSQL dump by pg_restore. A
non-empty target is refused unless `force`; a replaced media directory is kept aside, not deleted.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import tarfile
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path, PurePosixPath
from typing import IO

from .backup import DB_MEMBER, FORMAT, SHA_HEADER


class RestoreError(Exception):
    """An archive that cannot be restored, or a target that may not be overwritten; the message says which."""


@dataclass
class Restored:
    manifest: dict
    files: int = 0
    notes: list[str] = field(default_factory=list)


def copy_checked(source: IO[bytes], dest: Path, expected: str, name: str) -> None:
    """Write `source` to `dest`, refusing it when its SHA-256 is not `expected`."""
    sha = hashlib.sha256()
    dest.parent.mkdir(parents=True, exist_ok=True)
    with open(dest, "wb") as out:
        for block in iter(lambda: source.read(1 << 20), b""):
            sha.update(block)
            out.write(block)
    if sha.hexdigest() != expected:
        raise RestoreError(f"备份已损坏：{name} 的 SHA-256 与记录的不符")


def media_path(root: Path, name: str) -> Path:
    """Where media/<name> goes under `root`; a name that would leave it is refused."""
    parts = PurePosixPath(name.removeprefix("media/")).parts
    if not parts or any(p in ("..", "") or "\\" in p for p in parts) or parts[0] == "/":
        raise RestoreError(f"备份中有不安全的路径：{name}")
    return root.joinpath(*parts)


def not_empty(path: Path) -> bool:
    return path.exists() and (any(path.iterdir()) if path.is_dir() else path.stat().st_size > 0)


def sqlite_target(database: str) -> Path:
    return Path(database.removeprefix("sqlite:///")) if database.startswith("sqlite:") else Path(database)


def postgresql_empty(url: str) -> bool:
    import psycopg

    try:
        with psycopg.connect(url) as conn:
            found = conn.execute("SELECT count(*) FROM pg_catalog.pg_tables WHERE schemaname = 'public'")
            return found.fetchone()[0] == 0
    except psycopg.Error as exc:
        raise RestoreError(f"无法连接目标数据库：{exc}") from None


def check_targets(engine: str, database: str, media: Path, force: bool) -> None:
    """Refuse a target that holds something, unless `force`; and an engine the archive is not for."""
    if engine == "sqlite":
        if database.startswith(("postgres:", "postgresql:")):
            raise RestoreError("这是 SQLite 数据库的备份，只能恢复为 SQLite 文件（--database PATH）")
        target = sqlite_target(database)
        if not target.parent.is_dir():
            raise RestoreError(f"目录 {target.parent} 不存在")
        if not_empty(target) and not force:
            raise RestoreError(f"{target} 已有数据；确认要覆盖请加 --force")
    else:
        if not database.startswith(("postgres:", "postgresql:")):
            raise RestoreError("这是 PostgreSQL 的备份（pg_dump），--database 须为 postgresql://… 的空数据库")
        if shutil.which("pg_restore") is None:
            raise RestoreError("恢复 PostgreSQL 备份需要 pg_restore（postgresql-client）")
        if not postgresql_empty(database) and not force:
            raise RestoreError("目标数据库已有表；确认要覆盖请加 --force")
    if media.exists() and not media.is_dir():
        raise RestoreError(f"{media} 不是目录")
    if not_empty(media) and not force:
        raise RestoreError(f"附件目录 {media} 不是空的；确认要覆盖请加 --force")


def unpack(archive: Path, database: str, media: Path, force: bool, staging: Path, db_copy: Path) -> Restored:
    """Read the archive into `db_copy` and `staging` (media), checking every member; returns the manifest."""
    manifest = listing = None
    engine = None
    files = 0
    try:
        stream = tarfile.open(archive, "r|gz")
    except (OSError, tarfile.TarError) as exc:
        raise RestoreError(f"无法读取备份 {archive}：{exc}") from None
    with stream:
        try:
            for member in stream:
                expected = member.pax_headers.get(SHA_HEADER)
                if not member.isfile() or expected is None:
                    raise RestoreError(f"{member.name} 不是 taizhang backup 写的成员")
                source = stream.extractfile(member)
                if engine is None:
                    engine = next((e for e, n in DB_MEMBER.items() if n == member.name), None)
                    if engine is None:
                        raise RestoreError(
                            f"{archive} 不是 taizhang backup 的备份（第一个成员是 {member.name}）"
                        )
                    check_targets(engine, database, media, force)
                    copy_checked(source, db_copy, expected, member.name)
                elif member.name.startswith("media/"):
                    copy_checked(source, media_path(staging, member.name), expected, member.name)
                    files += 1
                elif member.name == "media.sha256":
                    listing = read_checked(source, expected, member.name)
                elif member.name == "manifest.json":
                    manifest = json.loads(read_checked(source, expected, member.name))
                else:
                    raise RestoreError(f"备份中有未知成员 {member.name}")
        except (OSError, EOFError, tarfile.TarError) as exc:
            raise RestoreError(f"备份不完整或已损坏：{exc}") from None
    if manifest is None or listing is None or manifest.get("format") != FORMAT:
        raise RestoreError("备份不完整：缺少清单（manifest.json / media.sha256）")
    if manifest["database"]["sha256"] != sha256_file(db_copy):
        raise RestoreError("备份已损坏：数据库副本与清单中的 SHA-256 不符")
    if (
        manifest["media"]["list_sha256"] != hashlib.sha256(listing).hexdigest()
        or files != manifest["media"]["files"]
    ):
        raise RestoreError(
            f"备份不完整：清单记有 {manifest['media']['files']} 个附件文件，备份中有 {files} 个"
        )
    return Restored(manifest=manifest, files=files)


def read_checked(source: IO[bytes], expected: str, name: str) -> bytes:
    data = source.read()
    if hashlib.sha256(data).hexdigest() != expected:
        raise RestoreError(f"备份已损坏：{name} 的 SHA-256 与记录的不符")
    return data


def sha256_file(path: Path) -> str:
    sha = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            sha.update(block)
    return sha.hexdigest()


def install_media(staging: Path, media: Path, restored: Restored) -> None:
    """Put the unpacked directory in place; a non-empty one it replaces is renamed aside, not deleted."""
    if media.exists():
        if any(media.iterdir()):
            aside = media.with_name(f"{media.name}.replaced-{datetime.now():%Y%m%d-%H%M%S}")
            media.rename(aside)
            restored.notes.append(f"原附件目录已移到 {aside}")
        else:
            media.rmdir()
    staging.rename(media)


def install_database(engine: str, db_copy: Path, database: str, force: bool) -> None:
    if engine == "sqlite":
        target = sqlite_target(database)
        for stale in (Path(f"{target}-wal"), Path(f"{target}-shm")):  # would be replayed onto the new file
            stale.unlink(missing_ok=True)
        os.replace(db_copy, target)
        return
    command = ["pg_restore", "--no-owner", "--exit-on-error", "--dbname", database, str(db_copy)]
    if force:
        command[1:1] = ["--clean", "--if-exists"]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RestoreError(f"pg_restore 失败（退出码 {result.returncode}）：{result.stderr.strip()}")


def restore(archive: Path, database: str, media: Path, force: bool) -> Restored:
    """Restore `archive` into `database` (a SQLite path or a postgresql:// URL) and the `media` directory."""
    if not archive.is_file():
        raise RestoreError(f"没有备份文件 {archive}")
    parent = sqlite_target(database).parent if not database.startswith("postgres") else media.parent
    if not media.parent.is_dir():
        raise RestoreError(f"目录 {media.parent} 不存在")
    staging = media.with_name(f".{media.name}.restoring-{os.getpid()}")
    db_copy = parent / f".taizhang-restore-{os.getpid()}.db"
    try:
        staging.mkdir()
        restored = unpack(archive, database, media, force, staging, db_copy)
        install_database(restored.manifest["engine"], db_copy, database, force)
        install_media(staging, media, restored)
    finally:
        db_copy.unlink(missing_ok=True)
        if staging.exists():
            shutil.rmtree(staging)
    return restored

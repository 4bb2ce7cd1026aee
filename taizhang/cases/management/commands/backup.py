"""`taizhang backup --output DIR_OR_FILE`: the database and the attachments' files in one archive."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from taizhang.cases.backup import BackupError, write_backup


class Command(BaseCommand):
    help = "备份数据库（SQLite 在线备份；PostgreSQL 用 pg_dump）与附件文件到一个 tar.gz，附清单与 SHA-256"

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--output", required=True, help="备份文件，或一个目录（其中生成 taizhang-backup-时间.tar.gz）"
        )

    def handle(self, *args, output: str, **options) -> None:
        try:
            path, manifest = write_backup(Path(output), timezone.localtime())
        except BackupError as exc:
            raise CommandError(str(exc)) from None
        counts = manifest.counts
        self.stdout.write(
            self.style.SUCCESS(
                f"已备份到 {path}：{counts['cases']} 个案件，{counts['transitions']} 条流转记录，"
                f"{manifest.media['files']} 个附件文件；数据库 SHA-256 {manifest.database['sha256']}"
            )
        )
        for name in manifest.missing:
            self.stderr.write(f"附件文件缺失，未能备份：{name}")
        for name in manifest.altered:
            self.stderr.write(f"附件文件与记录的 SHA-256 不符（已按现状备份）：{name}")
        self.stdout.write("签名私钥与检查点日志不在备份中：请另行保管，不要与数据库备份放在一起。")

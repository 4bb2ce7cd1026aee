"""`taizhang restore ARCHIVE --database PATH --media DIR [--force]`: unpack a `taizhang backup` archive."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from taizhang.cases.restore import RestoreError, restore


class Command(BaseCommand):
    help = "从 taizhang backup 的备份恢复数据库与附件文件（逐一核对 SHA-256；目标非空时须 --force）"

    def add_arguments(self, parser) -> None:
        parser.add_argument("archive", help="taizhang backup 生成的 .tar.gz")
        parser.add_argument(
            "--database", required=True, help="SQLite 数据库文件路径，或 postgresql://… 的空数据库"
        )
        parser.add_argument("--media", required=True, help="附件目录（即 TAIZHANG_MEDIA_ROOT）")
        parser.add_argument("--force", action="store_true", help="覆盖已有数据的目标")

    def handle(self, *args, archive: str, database: str, media: str, force: bool, **options) -> None:
        try:
            restored = restore(Path(archive), database, Path(media), force)
        except RestoreError as exc:
            raise CommandError(str(exc)) from None
        counts = restored.manifest["counts"]
        self.stdout.write(
            self.style.SUCCESS(
                f"已恢复 {restored.manifest['created_at']} 的备份：{counts['cases']} 个案件，"
                f"{counts['transitions']} 条流转记录 → {database}；{restored.files} 个附件文件 → {media}"
            )
        )
        for note in restored.notes:
            self.stdout.write(note)
        self.stdout.write(
            "请用恢复后的 DATABASE_URL 与 TAIZHANG_MEDIA_ROOT 运行 taizhang audit verify 核对记录。"
        )

"""`taizhang import FILE.(csv|xlsx) --mapping MAPPING.yaml`: bulk import of another 12345 system's export.

See ``taizhang/intake/importer/`` for the mapping format (``mapping.py``) and how the rows are written
(``run.py``). A progress bar goes to stderr (``--quiet`` turns it off), a summary to stdout; rejected
rows go to ``FILE.errors.csv`` (or ``--errors PATH``). The exit status is 0 when the import ran to the
end — rejected rows included, they are reported, not fatal — and 1 when the file or the mapping could
not be used, in which case nothing was written. Re-running the same command is safe: records already
imported are skipped, so an interrupted import continues where it stopped.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db.models import Max

from taizhang.cases.models import Case
from taizhang.insight.hotspot_index import rebuild
from taizhang.insight.similar import index_missing
from taizhang.intake.importer.mapping import MappingError, load_mapping
from taizhang.intake.importer.readers import ReadError
from taizhang.intake.importer.run import DEFAULT_BATCH, Summary, run_import


class ProgressBar:
    """A one-line bar on stderr, redrawn at most five times a second (a line every 10 s when not a tty)."""

    def __init__(self, stream=None, width: int = 30):
        self.stream = stream or sys.stderr
        self.width = width
        self.tty = self.stream.isatty()
        self.last = 0.0
        self.drawn = False

    def __call__(self, summary: Summary, fraction: float | None, final: bool) -> None:
        now = time.monotonic()
        if not final and now - self.last < (0.2 if self.tty else 10.0):
            return
        self.last = now
        if fraction is None:
            bar = ""
        else:
            filled = int(fraction * self.width)
            bar = f"[{'#' * filled}{'.' * (self.width - filled)}] {fraction * 100:5.1f}% "
        text = (
            f"{bar}{summary.rows_read:,} 行  导入 {summary.imported:,}  跳过 {summary.skipped:,}  "
            f"拒绝 {summary.rejected:,}  {summary.rate:,.0f} 行/秒"
        )
        if self.tty:
            self.stream.write("\r" + text + ("\n" if final else ""))
        else:
            self.stream.write(text + "\n")
        self.stream.flush()
        self.drawn = True


class Command(BaseCommand):
    help = "从其他 12345 系统的导出文件（CSV 或 XLSX）批量导入工单"

    def add_arguments(self, parser) -> None:
        parser.add_argument("file", help="要导入的 .csv 或 .xlsx 文件")
        parser.add_argument("--mapping", required=True, help="映射文件（YAML），示例见 mechanisms/imports/")
        parser.add_argument("--errors", help="被拒绝行的明细文件（默认：FILE.errors.csv）")
        parser.add_argument(
            "--batch-size", type=int, default=DEFAULT_BATCH, help=f"每个事务的行数（默认 {DEFAULT_BATCH}）"
        )
        parser.add_argument("--quiet", action="store_true", help="不显示进度条")
        parser.add_argument(
            "--no-insight",
            action="store_true",
            help="导入后不建相似案件索引、不重新归并热点（之后可运行 similar_index 与 hotspots rebuild）",
        )

    def handle(
        self, *args, file: str, mapping: str, errors: str | None, batch_size: int, quiet: bool, **options
    ):
        if batch_size < 1:
            raise CommandError("--batch-size 至少为 1")
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"找不到文件 {file}")
        try:
            spec = load_mapping(mapping)
            progress = None if quiet or options.get("verbosity", 1) == 0 else ProgressBar(self.stderr._out)
            before = Case.objects.aggregate(m=Max("pk"))["m"] or 0
            summary = run_import(path, spec, errors_path=errors, batch_size=batch_size, progress=progress)
        except (MappingError, ReadError) as exc:
            raise CommandError(f"未导入任何记录：\n{exc}") from None
        for line in summary.lines():
            self.stdout.write(line)
        if summary.imported and not options.get("no_insight"):
            self.index_and_regroup(spec.mech.code, before)

    def index_and_regroup(self, mechanism: str, before: int) -> None:
        """Bulk rows bypass intake's hooks: index them and regroup the hot spots of the districts they
        went to, in time order, as `similar_index` and `hotspots rebuild` would. The import is in
        already: a failure here says so and how to finish."""
        start = time.perf_counter()
        imported = Case.objects.filter(pk__gt=before, mechanism=mechanism).order_by()
        regions = set(imported.values_list("region", flat=True).distinct())
        try:
            indexed = index_missing()
            done = rebuild(regions, mechanisms=[mechanism])
        except Exception as exc:
            raise CommandError(
                f"记录已导入，但建相似案件索引或归并热点失败：{exc}。"
                "请运行 taizhang similar_index 与 taizhang hotspots rebuild 补做。"
            ) from exc
        groups = sum(d["groups"] for d in done.values())
        self.stdout.write(
            f"已索引 {indexed} 个案件，重新归并热点 {groups} 个（{time.perf_counter() - start:.1f} 秒）"
        )

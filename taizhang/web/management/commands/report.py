"""`taizhang report monthly --month YYYY-MM [--division CODE] --format pdf|xlsx --output FILE`.

The monthly report (月度报告) for a scheduler: read as the system — every case, or every case of the
division's subtree — and written to a file. The month defaults to the previous one (Beijing time).
"""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from taizhang.clock.now import now as clock_now
from taizhang.errors import ActionError
from taizhang.web.monthly.export import FORMATS, monthly_document
from taizhang.web.monthly.scope import find_division, parse_scope, system_viewer


class Command(BaseCommand):
    help = "报告：monthly 生成月度报告（PDF 或 Excel），供定时任务使用"

    def add_arguments(self, parser) -> None:
        sub = parser.add_subparsers(dest="kind", required=True)
        monthly = sub.add_parser("monthly", help="月度报告：全部区域或某区划及其下级")
        monthly.add_argument("--month", help="月份 YYYY-MM（默认上个月，北京时间）")
        monthly.add_argument("--division", default="", help="区划编码（默认全部区域）")
        monthly.add_argument(
            "--format", dest="fmt", choices=sorted(FORMATS), help="pdf 或 xlsx（默认按文件扩展名）"
        )
        monthly.add_argument("--output", type=Path, required=True, metavar="FILE", help="输出文件")
        monthly.add_argument(
            "--base-url",
            default="",
            help="站点地址（如 https://taizhang.example.cn），给出时数字链接到案件清单",
        )

    def handle(self, *args, kind: str, **options) -> None:
        output: Path = options["output"]
        fmt = options["fmt"] or output.suffix.lstrip(".").lower()
        if fmt not in FORMATS:
            raise CommandError(f"无法确定输出格式：请用 --format pdf 或 xlsx（文件 {output}）")
        if not output.parent.is_dir():
            raise CommandError(f"输出目录不存在：{output.parent}")
        try:
            division = find_division(options["division"], None) if options["division"] else None
            viewer = system_viewer(division)
            scope = parse_scope(viewer, options["month"], None, clock_now())
            made = monthly_document(scope, fmt, base=options["base_url"])
        except ActionError as exc:
            raise CommandError(exc.message) from None
        output.write_bytes(made.content)
        area = division.name if division is not None else "全部区域"
        self.stdout.write(
            self.style.SUCCESS(
                f"已生成 {area} {scope.month.label}月度报告：{output}（{len(made.content)} 字节）"
            )
        )

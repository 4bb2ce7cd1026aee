"""`taizhang hotspots rebuild [--region CODE …]` and `taizhang hotspots top [--limit N]`."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand

from taizhang.clock.now import now as clock_now
from taizhang.insight.hotspot_index import rebuild
from taizhang.insight.hotspots import heat_at
from taizhang.insight.models import HotSpot
from taizhang.insight.rules import hotspot_rules


class Command(BaseCommand):
    help = "热点：rebuild 按当前规则重新归并所有诉求；top 列出最热的热点"

    def add_arguments(self, parser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        build = sub.add_parser("rebuild", help="重新归并（新诉求在上报时自动归并；规则修改或批量导入后运行）")
        build.add_argument("--region", action="append", help="只处理该区（县）编码，可重复")
        build.add_argument("--batch", type=int, default=5000)
        top = sub.add_parser("top", help="列出最热的热点（全部区域）")
        top.add_argument("--limit", type=int, default=20)

    def handle(self, *args, action: str, **options) -> None:
        if action == "rebuild":
            start = time.perf_counter()
            done = rebuild(options["region"], batch=options["batch"], progress=self.stdout.write)
            demands = sum(d["demands"] for d in done.values())
            groups = sum(d["groups"] for d in done.values())
            self.stdout.write(
                self.style.SUCCESS(
                    f"已归并 {demands} 条诉求为 {groups} 个热点（{time.perf_counter() - start:.1f} 秒）"
                )
            )
            return
        now = clock_now()
        for spot in HotSpot.objects.order_by("-rank_key")[: options["limit"]]:
            heat = heat_at(hotspot_rules(spot.scope.split(":")[0]).heat, spot.mass, spot.last_at, now)
            self.stdout.write(
                f"{heat:8.3f}  {spot.count:5d} 条  {spot.first_at:%Y-%m-%d}–{spot.last_at:%Y-%m-%d}  {spot.name}"
            )

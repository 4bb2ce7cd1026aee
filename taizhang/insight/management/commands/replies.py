"""`taizhang replies rescore [--since DATE] [--all]`: score answers not scored when they were given."""

from __future__ import annotations

from datetime import date

from django.core.management.base import BaseCommand

from taizhang.insight.reply_index import rescore


class Command(BaseCommand):
    help = "答复质量：rescore 为尚未评分的答复评分（--all 按当前规则全部重评）"

    def add_arguments(self, parser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        again = sub.add_parser("rescore", help="为历史答复评分")
        again.add_argument("--since", type=date.fromisoformat, help="只处理该日期（YYYY-MM-DD）以来的答复")
        again.add_argument("--all", action="store_true", help="已评分的也按当前规则重评")

    def handle(self, *args, action: str, since=None, all: bool = False, **options) -> None:
        done = rescore(since, only_missing=not all)
        self.stdout.write(self.style.SUCCESS(f"已评分 {done} 条答复"))

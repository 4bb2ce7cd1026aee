"""`taizhang similar_index`: index for the similar-case matcher the cases created before it was installed."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from taizhang.insight.similar import index_missing


class Command(BaseCommand):
    help = "为相似案件建立索引：补建尚未索引的案件（新案件在上报时自动索引）"

    def add_arguments(self, parser) -> None:
        parser.add_argument("--batch", type=int, default=2000)

    def handle(self, *args, batch: int, **options) -> None:
        self.stdout.write(f"已索引 {index_missing(batch)} 个案件")

"""`taizhang similar_index`: index for the similar-case matcher the cases created before it was installed."""

from __future__ import annotations

from django.core.management.base import BaseCommand
from django.db import connection

from taizhang.cases.models import Case
from taizhang.insight.similar import index_cases


class Command(BaseCommand):
    help = "为相似案件建立索引：补建尚未索引的案件（新案件在上报时自动索引）"

    def add_arguments(self, parser) -> None:
        parser.add_argument("--batch", type=int, default=2000)

    def handle(self, *args, batch: int, **options) -> None:
        todo = Case.objects.filter(tokens__isnull=True).order_by("pk")
        done = 0
        while True:
            chunk = list(todo[:batch])
            if not chunk:
                break
            done += index_cases(chunk)
        if done and connection.vendor == "postgresql":
            with connection.cursor() as cur:  # fresh planner statistics after a bulk load
                cur.execute("ANALYZE insight_caseterm, insight_termcount, insight_casetokens")
        self.stdout.write(f"已索引 {done} 个案件")

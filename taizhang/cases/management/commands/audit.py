"""`taizhang audit verify`: check every case's hash chain and report the first broken link."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from taizhang.cases.hashchain import verify_case
from taizhang.cases.models import Case, Transition


class Command(BaseCommand):
    help = "校验流转记录的哈希链"

    def add_arguments(self, parser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        verify = sub.add_parser("verify", help="校验每个案件的哈希链，报告第一处断链")
        verify.add_argument("--case", help="只校验这个案件编号")

    def handle(self, *args, action: str, case: str | None = None, **options) -> None:
        cases = Case.objects.order_by("pk")
        if case:
            cases = cases.filter(number=case)
            if not cases.exists():
                raise CommandError(f"没有编号为 {case} 的案件")
        checked = rows = 0
        for chunk_start in range(0, cases.count(), 500):
            chunk = list(cases[chunk_start : chunk_start + 500])
            history: dict[int, list[Transition]] = {c.pk: [] for c in chunk}
            for row in (
                Transition.objects.filter(case__in=chunk)
                .order_by("case_id", "seq")
                .prefetch_related("attachments")
            ):
                history[row.case_id].append(row)
            for c in chunk:
                broken = verify_case(c, history[c.pk])
                checked += 1
                rows += len(history[c.pk])
                if broken:
                    raise CommandError(f"哈希链断裂：{broken}（已校验 {checked} 个案件）")
        self.stdout.write(self.style.SUCCESS(f"哈希链完好：{checked} 个案件，{rows} 条流转记录"))

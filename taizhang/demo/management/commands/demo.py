"""`taizhang demo`: build the demo district (潞州区) with people in every role and a few hundred cases."""

from __future__ import annotations

import unicodedata
from datetime import datetime

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import IntegrityError
from django.utils import timezone

from taizhang.cases.models import Case
from taizhang.demo.build import DemoError, Result, build_demo
from taizhang.demo.people import ADMIN_USERNAME, DEMO_PASSWORD, Account
from taizhang.demo.topic_model import train_demo_model
from taizhang.mechanisms.registry import get_mechanism
from taizhang.org.models import Division


def width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def pad(text: str, to: int) -> str:
    return text + " " * max(0, to - width(text))


def table(accounts: list[Account]) -> list[str]:
    rows = [("角色", "用户名", "姓名", "岗位")] + [
        (a.role_label, a.username, a.name, a.where) for a in accounts
    ]
    widths = [max(width(r[i]) for r in rows) for i in range(3)]
    return ["  ".join(pad(cell, widths[i]) if i < 3 else cell for i, cell in enumerate(row)) for row in rows]


class Command(BaseCommand):
    help = "生成演示数据：长治市潞州区的组织架构、各岗位人员和近 90 天的安全隐患案件、12345 诉求和信访事项"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--cases", type=int, default=300, help="安全隐患案件数（默认 300）")
        parser.add_argument(
            "--demands", type=int, default=200, help="12345 诉求数，含群众重复来电（默认 200）"
        )
        parser.add_argument("--petitions", type=int, default=12, help="信访事项数（默认 12）")
        parser.add_argument(
            "--seed", type=int, default=2026, help="随机种子：同一种子、同一“现在”生成相同的数据"
        )
        parser.add_argument("--if-empty", action="store_true", help="数据库已有数据时什么也不做（不报错）")
        parser.add_argument(
            "--no-model", action="store_true", help="不用演示诉求训练问题分类模型（默认在没有当前模型时训练）"
        )
        parser.add_argument("--now", help="把这一时刻当作“现在”（ISO 8601，如 2026-11-24T09:00+08:00）")

    def handle(
        self,
        *args,
        cases: int,
        demands: int,
        petitions: int,
        seed: int,
        if_empty: bool,
        now: str | None,
        no_model: bool,
        **options,
    ) -> None:
        if Division.objects.exists() or Case.objects.exists():
            if if_empty:
                self.stdout.write("数据库中已有数据，未生成演示数据。")
                return
            raise CommandError("数据库中已有数据：演示数据只能生成到空数据库（加 --if-empty 则跳过而不报错）")
        for name, value in (("--cases", cases), ("--demands", demands), ("--petitions", petitions)):
            if value < 0:
                raise CommandError(f"{name} 不能为负数")
        end = self.parse_now(now)
        try:
            result = build_demo(cases=cases, demands=demands, petitions=petitions, seed=seed, end=end)
        except DemoError as exc:
            raise CommandError(str(exc)) from None
        except IntegrityError as exc:
            raise CommandError(f"演示账号与已有用户冲突，未生成任何数据：{exc}") from None
        self.report(result, options["verbosity"])
        if demands and not no_model:
            self.stdout.write(train_demo_model())

    @staticmethod
    def parse_now(raw: str | None) -> datetime | None:
        if not raw:
            return None
        try:
            moment = datetime.fromisoformat(raw)
        except ValueError:
            raise CommandError(f"--now {raw!r}：应为 ISO 8601 时间，如 2026-11-24T09:00+08:00") from None
        if timezone.is_naive(moment):
            moment = timezone.make_aware(moment)
        if moment > timezone.now():
            raise CommandError("--now 不能晚于真实的当前时间")
        return moment

    def report(self, result: Result, verbosity: int) -> None:
        out = self.stdout.write
        out(
            self.style.SUCCESS(
                f"演示数据已生成：{result.cases} 个安全隐患案件、{result.demands} 件 12345 诉求、"
                f"{result.petitions} 件信访事项，用时 {result.seconds:.1f} 秒"
            )
        )
        for code, count in (
            ("hazard", result.cases),
            ("demand", result.demands),
            ("petition", result.petitions),
        ):
            if not count:
                continue
            mech, states = get_mechanism(code), result.states.get(code, {})
            out(
                f"【{mech.name}】各状态："
                + "，".join(f"{mech.state_name(s)} {states.get(s, 0)}" for s in mech.states)
            )
            out(
                f"  当前超期 {result.overdue.get(code, 0)} 件，督办中 {result.escalated.get(code, 0)} 件；"
                + "，".join(f"{name} {n}" for name, n in result.events.get(code, {}).items())
                + "（件）"
            )
        for failure in result.failures:
            self.stderr.write(f"未能完成的步骤：{failure}")
        accounts = result.cast.accounts if verbosity >= 2 else result.cast.featured()
        out("")
        out(
            f"演示账号（全部 {len(result.cast.accounts)} 个账号的密码均为 {DEMO_PASSWORD}"
            + ("" if verbosity >= 2 else "；-v 2 列出全部账号")
            + "）："
        )
        for line in table(accounts):
            out(line)
        out(f"管理后台 /admin/：{ADMIN_USERNAME} / {DEMO_PASSWORD}；其他账号在 /login/ 登录")

"""`taizhang open311 key create USERNAME [--name NAME] [--division CODE]`, `key list [--all]` and
`key revoke ID`: the keys other systems use as Open311's api_key (never API bearer tokens)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from taizhang.intake.models import Open311Key
from taizhang.intake.open311.keys import KeyRefused, issue_key
from taizhang.org.models import Division, User


class Command(BaseCommand):
    help = "Open311 密钥：create 为受理员签发（只显示一次）；list 列出；revoke 吊销"

    def add_arguments(self, parser) -> None:
        area = parser.add_subparsers(dest="area", required=True)
        key = area.add_parser("key", help="Open311 的 api_key")
        sub = key.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="为受理员签发密钥（只显示一次，只保存其散列）")
        create.add_argument("username", help="密钥代表的人员（须为受理员，案件的上报人）")
        create.add_argument("--name", default="open311", help="接入系统的名称，例如“市12345平台”")
        create.add_argument("--division", help="只能在该区划编码及其下级提交，并作为默认 jurisdiction_id")
        listing = sub.add_parser("list", help="列出密钥（不含已吊销的，除非 --all）")
        listing.add_argument("--all", action="store_true")
        revoke = sub.add_parser("revoke", help="吊销密钥")
        revoke.add_argument("id", type=int, help="list 显示的编号")

    def handle(self, *args, action: str, **options) -> None:
        if action == "create":
            self.create(options["username"], options["name"], options["division"])
        elif action == "list":
            self.list(options["all"])
        else:
            self.revoke(options["id"])

    def create(self, username: str, name: str, code: str | None) -> None:
        user = User.objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"没有用户名为 {username} 的人员")
        division = None
        if code:
            division = Division.objects.filter(code=code).first()
            if division is None:
                raise CommandError(f"没有编码为 {code} 的区划")
        try:
            row, raw = issue_key(user, name, division)
        except KeyRefused as exc:
            raise CommandError(str(exc)) from None
        self.stderr.write(f"已签发 Open311 密钥 #{row.pk}（{name}）；只显示这一次：")
        self.stdout.write(raw)

    def list(self, everything: bool) -> None:
        rows = Open311Key.objects.select_related("user", "division").order_by("pk")
        if not everything:
            rows = rows.filter(revoked=False)
        for row in rows:
            used = (
                timezone.localtime(row.last_used_at).strftime("%Y-%m-%d %H:%M")
                if row.last_used_at
                else "未使用"
            )
            scope = row.division.code if row.division else "（受理员的区划）"
            state = "  已吊销" if row.revoked else ""
            self.stdout.write(f"#{row.pk}  {row.name}  {row.user.username}  {scope}  最近使用 {used}{state}")

    def revoke(self, pk: int) -> None:
        if not Open311Key.objects.filter(pk=pk).update(revoked=True):
            raise CommandError(f"没有编号为 {pk} 的 Open311 密钥")
        self.stdout.write(f"已吊销 Open311 密钥 #{pk}")

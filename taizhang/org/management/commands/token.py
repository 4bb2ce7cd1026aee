"""`taizhang token create USERNAME --name NAME`: an API token for a machine client."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from taizhang.org.models import ApiToken, User
from taizhang.web.api.auth import issue_token


class Command(BaseCommand):
    help = "管理接口令牌"

    def add_arguments(self, parser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="为人员创建令牌（只显示一次）")
        create.add_argument("username")
        create.add_argument("--name", default="api")
        revoke = sub.add_parser("revoke", help="吊销某人的全部令牌")
        revoke.add_argument("username")

    def handle(self, *args, action: str, username: str, **options) -> None:
        user = User.objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"没有用户名为 {username} 的人员")
        if action == "create":
            self.stdout.write(issue_token(user, options["name"]))
        else:
            count = ApiToken.objects.filter(user=user, revoked=False).update(revoked=True)
            self.stdout.write(f"已吊销 {count} 个令牌")

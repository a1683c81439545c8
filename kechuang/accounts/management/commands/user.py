"""kechuang user create|set-password|token — user administration from the server's shell."""

from __future__ import annotations

import getpass
import sys
from typing import Any

from django.core.management.base import CommandParser

from kechuang.accounts import services
from kechuang.accounts.models import User
from kechuang.core.authorization import Role
from kechuang.core.commands import KechuangCommand
from kechuang.regions.models import OrgUnit
from kechuang.regions.services import ensure_nation


class Command(KechuangCommand):
    help = "用户管理：新增用户、设置密码、签发接口令牌。"

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="新增用户")
        create.add_argument("username")
        create.add_argument("--org", help="所属单位的区划代码，如 620821；超级管理员可省略")
        create.add_argument("--role", choices=Role.values, default=Role.CLERK)
        create.add_argument("--name", default="", help="姓名")
        create.add_argument("--phone", default="")
        create.add_argument("--superuser", action="store_true", help="系统运维超级管理员")
        create.add_argument(
            "--password-stdin", action="store_true", help="从标准输入读取密码（便于脚本）"
        )
        password = sub.add_parser("set-password", help="重置密码")
        password.add_argument("username")
        password.add_argument("--password-stdin", action="store_true")
        token = sub.add_parser("token", help="签发或显示接口令牌")
        token.add_argument("username")

    def handle(self, *args: Any, **options: Any) -> None:
        getattr(self, f"handle_{options['action'].replace('-', '_')}")(**options)

    def _password(self, options: dict[str, Any]) -> str:
        if options["password_stdin"]:
            return sys.stdin.readline().rstrip("\n")
        first = getpass.getpass("密码：")
        if first != getpass.getpass("再次输入密码："):
            raise ValueError("两次输入的密码不一致")
        return first

    def handle_create(self, **options: Any) -> None:
        if options["org"]:
            unit = OrgUnit.objects.current().filter(code=options["org"]).first()
            if unit is None:
                raise ValueError(f"没有在用的区划代码 {options['org']}，请先载入区划")
        elif options["superuser"]:
            unit = ensure_nation()
        else:
            raise ValueError("请用 --org 指定所属单位")
        user = services.create_user(
            actor=None,
            username=options["username"],
            password=self._password(options),
            org_unit=unit,
            role=Role.ADMINISTRATOR if options["superuser"] else options["role"],
            display_name=options["name"],
            phone=options["phone"],
            is_superuser=options["superuser"],
        )
        self.stdout.write(f"已新增用户 {user.username}（{unit.name}，{user.get_role_display()}）")

    def handle_set_password(self, **options: Any) -> None:
        user = self._user(options["username"])
        services.set_password(user, actor=None, password=self._password(options))
        self.stdout.write(f"已设置 {user.username} 的密码")

    def handle_token(self, **options: Any) -> None:
        self.stdout.write(services.issue_token(self._user(options["username"]), actor=None))

    def _user(self, username: str) -> User:
        user = User.objects.filter(username=username).first()
        if user is None:
            raise ValueError(f"没有用户 {username}")
        return user

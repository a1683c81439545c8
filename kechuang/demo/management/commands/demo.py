"""kechuang demo --scale county|province|national — load 示例数据 and print the logins."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import CommandParser

from kechuang.core.commands import KechuangCommand
from kechuang.demo.services import SCALES, load_demo


class Command(KechuangCommand):
    help = "载入示例数据（真实区划 + 虚构的部门、用户、指标数值与目标），并列出演示账号。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--scale",
            choices=SCALES,
            default="province",
            help="county：泾川县与崇信县；province：甘肃全省；national：全国",
        )
        parser.add_argument(
            "--refresh",
            action="store_true",
            help="重新生成示例指标数据（撤销演示中做过的填报和审核）",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.perf_counter()
        logins = load_demo(options["scale"], refresh=options["refresh"])
        self.stdout.write(
            f"示例数据（{options['scale']}）已就绪，用时 "
            f"{time.perf_counter() - started:.1f} 秒。演示账号（均为示例数据）："
        )
        # Empty when real accounts hold every demo username.
        width = max((len(login.username) for login in logins), default=0)
        for login in logins:
            self.stdout.write(
                f"  {login.username.ljust(width)}  密码 {login.password}  "
                f"{login.role}  {login.unit}"
            )

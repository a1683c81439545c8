"""Django's own `createsuperuser` bypasses the audit log; this one points to `kechuang user`."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "请改用 kechuang user（每次修改都记入审计日志）。"

    def handle(self, *args: Any, **options: Any) -> None:
        raise CommandError(
            "请改用 kechuang user create 用户名 --superuser，这样每次修改都会记入审计日志。"
        )

"""kechuang orgunits load|recode — the org-unit tree from the division codes."""

from __future__ import annotations

import datetime
import time
from pathlib import Path
from typing import Any

from django.core.management.base import CommandParser

from kechuang.core.commands import KechuangCommand
from kechuang.regions import services
from kechuang.regions.choices import Level
from kechuang.regions.divisions import SHIPPED_DIR, SHIPPED_EDITION, read_divisions
from kechuang.regions.models import OrgUnit


class Command(KechuangCommand):
    help = "载入或维护组织单位树（国家统计局区划代码）。"

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        load = sub.add_parser("load", help="载入一个、多个或全部省份的区划")
        which = load.add_mutually_exclusive_group(required=True)
        which.add_argument(
            "--province",
            action="append",
            default=[],
            help="两位省级代码，可重复或用逗号分隔，如 62 或 62,14",
        )
        which.add_argument("--all", action="store_true", help="全国")
        load.add_argument(
            "--source",
            type=Path,
            default=SHIPPED_DIR,
            help="区划数据目录（默认：随软件发布的 2023 年版）",
        )
        load.add_argument("--edition", default=None, help="数据版本说明，记入代码沿革")
        load.add_argument("--no-townships", action="store_true", help="只载入到县级")
        load.add_argument(
            "--keep-missing", action="store_true", help="新版中缺失的代码不做撤销处理"
        )
        recode = sub.add_parser("recode", help="单位更名或改代码（保留沿革）")
        recode.add_argument("code", help="现用区划代码")
        recode.add_argument("--new-code", required=False)
        recode.add_argument("--name", required=False)
        recode.add_argument(
            "--date", type=datetime.date.fromisoformat, default=None, help="生效日期 YYYY-MM-DD"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        getattr(self, f"handle_{options['action']}")(**options)

    def handle_load(self, **options: Any) -> None:
        provinces = (
            None
            if options["all"]
            else [code for item in options["province"] for code in item.split(",") if code.strip()]
        )
        started = time.perf_counter()
        max_level = Level.COUNTY if options["no_townships"] else Level.TOWNSHIP
        divisions = read_divisions(options["source"], provinces=provinces, max_level=max_level)
        edition = options["edition"] or (
            SHIPPED_EDITION if options["source"] == SHIPPED_DIR else str(options["source"].name)
        )
        report = services.load_divisions(
            divisions, edition=edition, retire_missing=not options["keep_missing"]
        )
        elapsed = time.perf_counter() - started
        self.stdout.write(
            f"载入 {len(divisions)} 条区划（{edition}）：{report.summary()}，用时 {elapsed:.1f} 秒"
        )
        for item in report.renamed[:20]:
            self.stdout.write(f"  更名 {item['code']}：{item['before']} → {item['after']}")
        if report.retired:
            self.stdout.write(f"  撤销 {len(report.retired)} 个：{'、'.join(report.retired[:20])}")

    def handle_recode(self, **options: Any) -> None:
        unit = OrgUnit.objects.current().filter(code=options["code"]).first()
        if unit is None:
            raise ValueError(f"没有在用的区划代码 {options['code']}")
        unit = services.update_org_unit(
            unit,
            actor=None,
            code=options["new_code"],
            name=options["name"],
            effective=options["date"],
        )
        self.stdout.write(f"{unit.code} {unit.name}")

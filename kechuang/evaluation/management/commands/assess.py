"""kechuang assess — 创新型县(市)/乡镇 candidate evaluation and 目标责任制 scoring by scheme.

    kechuang assess run --scheme CODE --year YYYY [--within CODE]
    kechuang assess schemes load [FILE]

``run`` applies the newest version of the scheme not newer than the year to
the approved data inside the scope (default 全国) and stores the round; on
unchanged data it reports the stored round. ``schemes load`` loads the
shipped schemes, or a province's own file in the same format
(kechuang/evaluation/data/assessment_schemes.yaml describes it). Bad input is
one Chinese line on stderr and exit status 1.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import CommandParser

from kechuang.core.commands import KechuangCommand
from kechuang.evaluation.services import assessment
from kechuang.regions.models import OrgUnit
from kechuang.regions.services import ensure_nation


class Command(KechuangCommand):
    help = "评价方案：创新型县(市)、创新型乡镇候选评价与党政领导科技进步目标责任制考核。"

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        run = sub.add_parser("run", help="用已审定的数据按评价方案评价，保存为一个评价轮次")
        run.add_argument("--scheme", required=True, help="评价方案代码，如 INNOVATIVE_COUNTY")
        run.add_argument("--year", type=int, required=True, help="评价年度")
        run.add_argument("--within", default="", help="评价范围的单位代码（默认全国）")
        schemes = sub.add_parser("schemes", help="载入评价方案")
        what = schemes.add_subparsers(dest="what", required=True)
        load = what.add_parser("load", help="载入评价方案（默认系统内置的）")
        load.add_argument("file", nargs="?", type=Path)

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "schemes":
            for scheme in assessment.load_schemes(options["file"], actor=None):
                self.stdout.write(f"已载入 {scheme}（{scheme.get_kind_display()}）")
            return
        code = options["within"]
        within = OrgUnit.objects.current().filter(code=code).first() if code else ensure_nation()
        if within is None:
            raise ValueError(f"没有代码为 {code} 的现行单位")
        scheme = assessment.latest_scheme(options["scheme"], options["year"])
        round_, new = assessment.assess(scheme, options["year"], within=within, actor=None)
        state = "新评价" if new else "数据未变，沿用"
        label = scheme.parsed().shortlist.label
        self.stdout.write(
            f"{state}第 {round_.pk} 轮：{scheme}，{round_.year} 年，{within.name}，"
            f"{round_.candidates} 个单位参评，{round_.shortlisted} 个列入“{label}”；"
            f"数据摘要 {round_.data_digest[:12]}…"
        )
        for outcome in round_.outcomes.select_related("org_unit").order_by("order"):
            rank = outcome.rank if outcome.rank is not None else "—"
            mark = f"  {label}" if outcome.shortlisted else ""
            failed = [
                c["name"] or c["indicator"]
                for c in outcome.evidence["conditions"]
                if not c["passed"]
            ]
            reason = f"  不符合：{'、'.join(failed)}" if failed else ""
            self.stdout.write(
                f"{rank!s:>4}  {outcome.org_unit.code}  {outcome.org_unit.name}  "
                f"{outcome.total:.2f} 分（{outcome.percent:.1f}%）{mark}{reason}"
            )

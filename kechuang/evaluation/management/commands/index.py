"""kechuang index — the composite index from files (COINr-compatible engine) or in the platform.

    kechuang index build --data DATA.csv --meta META.csv --spec SPEC.yaml --out OUTDIR
    kechuang index uncertainty --data … --meta … --spec … --out DIR --runs N --seed S [choices]
    kechuang index sensitivity --data … --meta … --spec … --out DIR --samples N --seed S
    kechuang index compute --methodology CODE --year YYYY [--level county] [--within CODE]
    kechuang index methodologies load [FILE]
    kechuang index methodologies import FILE.xlsx --base CODE --version YYYY

OUTDIR receives dset_<Step>.csv for every data set built (dset_Raw always),
results.csv (after aggregate) and treat_details.csv (after treat). Bad input
is one Chinese line on stderr and exit status 1.

Subcommands are entries of SUBCOMMANDS; a new one (uncertainty, sensitivity,
compute …) adds its arguments and handler there.
"""

from __future__ import annotations

from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from kechuang.core.commands import KechuangCommand, Subcommand, SubcommandCommand
from kechuang.evaluation.engine import files, pipeline
from kechuang.evaluation.management.commands import _index_analysis as analysis
from kechuang.evaluation.services import methodologies, runs
from kechuang.regions.choices import Level
from kechuang.regions.models import OrgUnit
from kechuang.regions.services import ensure_nation


def _build_arguments(parser: ArgumentParser) -> None:
    parser.add_argument("--data", type=Path, required=True, help="数据文件 DATA.csv（COINr iData）")
    parser.add_argument(
        "--meta", type=Path, required=True, help="指标体系文件 META.csv（COINr iMeta）"
    )
    parser.add_argument("--spec", type=Path, required=True, help="计算步骤 SPEC.yaml")
    parser.add_argument("--out", type=Path, required=True, help="输出目录（不存在时创建）")


def _build(command: KechuangCommand, options: dict[str, Any]) -> None:
    framework = files.read_framework(options["meta"])
    table = files.read_table(options["data"], framework)
    spec = files.load_spec(options["spec"])
    result = pipeline.build(table, framework, spec)
    written = files.write_outputs(result, options["out"])
    years = ""
    if table.is_panel:
        assert table.times is not None
        years = f"（{len(set(table.times[result.rows].tolist()))} 个年度）"
    command.stdout.write(
        f"已计算 {len(result.rows)} 行{years}、{len(framework.indicators)} 个指标、"
        f"{len(framework.aggregates)} 个汇总指标；{len(written)} 个文件写入 {options['out']}"
    )


LEVELS = {"province": Level.PROVINCE, "city": Level.CITY, "county": Level.COUNTY}


def _compute_arguments(parser: ArgumentParser) -> None:
    parser.add_argument("--methodology", required=True, help="评价方法代码，如 CSPI_COUNTY")
    parser.add_argument("--year", type=int, required=True, help="评价年度")
    parser.add_argument("--level", choices=LEVELS, default="county", help="参评层级（默认 county）")
    parser.add_argument("--within", default="", help="评价范围的单位代码（省或市，默认全国）")
    parser.add_argument("--span", type=int, default=runs.DEFAULT_SPAN, help="读取的年数")


def _compute(command: KechuangCommand, options: dict[str, Any]) -> None:
    code = options["within"]
    within = OrgUnit.objects.current().filter(code=code).first() if code else ensure_nation()
    if within is None:
        raise ValueError(f"没有代码为 {code} 的现行单位")
    methodology = methodologies.latest(options["methodology"], options["year"])
    run, new = runs.compute(
        methodology,
        options["year"],
        within=within,
        level=LEVELS[options["level"]],
        span=options["span"],
        actor=None,
    )
    state = "新计算" if new else "数据未变，沿用"
    command.stdout.write(
        f"{state}第 {run.pk} 次计算：{methodology}，{run.year} 年，{within.name}，"
        f"{run.units} 个单位；数据摘要 {run.data_digest[:12]}…"
    )


def _methodologies_arguments(parser: ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="what", required=True)
    load = sub.add_parser("load", help="载入评价方法（默认系统内置的）")
    load.add_argument("file", nargs="?", type=Path)
    imported = sub.add_parser("import", help="从 Excel 导入省级正式指标体系及权重表，作为新版本")
    imported.add_argument("file", type=Path)
    imported.add_argument("--base", required=True, help="以哪个评价方法为基础（代码）")
    imported.add_argument("--version", type=int, required=True, dest="new_version")


def _methodologies(command: KechuangCommand, options: dict[str, Any]) -> None:
    if options["what"] == "load":
        loaded = methodologies.load_methodologies(options["file"], actor=None)
        for methodology in loaded:
            command.stdout.write(f"已载入 {methodology}（{methodology.nodes.count()} 个节点）")
        return
    base = methodologies.latest(options["base"])
    methodology = methodologies.import_excel(
        options["file"], base=base, version=options["new_version"], actor=None
    )
    command.stdout.write(f"已导入 {methodology}（{methodology.nodes.count()} 个节点）")


SUBCOMMANDS: dict[str, Subcommand] = {
    "uncertainty": Subcommand(
        help=analysis.UNCERTAINTY_HELP,
        add_arguments=analysis.uncertainty_arguments,
        handle=lambda command, options: analysis.handle_uncertainty(options, command.stdout),
    ),
    "sensitivity": Subcommand(
        help=analysis.SENSITIVITY_HELP,
        add_arguments=analysis.sensitivity_arguments,
        handle=lambda command, options: analysis.handle_sensitivity(options, command.stdout),
    ),
    "compute": Subcommand(
        help="用平台中已审定的数据计算指数，保存为一次有版本的计算",
        add_arguments=_compute_arguments,
        handle=_compute,
    ),
    "methodologies": Subcommand(
        help="载入或导入评价方法",
        add_arguments=_methodologies_arguments,
        handle=_methodologies,
    ),
    "build": Subcommand(
        help="按 SPEC.yaml 的步骤计算综合指数，并写出每一步的数据与结果",
        add_arguments=_build_arguments,
        handle=_build,
    ),
}


class Command(SubcommandCommand):
    help = "综合指数：按步骤文件计算（与 COINr 一致的算法）。"
    subcommands = SUBCOMMANDS

"""kechuang data template|import|export — indicator values in and out as files.

    kechuang data template --org 620821 --year 2023 [--dataset CODE] -o 泾川县2023.xlsx
    kechuang data import FILE.xlsx|.csv|.json [--dry-run] [--as USERNAME]
    kechuang data export --org 6208 --year 2023 [--format xlsx|csv|json] [--layout values|table]
                         [--as USERNAME] -o FILE
    kechuang data catalogue load [--file FILE.yaml]

Without ``--as`` the command acts as the system (the server's operator). An
import with any problem prints every one as ``file:sheet:row:column: message``
on stderr, changes nothing and exits with status 1.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import CommandError, CommandParser

from kechuang.core.commands import KechuangCommand
from kechuang.indicators.exchange import ImportFailed
from kechuang.indicators.models import DataSet
from kechuang.indicators.services import catalogue, exchange
from kechuang.regions.models import OrgUnit

FORMATS = ("xlsx", "csv", "json")
LAYOUTS = ("values", "table")
LAYOUT_NAMES = {"values": "逐行", "table": "宽表"}


class Command(KechuangCommand):
    help = "指标数据的模板下载、文件导入与导出（Excel、CSV、DHIS2 JSON）。"

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)

        template = sub.add_parser("template", help="生成某单位某年度的 Excel 填报模板")
        template.add_argument("--org", required=True, help="单位区划代码，如 620821")
        template.add_argument("--year", type=int, required=True, help="年度，如 2023")
        template.add_argument("--dataset", help="填报表代码（该单位只填一张表时可省略）")
        template.add_argument("--as", dest="username", help="以该用户身份（默认：系统）")
        template.add_argument("-o", "--output", type=Path, required=True, help="输出的 .xlsx 文件")

        load = sub.add_parser("import", help="导入 .xlsx、.csv 或 .json 文件（全部成功或全不导入）")
        load.add_argument("file", type=Path)
        load.add_argument("--dry-run", action="store_true", help="只检查，不写入")
        load.add_argument("--as", dest="username", help="以该用户身份导入（默认：系统）")

        export = sub.add_parser("export", help="导出某单位及其下级单位某年度的数值")
        export.add_argument("--org", required=True, help="单位区划代码")
        export.add_argument("--year", type=int, required=True)
        export.add_argument("--dataset", help="只导出该填报表的数值")
        export.add_argument(
            "--format", choices=FORMATS, help="xlsx、csv 或 json（默认按输出文件扩展名，否则 xlsx）"
        )
        export.add_argument(
            "--layout",
            choices=LAYOUTS,
            default="values",
            help="values：每行一个数值（默认）；table：宽表，每行一个单位、每列一个指标（xlsx、csv）",
        )
        export.add_argument("--as", dest="username", help="以该用户身份读取（默认：系统）")
        export.add_argument("-o", "--output", type=Path, required=True)

        catalogue_parser = sub.add_parser("catalogue", help="指标体系")
        catalogue_sub = catalogue_parser.add_subparsers(dest="catalogue_action", required=True)
        catalogue_load = catalogue_sub.add_parser("load", help="载入指标体系（默认：随软件发布的）")
        catalogue_load.add_argument(
            "--file", type=Path, default=None, help="指标体系 YAML 文件（默认：随软件发布的）"
        )
        catalogue_load.add_argument("--as", dest="username", help="以该用户身份（默认：系统）")

    def handle(self, *args: Any, **options: Any) -> None:
        getattr(self, f"handle_{options['action']}")(**options)

    # ------------------------------------------------------------ subcommands

    def handle_template(self, **options: Any) -> None:
        unit = _org_unit(options["org"])
        content = exchange.template_for(
            unit,
            options["year"],
            actor=_actor(options["username"]),
            dataset=_dataset(options["dataset"]),
        )
        options["output"].write_bytes(content)
        self.stdout.write(
            f"已生成 {unit.name}（{unit.code}）{options['year']} 年度填报模板：{options['output']}"
        )

    def handle_import(self, **options: Any) -> None:
        try:
            report = exchange.import_file(
                options["file"], actor=_actor(options["username"]), dry_run=options["dry_run"]
            )
        except ImportFailed as failure:
            for problem in failure.problems:
                self.stderr.write(str(problem))
            raise CommandError(
                f"{options['file'].name}：共 {len(failure.problems)} 处问题，未导入任何数据。",
                returncode=1,
            ) from None
        self.stdout.write(report.summary())

    def handle_export(self, **options: Any) -> None:
        output: Path = options["output"]
        fmt = options["format"] or (
            output.suffix.lower().lstrip(".")
            if output.suffix.lower() in (".csv", ".json")
            else "xlsx"
        )
        unit = _org_unit(options["org"])
        content = exchange.export_values(
            unit,
            options["year"],
            actor=_actor(options["username"]),
            fmt=fmt,
            dataset=_dataset(options["dataset"]),
            layout=options["layout"],
        )
        output.write_bytes(content)
        shape = LAYOUT_NAMES[options["layout"]]
        self.stdout.write(
            f"已导出 {unit.name}（{unit.code}）{options['year']} 年度数值"
            f"（{fmt}，{shape}）：{output}"
        )

    def handle_catalogue(self, **options: Any) -> None:
        report = catalogue.load_catalogue(options["file"], actor=_actor(options["username"]))
        self.stdout.write(report.summary())


def _actor(username: str | None) -> Any:
    if not username:
        return None
    user = get_user_model().objects.filter(username=username, is_active=True).first()
    if user is None:
        raise CommandError(f"没有启用的用户 {username}", returncode=1)
    return user


def _org_unit(code: str) -> OrgUnit:
    unit = OrgUnit.objects.current().filter(code=code).first()
    if unit is None:
        raise CommandError(f"没有在用的区划代码 {code}", returncode=1)
    return unit


def _dataset(code: str | None) -> DataSet | None:
    if not code:
        return None
    dataset = DataSet.objects.filter(code=code).first()
    if dataset is None:
        raise CommandError(f"没有填报表 {code}", returncode=1)
    return dataset

"""Excel, CSV and DHIS2 JSON exchange: templates, all-or-nothing imports, exports, the command.

Every bad file of the corpus must be refused with a problem that names its
place (file:sheet:row:column) and must leave the database exactly as it was:
the counts of values, revisions, submissions and audit entries and a digest
of every stored value are compared before and after.
"""

from __future__ import annotations

import codecs
import csv
import datetime
import hashlib
import io
import json
import shutil
import struct
import subprocess
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from django.core.management import CommandError, call_command

from kechuang.audit.models import LogEntry
from kechuang.core.errors import Forbidden, NotFound
from kechuang.indicators.exchange import ImportFailed, ImportProblem, layout, read_file
from kechuang.indicators.exchange.reading import MAX_FILE_BYTES
from kechuang.indicators.models import (
    DataSet,
    DataSetMember,
    DataValue,
    DataValueRevision,
    Indicator,
    Submission,
)
from kechuang.indicators.services import exchange
from kechuang.indicators.services.values import (
    ValueChange,
    cell_history,
    open_submission,
    set_values,
)
from kechuang.indicators.services.workflow import (
    approve_submission,
    return_submission,
    submit_submission,
)

YEAR = 2023
SHEET = layout.TEMPLATE_SHEET
FIRST = layout.TEMPLATE_FIRST_ROW
HYPERLINK = '=HYPERLINK("http://x","y")'
LIBREOFFICE = shutil.which("soffice") or shutil.which("libreoffice")

# (code, name, unit, value_type, min, max, formula, section, required)
INDICATORS = (
    ("RD_EXP", "研发经费支出", "亿元", "number", 0, None, "", "科技投入", True),
    ("GOV_ST_EXP", "本级财政科技支出", "万元", "number", 0, None, "", "科技投入", True),
    ("GDP", "地区生产总值", "亿元", "number", 0, None, "", "经济基础", True),
    (
        "RD_GDP",
        "研发经费投入强度",
        "%",
        "percent",
        None,
        None,
        "RD_EXP / GDP * 100",
        "科技投入",
        True,
    ),
    ("HT_ENT", "高新技术企业数", "家", "integer", 0, None, "", "创新主体", True),
    ("TECH_CONTRACT", "技术合同成交额", "万元", "number", None, None, "", "成果转化", False),
    ("GROWTH", "技术交易额增速", "%", "percent", -100, 1000, "", "成果转化", False),
)
ROW_OF = {spec[0]: FIRST + index for index, spec in enumerate(INDICATORS)}
GOOD = {
    "RD_EXP": 1.25,
    "GOV_ST_EXP": 3200,
    "GDP": 98.6,
    "HT_ENT": 12,
    "TECH_CONTRACT": 450.5,
    "GROWTH": 6.5,
}


# ---------------------------------------------------------------- fixtures and helpers


@pytest.fixture
def catalogue(db: Any) -> DataSet:
    """A small county data set: sums, an integer count with min 0, a derived ratio, bounds."""
    dataset = DataSet.objects.create(
        code="COUNTY_ANNUAL",
        name="县域科技创新年报",
        approval_levels=[2, 1],
        reporting_levels=[3],
    )
    for order, (code, name, unit, kind, low, high, formula, section, required) in enumerate(
        INDICATORS
    ):
        indicator = Indicator.objects.create(
            code=code,
            name=name,
            unit=unit,
            value_type=kind,
            decimals=0 if kind == "integer" else 2,
            min_value=low,
            max_value=high,
            formula=formula,
            order=order,
        )
        DataSetMember.objects.create(
            dataset=dataset, indicator=indicator, section=section, order=order, is_required=required
        )
    return dataset


@pytest.fixture
def clerk(cast: Any) -> Any:
    return cast.user("jingchuan", "clerk")


def state() -> tuple[Any, ...]:
    """Everything an import could change: counts, and a digest of every stored cell."""
    cells = sorted(
        DataValue.objects.values_list(
            "indicator__code", "org_unit__code", "year", "value", "comment", "channel"
        )
    )
    digest = hashlib.sha256(json.dumps(cells, ensure_ascii=False).encode()).hexdigest()
    return (
        DataValue.objects.count(),
        DataValueRevision.objects.count(),
        Submission.objects.count(),
        list(Submission.objects.order_by("pk").values_list("status", flat=True)),
        LogEntry.objects.count(),
        digest,
    )


def stored(unit: Any, year: int = YEAR) -> dict[str, tuple[float | None, str]]:
    return {
        code: (value, comment)
        for code, value, comment in DataValue.objects.filter(org_unit=unit, year=year).values_list(
            "indicator__code", "value", "comment"
        )
    }


def template_file(tmp_path: Path, cast: Any, unit: str = "jingchuan", name: str = "t.xlsx") -> Path:
    path = tmp_path / name
    path.write_bytes(exchange.template_for(cast.unit(unit), YEAR, actor=None))
    return path


def fill(
    path: Path,
    values: dict[str, Any],
    comments: dict[str, str] | None = None,
    edit: Callable[[Any], None] | None = None,
    out: Path | None = None,
) -> Path:
    """Fill the template the way another program would: openpyxl, values by indicator code."""
    workbook = openpyxl.load_workbook(path)
    sheet = workbook[SHEET]
    for code, value in values.items():
        sheet[f"G{ROW_OF[code]}"] = value
    for code, comment in (comments or {}).items():
        cell = sheet[f"H{ROW_OF[code]}"]
        cell.value = comment
        cell.data_type = "s"
    if edit is not None:
        edit(workbook)
    target = out or path
    workbook.save(target)
    return target


def import_problems(path: Path, actor: Any) -> list[ImportProblem]:
    with pytest.raises(ImportFailed) as caught:
        exchange.import_file(path, actor=actor)
    return caught.value.problems


def places(problems: list[ImportProblem]) -> set[tuple[Any, Any, Any]]:
    return {(p.sheet, p.row, p.column) for p in problems}


def write_csv(path: Path, rows: list[list[Any]], encoding: str = "utf-8") -> Path:
    buffer = io.StringIO(newline="")
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    path.write_bytes(buffer.getvalue().encode(encoding))
    return path


CSV_HEAD = ["org_code", "indicator_code", "year", "value", "comment"]


def csv_rows(unit: str = "620821", **values: Any) -> list[list[Any]]:
    return [CSV_HEAD] + [[unit, code, YEAR, value, ""] for code, value in values.items()]


def json_file(path: Path, document: Any) -> Path:
    path.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    return path


def data_values(*items: tuple[str, str, Any]) -> dict[str, Any]:
    return {
        "dataValues": [
            {"dataElement": code, "orgUnit": org, "period": str(YEAR), "value": value}
            for org, code, value in items
        ]
    }


def submit_for_review(cast: Any, catalogue: DataSet, *, approve: bool) -> Submission:
    """泾川县's 2023 data, entered through the form, submitted and possibly approved."""
    clerk = cast.user("jingchuan", "clerk")
    submission = open_submission(catalogue, cast.unit("jingchuan"), YEAR, actor=clerk)
    set_values(submission, [ValueChange(c, v) for c, v in GOOD.items()], actor=clerk)
    submission = submit_submission(submission, actor=clerk)
    if approve:
        submission = approve_submission(submission, actor=cast.user("pingliang", "reviewer"))
        submission = approve_submission(submission, actor=cast.user("gansu", "reviewer"))
    return submission


# ---------------------------------------------------------------- the template


def test_template_has_the_layout_protection_and_validation(cast, catalogue, tmp_path):
    path = template_file(tmp_path, cast)
    workbook = openpyxl.load_workbook(path)
    assert workbook.sheetnames == [SHEET, layout.INSTRUCTIONS_SHEET, layout.META_SHEET]
    assert workbook.security.lockStructure
    sheet = workbook[SHEET]
    headers = [sheet.cell(row=layout.TEMPLATE_HEADER_ROW, column=i).value for i in range(1, 9)]
    assert headers == [
        "序号",
        "栏目",
        "指标代码",
        "指标名称",
        "计量单位",
        "上年值",
        "本年值",
        "说明",
    ]
    assert (sheet["B2"].value, sheet["D2"].value, sheet["F2"].value) == ("620821", "泾川县", YEAR)
    assert sheet["B3"].value == "COUNTY_ANNUAL"
    codes = [sheet[f"C{row}"].value for row in range(FIRST, FIRST + len(INDICATORS))]
    assert codes == [spec[0] for spec in INDICATORS]
    assert sheet[f"B{ROW_OF['GDP']}"].value == "经济基础"
    assert sheet.protection.sheet
    row = ROW_OF["HT_ENT"]
    assert not sheet[f"G{row}"].protection.locked
    assert not sheet[f"H{row}"].protection.locked
    assert sheet[f"F{row}"].protection.locked
    assert sheet[f"C{row}"].protection.locked
    assert sheet["B2"].protection.locked
    derived = ROW_OF["RD_GDP"]
    assert sheet[f"G{derived}"].protection.locked
    assert sheet[f"G{derived}"].value == layout.DERIVED_MARK
    rules = {
        (dv.type, dv.operator, dv.formula1): str(dv.sqref)
        for dv in sheet.data_validations.dataValidation
    }
    assert f"G{row}" in rules[("whole", "greaterThanOrEqual", "0")]
    assert f"G{ROW_OF['RD_EXP']}" in rules[("decimal", "greaterThanOrEqual", "0")]
    assert f"G{ROW_OF['GROWTH']}" in rules[("decimal", "between", "-100")]
    assert f"G{ROW_OF['TECH_CONTRACT']}" in rules[("decimal", "between", "-1E+300")]
    meta = workbook[layout.META_SHEET]
    assert meta.sheet_state == "hidden"
    assert {r[0].value: r[1].value for r in meta.iter_rows()} == {
        "format": layout.FORMAT_NAME,
        "version": layout.FORMAT_VERSION,
        "kind": "template",
        "dataset": "COUNTY_ANNUAL",
        "org_unit": "620821",
        "year": str(YEAR),
    }
    notes = " ".join(str(c.value) for c in workbook[layout.INSTRUCTIONS_SHEET]["A"] if c.value)
    assert "填报说明" in notes
    assert "公式" in notes


def test_template_shows_last_year_and_current_values(cast, catalogue, tmp_path, clerk):
    for year, value in ((YEAR - 1, 10.0), (YEAR, 11.0)):
        submission = open_submission(catalogue, cast.unit("jingchuan"), year, actor=clerk)
        set_values(submission, [ValueChange("GDP", value, "统计公报")], actor=clerk)
    sheet = openpyxl.load_workbook(template_file(tmp_path, cast))[SHEET]
    row = ROW_OF["GDP"]
    assert (sheet[f"F{row}"].value, sheet[f"G{row}"].value) == (10, 11)
    assert sheet[f"H{row}"].value == "统计公报"


def test_template_of_an_invisible_unit_is_not_found(cast, catalogue):
    with pytest.raises(NotFound):
        exchange.template_for(cast.unit("chongxin"), YEAR, actor=cast.user("jingchuan", "clerk"))


# ---------------------------------------------------------------- good files import


def test_template_filled_by_openpyxl_imports_cleanly(cast, catalogue, tmp_path, clerk):
    path = fill(template_file(tmp_path, cast), GOOD, {"GDP": "统计公报"})
    report = exchange.import_file(path, actor=clerk)
    assert (report.values, report.changed, report.units, report.years) == (6, 6, 1, [YEAR])
    assert "已导入" in report.summary()
    values = stored(cast.unit("jingchuan"))
    assert values["HT_ENT"] == (12, "")
    assert values["GDP"] == (98.6, "统计公报")
    assert "RD_GDP" not in values
    assert set(DataValue.objects.values_list("channel", flat=True)) == {"upload"}
    history = cell_history(DataValue.objects.all())
    assert [r.channel for r in history] == ["upload"] * 6
    entry = LogEntry.objects.get(action="indicators.values.import")
    assert entry.actor == clerk
    assert entry.org_unit == cast.unit("jingchuan")
    assert entry.data["changed"] == 6
    assert LogEntry.objects.filter(action="indicators.values.set").count() == 1


def test_template_resaved_by_another_program_imports_cleanly(cast, catalogue, tmp_path, clerk):
    """Filled with openpyxl, then opened and saved again by LibreOffice Calc in headless mode.

    LibreOffice comes from Debian (scripts/system-deps.sh installs libreoffice-calc-nogui).
    """
    filled = fill(template_file(tmp_path, cast), GOOD, {"RD_EXP": "含企业R&D"})
    assert LIBREOFFICE, "LibreOffice is missing: run `make setup` (scripts/system-deps.sh)"
    outdir = tmp_path / "lo"
    outdir.mkdir()
    subprocess.run(
        [
            LIBREOFFICE,
            "--headless",
            f"-env:UserInstallation=file://{tmp_path}/lo-profile",
            "--convert-to",
            "xlsx:Calc MS Excel 2007 XML",
            "--outdir",
            str(outdir),
            str(filled),
        ],
        check=True,
        timeout=180,
        capture_output=True,
    )
    resaved = outdir / filled.name
    report = exchange.import_file(resaved, actor=clerk)
    assert report.changed == 6
    assert stored(cast.unit("jingchuan"))["RD_EXP"] == (1.25, "含企业R&D")


def test_blank_template_imports_nothing(cast, catalogue, tmp_path, clerk):
    before = state()
    report = exchange.import_file(template_file(tmp_path, cast), actor=clerk)
    assert report.changed == 0
    assert state() == before


def test_numbers_typed_as_text_are_accepted(cast, catalogue, tmp_path, clerk):
    path = fill(template_file(tmp_path, cast), {"HT_ENT": " 12 ", "GDP": "98.6"})
    exchange.import_file(path, actor=clerk)
    assert stored(cast.unit("jingchuan"))["HT_ENT"][0] == 12


def test_clearing_a_cell_clears_the_value(cast, catalogue, tmp_path, clerk):
    exchange.import_file(fill(template_file(tmp_path, cast), GOOD), actor=clerk)
    path = fill(template_file(tmp_path, cast, name="again.xlsx"), {"TECH_CONTRACT": None})
    report = exchange.import_file(path, actor=clerk)
    assert report.changed == 1
    assert stored(cast.unit("jingchuan"))["TECH_CONTRACT"] == (None, "")


@pytest.mark.parametrize(
    ("encoding", "prefix"),
    [("utf-8", b""), ("utf-8", codecs.BOM_UTF8), ("gbk", b""), ("utf-16", b"")],
    ids=["utf8", "utf8-bom", "gbk", "utf16-bom"],
)
def test_csv_in_every_encoding_imports(cast, catalogue, tmp_path, clerk, encoding, prefix):
    rows = [
        ["单位代码", "指标代码", "年度", "数值", "说明"],
        ["620821", "GDP", YEAR, "98.6", "据统计公报，含农业"],
        ["620821", "HT_ENT", YEAR, "12", "高企认定名单"],
    ]
    path = write_csv(tmp_path / "values.csv", rows, encoding)
    path.write_bytes(prefix + path.read_bytes())
    report = exchange.import_file(path, actor=clerk)
    assert report.changed == 2
    assert stored(cast.unit("jingchuan"))["GDP"] == (98.6, "据统计公报，含农业")
    assert report.encoding == {"gbk": "GBK", "utf-16": "UTF-16"}.get(
        encoding, "UTF-8（带 BOM）" if prefix else "UTF-8"
    )


def test_dhis2_json_imports(cast, catalogue, tmp_path, clerk):
    document = {
        "dataSet": "COUNTY_ANNUAL",
        "period": str(YEAR),
        "orgUnit": "620821",
        "dataValues": [
            {"dataElement": "GDP", "value": "98.6", "comment": "统计公报"},
            {"dataElement": "HT_ENT", "value": 12, "categoryOptionCombo": "HllvX50cXC0"},
            {"dataElement": "RD_EXP", "value": "1.25", "period": "2023"},
        ],
    }
    report = exchange.import_file(json_file(tmp_path / "dvs.json", document), actor=clerk)
    assert report.changed == 3
    assert stored(cast.unit("jingchuan"))["GDP"] == (98.6, "统计公报")


def test_one_file_carries_many_counties_but_a_city_clerk_may_not_fill_them(
    cast, catalogue, tmp_path
):
    rows = [CSV_HEAD] + [
        [org, code, YEAR, value, ""] for org in ("620821", "620823") for code, value in GOOD.items()
    ]
    path = write_csv(tmp_path / "city.csv", rows)
    before = state()
    # Counties fill their own drafts; the city reviews them (docs/adr/0004).
    with pytest.raises(Forbidden):
        exchange.import_file(path, actor=cast.user("pingliang", "clerk"))
    assert state() == before
    # The operator's command (the system) loads a many-county file in one go.
    report = exchange.import_file(path, actor=None)
    assert (report.values, report.changed, report.units, report.submissions) == (12, 12, 2, 2)
    assert Submission.objects.filter(year=YEAR).count() == 2


def test_dry_run_reports_and_writes_nothing(cast, catalogue, tmp_path, clerk):
    path = fill(template_file(tmp_path, cast), GOOD)
    before = state()
    report = exchange.import_file(path, actor=clerk, dry_run=True)
    assert (report.dry_run, report.changed) == (True, 6)
    assert "未写入" in report.summary()
    assert state() == before


def test_a_returned_submission_takes_an_import(cast, catalogue, tmp_path, clerk):
    submission = submit_for_review(cast, catalogue, approve=False)
    return_submission(submission, actor=cast.user("pingliang", "reviewer"), reason="核实企业数")
    path = write_csv(tmp_path / "fix.csv", csv_rows(HT_ENT=13))
    assert exchange.import_file(path, actor=clerk).changed == 1


def test_unchanged_values_of_a_locked_submission_are_not_a_problem(cast, catalogue, tmp_path):
    submit_for_review(cast, catalogue, approve=True)
    path = write_csv(tmp_path / "same.csv", csv_rows(**GOOD))
    before = state()
    report = exchange.import_file(path, actor=cast.user("jingchuan", "clerk"))
    assert (report.changed, report.unchanged) == (0, 6)
    assert state() == before


def test_a_role_without_data_entry_cannot_import(cast, catalogue, tmp_path):
    path = write_csv(tmp_path / "v.csv", csv_rows(GDP=1))
    before = state()
    with pytest.raises(Forbidden):
        exchange.import_file(path, actor=cast.user("jingchuan", "reviewer"))
    assert state() == before


# ---------------------------------------------------------------- round trips and exports


@pytest.mark.parametrize("fmt", ["xlsx", "csv", "json"])
def test_export_then_import_changes_nothing(cast, catalogue, tmp_path, fmt):
    rows = [CSV_HEAD] + [
        [org, code, YEAR, value, HYPERLINK if code == "GDP" else "说明 ‘引号’, 逗号"]
        for org in ("620821", "620823")
        for code, value in GOOD.items()
    ]
    rows.append(["620821", "TECH_CONTRACT", YEAR - 1, "0.1", ""])
    rows[1][3] = 1 / 3  # a float with no short decimal form
    exchange.import_file(write_csv(tmp_path / "in.csv", rows), actor=None)
    # The system exports: a county's draft stays invisible to the city (docs/adr/0004).
    content = exchange.export_values(cast.unit("pingliang"), YEAR, actor=None, fmt=fmt)
    path = tmp_path / f"export.{fmt}"
    path.write_bytes(content)
    before = state()
    report = exchange.import_file(path, actor=None)
    assert (report.values, report.changed, report.unchanged) == (12, 0, 12)
    assert state() == before


def test_export_neutralises_formula_injection(cast, catalogue, tmp_path, clerk):
    path = write_csv(
        tmp_path / "in.csv",
        [
            CSV_HEAD,
            ["620821", "GDP", YEAR, "98.6", HYPERLINK],
            ["620821", "RD_EXP", YEAR, 1, "@SUM(A1)"],
        ],
    )
    exchange.import_file(path, actor=clerk)
    # The import keeps the text as typed: it is data, only exports must make it harmless.
    assert stored(cast.unit("jingchuan"))["GDP"][1] == HYPERLINK
    unit = cast.unit("jingchuan")
    workbook = openpyxl.load_workbook(
        io.BytesIO(exchange.export_values(unit, YEAR, actor=clerk, fmt="xlsx"))
    )
    comments = {row[2].value: row[7] for row in workbook[layout.VALUES_SHEET].iter_rows(min_row=2)}
    assert comments["GDP"].value == "'" + HYPERLINK
    assert comments["GDP"].data_type == "s"
    assert comments["RD_EXP"].value == "'@SUM(A1)"
    text = exchange.export_values(unit, YEAR, actor=clerk, fmt="csv").decode("utf-8-sig")
    exported = {row["indicator_code"]: row for row in csv.DictReader(io.StringIO(text))}
    assert exported["GDP"]["comment"] == "'" + HYPERLINK
    assert all(not value.startswith("=") for row in exported.values() for value in row.values())
    template = openpyxl.load_workbook(io.BytesIO(exchange.template_for(unit, YEAR, actor=clerk)))
    cell = template[SHEET][f"H{ROW_OF['GDP']}"]
    assert (cell.value, cell.data_type) == ("'" + HYPERLINK, "s")


def test_export_reads_only_what_the_actor_may_see(cast, catalogue, tmp_path, clerk):
    submission = open_submission(catalogue, cast.unit("jingchuan"), YEAR, actor=clerk)
    set_values(submission, [ValueChange("GDP", 98.6)], actor=clerk)
    reviewer = cast.user("pingliang", "reviewer")
    # A draft stays with the county: the city sees no rows until it is submitted.
    text = exchange.export_values(cast.unit("pingliang"), YEAR, actor=reviewer, fmt="csv")
    assert len(text.decode("utf-8-sig").strip().splitlines()) == 1
    own = exchange.export_values(cast.unit("jingchuan"), YEAR, actor=clerk, fmt="json")
    assert json.loads(own)["dataValues"] == [
        {
            "dataElement": "GDP",
            "period": str(YEAR),
            "orgUnit": "620821",
            "value": "98.6",
            "dataSet": "COUNTY_ANNUAL",
        }
    ]
    with pytest.raises(NotFound):
        exchange.export_values(cast.unit("chongxin"), YEAR, actor=clerk, fmt="csv")


# ---------------------------------------------------------------- the bad-file corpus


def _merge(cells: str) -> Callable[[Any], None]:
    return lambda wb: wb[SHEET].merge_cells(cells)


def _move_title_merge(wb: Any) -> None:
    sheet = wb[SHEET]
    sheet.unmerge_cells("A1:H1")
    sheet.merge_cells(f"A{FIRST + 1}:H{FIRST + 1}")


def _swap_columns(wb: Any) -> None:
    sheet = wb[SHEET]
    for row in range(layout.TEMPLATE_HEADER_ROW, FIRST + len(INDICATORS)):
        g, h = sheet[f"G{row}"], sheet[f"H{row}"]
        g.value, h.value = h.value, g.value


def _set(cell: str, value: Any, sheet: str = SHEET) -> Callable[[Any], None]:
    def edit(wb: Any) -> None:
        wb[sheet][cell] = value

    return edit


def _set_meta(key: str, value: str) -> Callable[[Any], None]:
    def edit(wb: Any) -> None:
        for row in wb[layout.META_SHEET].iter_rows():
            if row[0].value == key:
                row[1].value = value

    return edit


def _both(*edits: Callable[[Any], None]) -> Callable[[Any], None]:
    def edit(wb: Any) -> None:
        for each in edits:
            each(wb)

    return edit


def _formula(cell: str, formula: str) -> Callable[[Any], None]:
    def edit(wb: Any) -> None:
        wb[SHEET][cell] = formula  # openpyxl stores text starting with = as a formula

    return edit


G = {code: f"G{row}" for code, row in ROW_OF.items()}
H = {code: f"H{row}" for code, row in ROW_OF.items()}

# id → (values to fill, edit of the workbook, expected places (sheet, row, column), message part)
XLSX_CORPUS: dict[str, tuple[dict[str, Any], Any, set[tuple[Any, Any, Any]], str]] = {
    "text-in-number": (
        {"GDP": "约100"},
        None,
        {(SHEET, ROW_OF["GDP"], "G")},
        "应为数字",
    ),
    "number-with-unit": (
        {"RD_EXP": "1.2亿元"},
        None,
        {(SHEET, ROW_OF["RD_EXP"], "G")},
        "不要带单位",
    ),
    "thousands-separator": (
        {"GOV_ST_EXP": "3,200"},
        None,
        {(SHEET, ROW_OF["GOV_ST_EXP"], "G")},
        "应为数字",
    ),
    "negative-count": (
        {"HT_ENT": -3},
        None,
        {(SHEET, ROW_OF["HT_ENT"], "G")},
        "不能小于 0",
    ),
    "fractional-count": (
        {"HT_ENT": 2.5},
        None,
        {(SHEET, ROW_OF["HT_ENT"], "G")},
        "应为整数",
    ),
    "negative-money": (
        {"RD_EXP": -0.5},
        None,
        {(SHEET, ROW_OF["RD_EXP"], "G")},
        "不能小于 0",
    ),
    "above-maximum": (
        {"GROWTH": 5000},
        None,
        {(SHEET, ROW_OF["GROWTH"], "G")},
        "不能大于 1000",
    ),
    "date-in-number": (
        {"GDP": datetime.datetime(2023, 5, 1)},
        None,
        {(SHEET, ROW_OF["GDP"], "G")},
        "日期",
    ),
    "boolean-in-number": (
        {"GDP": True},
        None,
        {(SHEET, ROW_OF["GDP"], "G")},
        "应为数字",
    ),
    "derived-filled-in": (
        {"RD_GDP": 1.3},
        None,
        {(SHEET, ROW_OF["RD_GDP"], "G")},
        "派生指标",
    ),
    "several-bad-cells": (
        {"GDP": "abc", "HT_ENT": -1, "RD_EXP": "x"},
        None,
        {(SHEET, ROW_OF[c], "G") for c in ("GDP", "HT_ENT", "RD_EXP")},
        "应为数字",
    ),
    "unknown-indicator-code": (
        GOOD,
        _set(f"C{ROW_OF['GDP']}", "NO_SUCH"),
        {(SHEET, ROW_OF["GDP"], "C")},
        "指标代码「NO_SUCH」不存在",
    ),
    "indicator-of-another-dataset": (
        GOOD,
        _set(f"C{ROW_OF['GDP']}", "OTHER"),
        {(SHEET, ROW_OF["GDP"], "C")},
        "不在填报表",
    ),
    "duplicate-indicator-row": (
        GOOD,
        _set(f"C{ROW_OF['GDP']}", "RD_EXP"),
        {(SHEET, ROW_OF["GDP"], "C")},
        f"与第 {ROW_OF['RD_EXP']} 行重复",
    ),
    "missing-indicator-code": (
        GOOD,
        _set(f"C{ROW_OF['GDP']}", None),
        {(SHEET, ROW_OF["GDP"], "C")},
        "缺少指标代码",
    ),
    "formula-in-value": (
        {},
        _formula(G["GDP"], "=1+2"),
        {(SHEET, ROW_OF["GDP"], "G")},
        "公式",
    ),
    "formula-injection-as-formula": (
        {},
        _formula(H["GDP"], HYPERLINK),
        {(SHEET, ROW_OF["GDP"], "H")},
        "公式",
    ),
    "merged-value-cells": (
        GOOD,
        _merge(f"G{ROW_OF['GDP']}:H{ROW_OF['GDP']}"),
        {(SHEET, ROW_OF["GDP"], "G")},
        "合并单元格",
    ),
    "title-merge-moved-into-data": (
        GOOD,
        _move_title_merge,
        {(SHEET, FIRST + 1, "A")},
        "合并单元格",
    ),
    "extra-sheet": (
        GOOD,
        lambda wb: wb.create_sheet("Sheet1"),
        {("Sheet1", None, None)},
        "多出工作表",
    ),
    "missing-instructions-sheet": (
        GOOD,
        lambda wb: wb.remove(wb[layout.INSTRUCTIONS_SHEET]),
        {(layout.INSTRUCTIONS_SHEET, None, None)},
        "缺少工作表",
    ),
    "renamed-data-sheet": (
        GOOD,
        lambda wb: setattr(wb[SHEET], "title", "Sheet1"),
        {("Sheet1", None, None), (SHEET, None, None)},
        "工作表",
    ),
    "missing-meta-sheet": (
        GOOD,
        lambda wb: wb.remove(wb[layout.META_SHEET]),
        {(layout.META_SHEET, None, None)},
        "缺少工作表「_meta」",
    ),
    "meta-version-changed": (
        GOOD,
        _set_meta("version", "99"),
        {(layout.META_SHEET, None, None)},
        "版本不符",
    ),
    "renamed-header": (
        GOOD,
        _set(f"G{layout.TEMPLATE_HEADER_ROW}", "本期值"),
        {(SHEET, layout.TEMPLATE_HEADER_ROW, "G")},
        "列标题应为「本年值」",
    ),
    "moved-columns": (
        GOOD,
        _swap_columns,
        {(SHEET, layout.TEMPLATE_HEADER_ROW, "G"), (SHEET, layout.TEMPLATE_HEADER_ROW, "H")},
        "请勿修改、插入或移动列",
    ),
    "inserted-column": (
        GOOD,
        lambda wb: wb[SHEET].insert_cols(4),
        {(SHEET, layout.TEMPLATE_HEADER_ROW, "D")},
        "列标题应为「指标名称」",
    ),
    "cell-outside-the-table": (
        GOOD,
        _set(f"J{ROW_OF['GDP']}", "备注"),
        {(SHEET, ROW_OF["GDP"], "J")},
        "表格范围外",
    ),
    "header-label-changed": (
        GOOD,
        _set("A2", "单位"),
        {(SHEET, 2, "A")},
        "表头区域被改动",
    ),
    "org-code-edited-in-header": (
        GOOD,
        _set("B2", "620823"),
        {(SHEET, 2, "B")},
        "不一致",
    ),
    "sibling-county-template": (
        GOOD,
        _both(_set("B2", "620823"), _set_meta("org_unit", "620823")),
        {(SHEET, 2, "B")},
        "单位代码「620823」不存在，或不在您可以填报的范围内",
    ),
    "unknown-org-code": (
        GOOD,
        _both(_set("B2", "629999"), _set_meta("org_unit", "629999")),
        {(SHEET, 2, "B")},
        "单位代码「629999」不存在，或不在您可以填报的范围内",
    ),
    "year-as-text": (
        GOOD,
        _both(_set("F2", "二〇二三年"), _set_meta("year", "二〇二三年")),
        {(SHEET, 2, "F")},
        "年度应为四位数字",
    ),
    "unknown-dataset": (
        GOOD,
        _both(_set("B3", "NOPE"), _set_meta("dataset", "NOPE")),
        {(SHEET, 3, "B")},
        "填报表代码「NOPE」不存在",
    ),
    "comment-too-long": (
        GOOD,
        _set(H["GDP"], "长" * 2500),
        {(SHEET, ROW_OF["GDP"], "H")},
        "说明过长",
    ),
}


@pytest.mark.parametrize("case", list(XLSX_CORPUS), ids=list(XLSX_CORPUS))
def test_bad_workbook_is_refused_with_its_place_and_changes_nothing(
    cast, catalogue, tmp_path, clerk, case
):
    Indicator.objects.create(code="OTHER", name="其他表的指标")
    values, edit, expected, message = XLSX_CORPUS[case]
    path = fill(template_file(tmp_path, cast), values, edit=edit, out=tmp_path / f"{case}.xlsx")
    before = state()
    problems = import_problems(path, clerk)
    assert expected <= places(problems), [str(p) for p in problems]
    assert any(message in p.message for p in problems), [str(p) for p in problems]
    assert all(str(p).startswith(f"{case}.xlsx:") for p in problems)
    assert state() == before


def _zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def _zip_bomb(path: Path) -> Path:
    """A few hundred kilobytes that claim and hold 64 MB of zeros."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
        with archive.open("xl/worksheets/sheet1.xml", "w") as member:
            zeros = b"\0" * (1 << 20)
            for _ in range(64):
                member.write(zeros)
    return path


def _lying_bomb(path: Path, good: Path) -> Path:
    """A real template whose sheet is padded with 100 MB while the zip's headers claim 20 kB.

    The declared sizes pass every check; only decompressing with a count (or
    the CRC that fails when the reader stops at the declared size) finds out.
    """
    member_name = "xl/worksheets/sheet1.xml"
    with zipfile.ZipFile(good) as source, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for info in source.infolist():
            data = source.read(info)
            if info.filename != member_name:
                out.writestr(info, data)
                continue
            with out.open(member_name, "w") as member:
                member.write(data)
                padding = b" " * (1 << 20)
                for _ in range(100):
                    member.write(padding)
    raw = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo(member_name)
    claimed = 20_000
    struct.pack_into("<I", raw, info.header_offset + 22, claimed)  # local file header
    name = member_name.encode()
    start = raw.find(b"PK\x01\x02")
    while start != -1:  # the member's central directory entry
        if raw[start + 46 : start + 46 + len(name)] == name:
            struct.pack_into("<I", raw, start + 24, claimed)
        start = raw.find(b"PK\x01\x02", start + 4)
    path.write_bytes(bytes(raw))
    with zipfile.ZipFile(path) as archive:
        assert archive.getinfo(member_name).file_size == claimed
    return path


def _doctype(path: Path, good: Path) -> Path:
    with zipfile.ZipFile(good) as source:
        members = {info.filename: source.read(info) for info in source.infolist()}
    members["xl/worksheets/sheet1.xml"] = members["xl/worksheets/sheet1.xml"].replace(
        b"<worksheet", b'<!DOCTYPE x [<!ENTITY a "aaaa">]><worksheet', 1
    )
    return _zip(path, members)


def _sparse(path: Path, size: int) -> Path:
    with path.open("wb") as handle:
        handle.truncate(size)
    return path


# id → (builder(tmp_path, good template) → path, message part)
PACKAGE_CORPUS: dict[str, tuple[Callable[[Path, Path], Path], str]] = {
    "zero-byte-xlsx": (lambda d, g: _sparse(d / "empty.xlsx", 0), "0 字节"),
    "text-renamed-xlsx": (
        lambda d, g: (d / "notes.xlsx").write_text("这不是表格") and d / "notes.xlsx",
        "不是有效的 .xlsx",
    ),
    "pdf-renamed-xlsx": (
        lambda d, g: (d / "scan.xlsx").write_bytes(b"%PDF-1.4\n" + b"x" * 100) and d / "scan.xlsx",
        "不是有效的 .xlsx",
    ),
    "zip-that-is-not-a-workbook": (
        lambda d, g: _zip(d / "docs.xlsx", {"readme.txt": b"hello"}),
        "不是 Excel 工作簿",
    ),
    "zip-bomb": (lambda d, g: _zip_bomb(d / "bomb.xlsx"), "压缩炸弹"),
    "zip-bomb-lying-header": (lambda d, g: _lying_bomb(d / "liar.xlsx", g), "文件已损坏"),
    "file-over-50-mb": (lambda d, g: _sparse(d / "huge.xlsx", 50 * 1024 * 1024 + 1), "文件过大"),
    "xml-with-doctype": (lambda d, g: _doctype(d / "dtd.xlsx", g), "DOCTYPE"),
    "legacy-xls": (
        lambda d, g: (d / "old.xls").write_bytes(b"\xd0\xcf\x11\xe0" * 10) and d / "old.xls",
        "请另存为 .xlsx",
    ),
    "truncated-xlsx": (
        lambda d, g: (d / "cut.xlsx").write_bytes(g.read_bytes()[:3000]) and d / "cut.xlsx",
        "xlsx",
    ),
}


@pytest.mark.parametrize("case", list(PACKAGE_CORPUS), ids=list(PACKAGE_CORPUS))
def test_bad_package_is_refused_before_parsing_and_changes_nothing(
    cast, catalogue, tmp_path, clerk, case
):
    build, message = PACKAGE_CORPUS[case]
    good = fill(template_file(tmp_path, cast), GOOD)
    path = build(tmp_path, good)
    before = state()
    problems = import_problems(path, clerk)
    assert len(problems) == 1, [str(p) for p in problems]
    assert message in problems[0].message
    assert str(problems[0]).startswith(f"{path.name}:-:-:-: ")
    assert state() == before


def test_a_50_mb_file_is_refused_from_its_size_alone(tmp_path):
    path = _sparse(tmp_path / "huge.csv", 50 * 1024 * 1024)
    parsed = read_file(path)
    assert parsed.problems[0].message.startswith("文件过大")
    assert path.stat().st_size > MAX_FILE_BYTES


CSV_CORPUS: dict[str, tuple[Callable[[Path], Path], set[tuple[Any, Any, Any]], str]] = {
    "csv-zero-byte": (lambda d: _sparse(d / "e.csv", 0), {("-", None, None)}, "0 字节"),
    "csv-only-bom": (
        lambda d: (d / "bom.csv").write_bytes(codecs.BOM_UTF8) and d / "bom.csv",
        {("-", None, None)},
        "没有内容",
    ),
    "csv-header-only": (
        lambda d: write_csv(d / "h.csv", [CSV_HEAD]),
        {("-", None, None)},
        "没有数据行",
    ),
    "csv-missing-value-column": (
        lambda d: write_csv(
            d / "m.csv", [["org_code", "indicator_code", "year"], ["620821", "GDP", YEAR]]
        ),
        {("-", 1, None)},
        "缺少列「value」",
    ),
    "csv-unknown-column": (
        lambda d: write_csv(
            d / "u.csv", [[*CSV_HEAD, "备注2"], ["620821", "GDP", YEAR, 1, "", ""]]
        ),
        {("-", 1, "F")},
        "未知的列「备注2」",
    ),
    "csv-duplicate-column": (
        lambda d: write_csv(
            d / "dc.csv", [[*CSV_HEAD, "value"], ["620821", "GDP", YEAR, 1, "", 2]]
        ),
        {("-", 1, "F")},
        "重复",
    ),
    "csv-text-in-number": (
        lambda d: write_csv(d / "t.csv", csv_rows(GDP="九十八")),
        {("-", 2, "D")},
        "应为数字",
    ),
    "csv-negative-count": (
        lambda d: write_csv(d / "n.csv", csv_rows(GDP=1, HT_ENT=-2)),
        {("-", 3, "D")},
        "不能小于 0",
    ),
    "csv-nan": (
        lambda d: write_csv(d / "nan.csv", csv_rows(GDP="nan")),
        {("-", 2, "D")},
        "应为数字",
    ),
    "csv-unknown-org": (
        lambda d: write_csv(d / "o.csv", csv_rows("629999", GDP=1, RD_EXP=2)),
        {("-", 2, "A")},
        "单位代码「629999」不存在，或不在您可以填报的范围内。（共 2 行：第 2–3 行）",
    ),
    "csv-sibling-county": (
        lambda d: write_csv(d / "s.csv", csv_rows("620823", GDP=1)),
        {("-", 2, "A")},
        "单位代码「620823」不存在，或不在您可以填报的范围内",
    ),
    "csv-parent-city-not-reporting": (
        lambda d: write_csv(d / "p.csv", csv_rows("6208", GDP=1)),
        {("-", 2, "A")},
        "不存在，或不在您可以填报的范围内",
    ),
    "csv-township-not-a-reporting-unit": (
        lambda d: write_csv(
            d / "tw.csv",
            [[*CSV_HEAD, "dataset"], ["620821100", "GDP", YEAR, 1, "", "COUNTY_ANNUAL"]],
        ),
        {("-", 2, "A")},
        "不是填报表「县域科技创新年报」的填报单位",
    ),
    "csv-unknown-indicator": (
        lambda d: write_csv(d / "i.csv", csv_rows(GDPX=1)),
        {("-", 2, "B")},
        "指标代码「GDPX」不存在",
    ),
    "csv-duplicate-rows": (
        lambda d: write_csv(d / "d.csv", [*csv_rows(GDP=1), ["620821", "GDP", YEAR, 2, ""]]),
        {("-", 3, "B")},
        "与第 2 行重复",
    ),
    "csv-bad-year": (
        lambda d: write_csv(d / "y.csv", [CSV_HEAD, ["620821", "GDP", "2023年", 1, ""]]),
        {("-", 2, "C")},
        "年度应为四位数字",
    ),
    "csv-too-many-cells": (
        lambda d: write_csv(d / "w.csv", [CSV_HEAD, ["620821", "GDP", YEAR, 1, "", "多余"]]),
        {("-", 2, "F")},
        "列数多于表头",
    ),
    "csv-gbk-with-bad-value": (
        lambda d: write_csv(
            d / "g.csv",
            [
                ["单位代码", "指标代码", "年度", "数值", "说明"],
                ["620821", "GDP", YEAR, "约98亿", "统计公报"],
            ],
            "gbk",
        ),
        {("-", 2, "D")},
        "约98亿",
    ),
    "csv-binary": (
        lambda d: (d / "b.csv").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00") and d / "b.csv",
        {("-", None, None)},
        "二进制",
    ),
    "csv-undecodable": (
        lambda d: (d / "x.csv").write_bytes(b"org_code\xff\xfe\xff,value\n") and d / "x.csv",
        {("-", None, None)},
        "无法识别文件编码",
    ),
    "csv-derived-indicator": (
        lambda d: write_csv(d / "dv.csv", csv_rows(RD_GDP=1.2)),
        {("-", 2, "D")},
        "派生指标",
    ),
    "json-malformed": (
        lambda d: (
            (d / "m.json").write_text('{"dataValues": [\n  {"dataElement": "GDP",}\n]}')
            and d / "m.json"
        ),
        {("-", 2, "25")},
        "JSON 格式错误",
    ),
    "json-wrong-shape": (
        lambda d: json_file(d / "s.json", [{"dataElement": "GDP"}]),
        {("-", None, None)},
        "dataValueSets",
    ),
    "json-data-values-not-a-list": (
        lambda d: json_file(d / "l.json", {"dataValues": {"GDP": 1}}),
        {("-", None, "dataValues")},
        "应为数组",
    ),
    "json-item-not-an-object": (
        lambda d: json_file(
            d / "o.json", {"dataValues": [data_values(("620821", "GDP", 1))["dataValues"][0], 5]}
        ),
        {("-", 2, None)},
        "应为对象",
    ),
    "json-monthly-period": (
        lambda d: json_file(
            d / "p.json",
            {
                "dataValues": [
                    {"dataElement": "GDP", "orgUnit": "620821", "period": "202301", "value": "1"}
                ]
            },
        ),
        {("-", 1, "period")},
        "年度应为四位数字",
    ),
    "json-text-value": (
        lambda d: json_file(d / "v.json", data_values(("620821", "GDP", "n/a"))),
        {("-", 1, "value")},
        "应为数字",
    ),
    "json-unknown-data-element": (
        lambda d: json_file(
            d / "e.json", data_values(("620821", "GDP", "1"), ("620821", "X1", "2"))
        ),
        {("-", 2, "dataElement")},
        "指标代码「X1」不存在",
    ),
    "json-sibling-org-unit": (
        lambda d: json_file(d / "u.json", data_values(("620823", "GDP", "1"))),
        {("-", 1, "orgUnit")},
        "不在您可以填报的范围内",
    ),
    "json-not-utf8": (
        lambda d: (
            (d / "g.json").write_bytes('{"dataValues": ["泾川"]}'.encode("gbk")) and d / "g.json"
        ),
        {("-", None, None)},
        "UTF-8",
    ),
}


@pytest.mark.parametrize("case", list(CSV_CORPUS), ids=list(CSV_CORPUS))
def test_bad_csv_or_json_is_refused_with_its_place_and_changes_nothing(
    cast, catalogue, tmp_path, clerk, case
):
    # Something stored already, so "unchanged" is about real data, not an empty table.
    submission = open_submission(catalogue, cast.unit("jingchuan"), YEAR, actor=clerk)
    set_values(submission, [ValueChange("GDP", 90.0, "旧说明")], actor=clerk)
    build, expected, message = CSV_CORPUS[case]
    path = build(tmp_path)
    before = state()
    problems = import_problems(path, clerk)
    assert expected <= {("-" if p.sheet is None else p.sheet, p.row, p.column) for p in problems}, [
        str(p) for p in problems
    ]
    assert any(message in p.message for p in problems), [str(p) for p in problems]
    assert all(str(p).startswith(f"{path.name}:-:") for p in problems)
    assert state() == before


VALUES = layout.VALUES_SHEET
VALUES_CORPUS: dict[str, tuple[Callable[[Any], None], tuple[Any, Any, Any], str]] = {
    "values-renamed-header": (_set("G1", "值", VALUES), (VALUES, 1, "G"), "列标题应为「数值」"),
    "values-unknown-org": (_set("A3", "629999", VALUES), (VALUES, 3, "A"), "「629999」不存在"),
    "values-text-in-number": (_set("G2", "十二", VALUES), (VALUES, 2, "G"), "应为数字"),
    "values-bad-year": (_set("F4", 23, VALUES), (VALUES, 4, "F"), "年度应为四位数字"),
    "values-formula": (_set("G5", "=2*3", VALUES), (VALUES, 5, "G"), "公式"),
    "values-duplicate-row": (_set("C3", "GDP", VALUES), (VALUES, 4, "C"), "与第 3 行重复"),
    "values-extra-sheet": (lambda wb: wb.create_sheet("汇总"), ("汇总", None, None), "多出工作表"),
}


@pytest.mark.parametrize("case", list(VALUES_CORPUS), ids=list(VALUES_CORPUS))
def test_bad_values_workbook_is_refused_with_its_place(cast, catalogue, tmp_path, clerk, case):
    exchange.import_file(write_csv(tmp_path / "in.csv", csv_rows(**GOOD)), actor=clerk)
    export = tmp_path / "export.xlsx"
    export.write_bytes(
        exchange.export_values(cast.unit("jingchuan"), YEAR, actor=clerk, fmt="xlsx")
    )
    edit, place, message = VALUES_CORPUS[case]
    workbook = openpyxl.load_workbook(export)
    assert workbook[VALUES]["C2"].value == "RD_EXP"
    edit(workbook)
    workbook.save(export)
    before = state()
    problems = import_problems(export, clerk)
    assert place in places(problems), [str(p) for p in problems]
    assert any(message in p.message for p in problems), [str(p) for p in problems]
    assert state() == before


def test_a_locked_submission_names_the_rows_and_changes_nothing(cast, catalogue, tmp_path, clerk):
    submit_for_review(cast, catalogue, approve=True)
    path = fill(template_file(tmp_path, cast), {"GDP": 99.9, "HT_ENT": 13})
    before = state()
    problems = import_problems(path, clerk)
    assert [str(p) for p in problems] == [
        f"t.xlsx:{SHEET}:{ROW_OF['GDP']}:G: 「泾川县」2023 年的填报（县域科技创新年报）已审定，"
        f"数值已锁定，不能修改第 {ROW_OF['GDP']}、{ROW_OF['HT_ENT']} 行的数值；"
        "如需修改，请先由审核单位退回。"
    ]
    assert state() == before


def test_a_submitted_submission_is_locked_too(cast, catalogue, tmp_path, clerk):
    submit_for_review(cast, catalogue, approve=False)
    path = write_csv(tmp_path / "late.csv", csv_rows(GDP=1, RD_EXP=2))
    before = state()
    problems = import_problems(path, clerk)
    assert len(problems) == 1
    assert "已上报" in problems[0].message
    assert "第 2–3 行" in problems[0].message
    assert state() == before


def test_every_problem_of_a_file_is_reported_at_once(cast, catalogue, tmp_path, clerk):
    rows = [
        CSV_HEAD,
        ["620821", "GDP", YEAR, "abc", ""],
        ["620823", "GDP", YEAR, "1", ""],
        ["620821", "NOPE", YEAR, "1", ""],
        ["620821", "HT_ENT", YEAR, "1.5", ""],
        ["620821", "RD_EXP", "23", "1", ""],
        ["620821", "GDP", YEAR, "2", ""],
    ]
    problems = import_problems(write_csv(tmp_path / "all.csv", rows), clerk)
    assert [(p.row, p.column) for p in problems] == [
        (2, "D"),
        (3, "A"),
        (4, "B"),
        (5, "D"),
        (6, "C"),
        (7, "B"),
    ]


def test_problem_format_is_file_sheet_row_column_message():
    problem = ImportProblem("a.xlsx", "填报表", 7, "G", "应为数字")
    assert str(problem) == "a.xlsx:填报表:7:G: 应为数字"
    assert str(ImportProblem("a.csv", None, None, None, "文件是空的")) == "a.csv:-:-:-: 文件是空的"


def test_neutralise_and_restore_are_inverse():
    for text in (HYPERLINK, "+1", "-2", "@x", "\tx", "\rx", "普通", "'quoted", ""):
        assert layout.restore(layout.neutralise(text)) == text
    assert layout.neutralise(HYPERLINK) == "'" + HYPERLINK
    assert layout.neutralise("普通") == "普通"


# ---------------------------------------------------------------- the command


def test_command_template_import_and_export(cast, catalogue, tmp_path):
    path = tmp_path / "jc.xlsx"
    out = io.StringIO()
    call_command(
        "data", "template", "--org", "620821", "--year", str(YEAR), "-o", str(path), stdout=out
    )
    assert "泾川县" in out.getvalue()
    fill(path, GOOD)
    out = io.StringIO()
    call_command("data", "import", str(path), "--dry-run", stdout=out)
    assert "试导入" in out.getvalue()
    assert DataValue.objects.count() == 0
    out = io.StringIO()
    call_command("data", "import", str(path), "--as", "jingchuan_clerk", stdout=out)
    assert "已导入 jc.xlsx：6 个数值" in out.getvalue()
    assert (
        LogEntry.objects.get(action="indicators.values.import").actor.username == "jingchuan_clerk"
    )
    export = tmp_path / "pl.csv"
    call_command(
        "data",
        "export",
        "--org",
        "6208",
        "--year",
        str(YEAR),
        "--as",
        "pingliang_clerk",
        "-o",
        str(export),
        stdout=io.StringIO(),
    )
    assert export.read_bytes().startswith(codecs.BOM_UTF8)
    assert (
        len(export.read_text(encoding="utf-8-sig").splitlines()) == 1
    )  # the county's draft is its own
    call_command(
        "data",
        "export",
        "--org",
        "6208",
        "--year",
        str(YEAR),
        "--format",
        "json",
        "-o",
        str(export),
        stdout=io.StringIO(),
    )
    assert len(json.loads(export.read_text())["dataValues"]) == 6  # the system sees everything


def test_command_import_prints_every_problem_and_exits_1(cast, catalogue, tmp_path):
    path = write_csv(tmp_path / "bad.csv", csv_rows(GDP="abc", HT_ENT=-1))
    before = state()
    err = io.StringIO()
    with pytest.raises(CommandError) as caught:
        call_command("data", "import", str(path), stdout=io.StringIO(), stderr=err)
    assert caught.value.returncode == 1
    assert "共 2 处问题，未导入任何数据" in str(caught.value)
    lines = err.getvalue().splitlines()
    assert lines[0].startswith("bad.csv:-:2:D: ")
    assert lines[1].startswith("bad.csv:-:3:D: ")
    assert state() == before


def test_command_checks_org_codes_for_the_system_too(cast, catalogue, tmp_path):
    path = write_csv(tmp_path / "bad.csv", csv_rows("629999", GDP=1))
    err = io.StringIO()
    with pytest.raises(CommandError):
        call_command("data", "import", str(path), stdout=io.StringIO(), stderr=err)
    assert "629999" in err.getvalue()


def test_command_rejects_unknown_users_and_units(cast, catalogue, tmp_path):
    with pytest.raises(CommandError, match="nobody"):
        call_command("data", "import", str(tmp_path / "x.csv"), "--as", "nobody")
    with pytest.raises(CommandError, match="999999"):
        call_command(
            "data", "template", "--org", "999999", "--year", "2023", "-o", str(tmp_path / "t.xlsx")
        )


def test_command_loads_the_catalogue(db):
    out = io.StringIO()
    call_command("data", "catalogue", "load", stdout=out)
    assert out.getvalue().strip()
    assert Indicator.objects.exists()

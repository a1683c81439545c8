"""The wide table (宽表): one year, a row per unit, a column per indicator, in .xlsx and CSV.

Round trips change nothing; a table made by another program imports; every
bad table is refused with the place of each problem (file:sheet:row:column)
and leaves the database exactly as it was (``state()`` of test_exchange).
"""

from __future__ import annotations

import codecs
import io
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.utils import translation

from kechuang.core.errors import InvalidInput
from kechuang.indicators.exchange import ExportRow, TableColumn, layout, read_file, write_table
from kechuang.indicators.models import DataValue
from kechuang.indicators.services import exchange
from kechuang.indicators.tests import test_exchange as base
from kechuang.indicators.tests.test_exchange import (
    CSV_HEAD,
    GOOD,
    HYPERLINK,
    YEAR,
    import_problems,
    places,
    state,
    stored,
    submit_for_review,
    write_csv,
)

# The small county data set of test_exchange (RD_GDP is derived, HT_ENT a count ≥ 0).
catalogue = base.catalogue
clerk = base.clerk


@pytest.fixture(autouse=True)
def chinese() -> Iterator[None]:
    """Messages are compared in Chinese, whatever language an earlier request left active.

    ChosenLanguageMiddleware activates the chosen language for the thread and
    does not restore it, so a test after an English page would read English.
    """
    with translation.override(settings.LANGUAGE_CODE):
        yield


TABLE = layout.TABLE_SHEET
META = layout.META_SHEET
NOTES = layout.INSTRUCTIONS_SHEET
# The exported columns: indicators in catalogue order, the derived RD_GDP left out.
COLUMN = {
    "RD_EXP": "C",
    "GOV_ST_EXP": "D",
    "GDP": "E",
    "HT_ENT": "F",
    "TECH_CONTRACT": "G",
    "GROWTH": "H",
}


def seed(tmp_path: Path, actor: Any, units: tuple[str, ...] = ("620821",)) -> None:
    """GOOD for each unit, with comments (which the table leaves alone)."""
    rows = [CSV_HEAD] + [
        [org, code, YEAR, value, HYPERLINK if code == "GDP" else "统计公报"]
        for org in units
        for code, value in GOOD.items()
    ]
    exchange.import_file(write_csv(tmp_path / "seed.csv", rows), actor=actor)


def export_table(
    tmp_path: Path, cast: Any, unit: str, actor: Any, *, fmt: str = "xlsx", **options: Any
) -> Path:
    path = tmp_path / f"table.{fmt}"
    path.write_bytes(
        exchange.export_values(
            cast.unit(unit), YEAR, actor=actor, fmt=fmt, layout="table", **options
        )
    )
    return path


def own_table(tmp_path: Path, cast: Any, clerk: Any) -> Path:
    """泾川县's values, entered by its clerk and exported by her as a table (one unit row)."""
    seed(tmp_path, clerk)
    return export_table(tmp_path, cast, "jingchuan", clerk)


def edit_workbook(path: Path, edit: Callable[[Any], None]) -> Path:
    workbook = openpyxl.load_workbook(path)
    edit(workbook)
    workbook.save(path)
    return path


def cells(workbook: Any, sheet: str = TABLE) -> list[list[Any]]:
    return [[cell.value for cell in row] for row in workbook[sheet].iter_rows()]


def handmade(path: Path, rows: list[list[Any]]) -> Path:
    """A table made with openpyxl from scratch, the way another program would write one."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = TABLE
    for row in rows:
        sheet.append(row)
    workbook.create_sheet(NOTES).append(["省统计局 2023 年县域科技统计"])
    info = workbook.create_sheet(META)
    for key, value in (
        ("format", layout.FORMAT_NAME),
        ("version", layout.FORMAT_VERSION),
        ("kind", "table"),
        ("year", str(YEAR)),
    ):
        info.append([key, value])
    info.sheet_state = "hidden"
    workbook.save(path)
    return path


HEAD = ["单位代码", "单位名称", "GDP", "HT_ENT", "RD_EXP"]
NAMES = [
    "指标名称",
    "（计量单位）",
    "地区生产总值（亿元）",
    "高新技术企业数（家）",
    "研发经费支出（亿元）",
]


# ---------------------------------------------------------------- the layout and round trips


def test_table_export_has_the_layout(cast, catalogue, tmp_path):
    seed(tmp_path, None, ("620821", "620823"))
    path = export_table(tmp_path, cast, "pingliang", None)
    workbook = openpyxl.load_workbook(path)
    assert workbook.sheetnames == [TABLE, NOTES, META]
    rows = cells(workbook)
    assert rows[0] == ["单位代码", "单位名称", *COLUMN]
    assert rows[1][:4] == [
        "指标名称",
        "（计量单位）",
        "研发经费支出（亿元）",
        "本级财政科技支出（万元）",
    ]
    assert [row[:2] for row in rows[2:]] == [["620821", "泾川县"], ["620823", "崇信县"]]
    assert rows[2][2:] == [GOOD[code] for code in COLUMN]
    assert workbook[TABLE].freeze_panes == "C3"
    meta = workbook[META]
    assert meta.sheet_state == "hidden"
    assert {r[0].value: r[1].value for r in meta.iter_rows()} == {
        "format": layout.FORMAT_NAME,
        "version": layout.FORMAT_VERSION,
        "kind": "table",
        "dataset": None,  # written as "", read back by openpyxl as an empty cell
        "org_unit": "6208",
        "year": str(YEAR),
    }
    notes = cells(workbook, NOTES)
    assert notes[1] == ["年度", YEAR]
    assert "宽表" in " ".join(str(row[0]) for row in notes)


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_table_export_then_import_changes_nothing(cast, catalogue, tmp_path, fmt):
    seed(tmp_path, None, ("620821", "620823"))
    # A float with no short decimal form, and a stored value with a comment but no number.
    exchange.import_file(
        write_csv(
            tmp_path / "more.csv",
            [CSV_HEAD, ["620821", "GDP", YEAR, 1 / 3, ""], ["620823", "GROWTH", YEAR, "", "缺报"]],
        ),
        actor=None,
    )
    path = export_table(tmp_path, cast, "pingliang", None, fmt=fmt)
    before = state()
    report = exchange.import_file(path, actor=None)
    assert (report.layout, report.changed, report.unchanged) == ("table", 0, 11)
    assert state() == before


def test_a_table_of_one_data_set_has_a_column_for_every_member(cast, catalogue, tmp_path, clerk):
    exchange.import_file(write_csv(tmp_path / "in.csv", base.csv_rows(GDP=98.6)), actor=clerk)
    path = export_table(tmp_path, cast, "jingchuan", clerk, dataset=catalogue)
    workbook = openpyxl.load_workbook(path)
    assert cells(workbook)[0][2:] == list(COLUMN)
    assert cells(workbook, NOTES)[2] == ["填报表代码", "COUNTY_ANNUAL"]
    before = state()
    assert exchange.import_file(path, actor=clerk).changed == 0
    assert state() == before


def test_editing_a_table_changes_only_the_edited_cells(cast, catalogue, tmp_path, clerk):
    path = own_table(tmp_path, cast, clerk)

    def edit(workbook: Any) -> None:
        sheet = workbook[TABLE]
        sheet[f"{COLUMN['GDP']}3"] = 101.5
        sheet[f"{COLUMN['HT_ENT']}3"] = None  # blank: the stored value stays
        sheet[f"{COLUMN['RD_EXP']}3"] = "  "

    report = exchange.import_file(edit_workbook(path, edit), actor=clerk)
    assert (report.changed, report.unchanged) == (1, 3)
    values = stored(cast.unit("jingchuan"))
    # No comment column: the stored comment is kept.
    assert values["GDP"] == (101.5, HYPERLINK)
    assert values["HT_ENT"] == (12, "统计公报")
    assert values["RD_EXP"] == (1.25, "统计公报")


def test_a_table_written_by_openpyxl_imports(cast, catalogue, tmp_path, clerk):
    path = handmade(
        tmp_path / "省统计局.xlsx",
        [HEAD, NAMES, [620821, "泾川县", 98.6, "12", None], [None, None, None, None, None]],
    )
    report = exchange.import_file(path, actor=clerk)
    assert (report.layout, report.values, report.changed, report.years) == ("table", 2, 2, [YEAR])
    assert stored(cast.unit("jingchuan")) == {"GDP": (98.6, ""), "HT_ENT": (12, "")}


@pytest.mark.parametrize(
    ("encoding", "prefix"),
    [("utf-8", codecs.BOM_UTF8), ("gbk", b"")],
    ids=["utf8-bom", "gbk"],
)
def test_wide_csv_imports(cast, catalogue, tmp_path, encoding, prefix):
    rows = [
        ["单位代码", "单位名称", "年度", "GDP", "HT_ENT", "RD_EXP"],
        ["620821", "泾川县", YEAR, "98.6", "12", ""],
        ["620823", "崇信县", YEAR, "45", "", "0.5"],
    ]
    path = write_csv(tmp_path / "宽表.csv", rows, encoding)
    path.write_bytes(prefix + path.read_bytes())
    report = exchange.import_file(path, actor=None)
    assert (report.format, report.layout, report.changed, report.units) == ("csv", "table", 4, 2)
    assert stored(cast.unit("jingchuan")) == {"GDP": (98.6, ""), "HT_ENT": (12, "")}
    assert stored(cast.unit("chongxin")) == {"GDP": (45, ""), "RD_EXP": (0.5, "")}


def test_wide_csv_with_english_titles_and_several_years(cast, catalogue, tmp_path, clerk):
    rows = [
        ["org_code", "year", "GDP"],
        ["620821", YEAR - 1, "90"],
        ["620821", YEAR, "98.6"],
    ]
    report = exchange.import_file(write_csv(tmp_path / "w.csv", rows), actor=clerk)
    assert (report.changed, report.years) == (2, [YEAR - 1, YEAR])


def test_a_long_csv_is_still_read_as_long(cast, catalogue, tmp_path, clerk):
    parsed = read_file(write_csv(tmp_path / "long.csv", base.csv_rows(GDP=1)))
    assert (parsed.layout, parsed.indicator_columns) == ("csv", {})
    # A long CSV that lost its indicator column is not taken for a table.
    bad = write_csv(tmp_path / "bad.csv", [["org_code", "year", "value"], ["620821", YEAR, "1"]])
    assert "缺少列「indicator_code」" in read_file(bad).problems[0].message


def test_writer_neutralises_formulas_and_takes_columns_from_rows():
    rows = [
        ExportRow("620821", "=cmd|' /C calc'!A0", "GDP", "地区生产总值", "亿元", YEAR, 1.5, "", ""),
        ExportRow("620823", "崇信县", "HT_ENT", "高新技术企业数", "家", YEAR, 3.0, "", ""),
        ExportRow("620821", "泾川县", "HT_ENT", "高新技术企业数", "家", YEAR, 2.0, "", ""),
    ]
    workbook = openpyxl.load_workbook(io.BytesIO(write_table("xlsx", rows, year=YEAR)))
    assert cells(workbook) == [
        ["单位代码", "单位名称", "GDP", "HT_ENT"],
        ["指标名称", "（计量单位）", "地区生产总值（亿元）", "高新技术企业数（家）"],
        ["620821", "'=cmd|' /C calc'!A0", 1.5, 2],
        ["620823", "崇信县", None, 3],
    ]
    assert workbook[TABLE]["B3"].data_type == "s"
    text = write_table("csv", rows, year=YEAR).decode("utf-8-sig")
    assert text.splitlines()[:2] == [
        "org_code,org_name,year,GDP,HT_ENT",
        "620821,'=cmd|' /C calc'!A0,2023,1.5,2",
    ]
    # Given columns come in their order, even without a value.
    columns = [
        TableColumn("HT_ENT", "高新技术企业数", "家"),
        TableColumn("GDP", "地区生产总值", "亿元"),
        TableColumn("RD_EXP", "研发经费支出", "亿元"),
    ]
    text = write_table("csv", rows, year=YEAR, columns=columns).decode("utf-8-sig")
    assert text.splitlines()[:2] == [
        "org_code,org_name,year,HT_ENT,GDP,RD_EXP",
        "620821,'=cmd|' /C calc'!A0,2023,2,1.5,",
    ]
    with pytest.raises(ValueError, match="json"):
        write_table("json", rows, year=YEAR)


def test_export_refuses_a_table_as_json_and_unknown_layouts(cast, catalogue):
    unit = cast.unit("jingchuan")
    with pytest.raises(InvalidInput):
        exchange.export_values(unit, YEAR, actor=None, fmt="json", layout="table")
    with pytest.raises(InvalidInput):
        exchange.export_values(unit, YEAR, actor=None, fmt="xlsx", layout="wide")


def test_command_exports_and_imports_a_table(cast, catalogue, tmp_path):
    seed(tmp_path, None, ("620821", "620823"))
    path = tmp_path / "平凉市.xlsx"
    out = io.StringIO()
    call_command(
        "data",
        "export",
        "--org",
        "6208",
        "--year",
        str(YEAR),
        "--layout",
        "table",
        "-o",
        str(path),
        stdout=out,
    )
    assert "宽表" in out.getvalue()
    assert openpyxl.load_workbook(path).sheetnames[0] == TABLE
    out = io.StringIO()
    call_command("data", "import", str(path), stdout=out)
    assert "12 个数值（2 个单位，2023 年度），更改 0 个，未变 12 个" in out.getvalue()
    with pytest.raises(CommandError, match="layout"):
        call_command(
            "data",
            "export",
            "--org",
            "6208",
            "--year",
            str(YEAR),
            "--layout",
            "long",
            "-o",
            str(path),
        )


def test_a_locked_submission_names_the_first_changed_cell(cast, catalogue, tmp_path, clerk):
    submit_for_review(cast, catalogue, approve=True)
    path = export_table(tmp_path, cast, "jingchuan", clerk)

    def edit(workbook: Any) -> None:
        workbook[TABLE][f"{COLUMN['GDP']}3"] = 99.9
        workbook[TABLE][f"{COLUMN['HT_ENT']}3"] = 13

    edit_workbook(path, edit)
    before = state()
    problems = import_problems(path, clerk)
    assert [str(p) for p in problems] == [
        f"table.xlsx:{TABLE}:3:{COLUMN['GDP']}: 「泾川县」2023 年的填报（县域科技创新年报）已审定，"
        "数值已锁定，不能修改第 3 行的数值；如需修改，请先由审核单位退回。"
    ]
    assert state() == before


# ---------------------------------------------------------------- the bad-table corpus


def _set(cell: str, value: Any, sheet: str = TABLE) -> Callable[[Any], None]:
    def edit(workbook: Any) -> None:
        workbook[sheet][cell] = value

    return edit


def _set_meta(key: str, value: str | None) -> Callable[[Any], None]:
    def edit(workbook: Any) -> None:
        for row in workbook[META].iter_rows():
            if row[0].value == key:
                row[1].value = value

    return edit


def _drop_meta(key: str) -> Callable[[Any], None]:
    def edit(workbook: Any) -> None:
        sheet = workbook[META]
        for row in sheet.iter_rows():
            if row[0].value == key:
                sheet.delete_rows(row[0].row)
                return

    return edit


def _copy_row(source: int, target: int) -> Callable[[Any], None]:
    def edit(workbook: Any) -> None:
        sheet = workbook[TABLE]
        for cell in sheet[source]:
            sheet.cell(row=target, column=cell.column, value=cell.value)

    return edit


C, E, F = COLUMN["RD_EXP"], COLUMN["GDP"], COLUMN["HT_ENT"]


def _add_sibling(workbook: Any) -> None:
    sheet = workbook[TABLE]
    sheet["A4"], sheet["B4"], sheet[f"{E}4"] = "620823", "崇信县", 1


def _add_derived(workbook: Any) -> None:
    sheet = workbook[TABLE]
    sheet["I1"], sheet["I3"] = "RD_GDP", 1.3


# id → (edit of the exported table, expected place (sheet, row, column), exact message or part)
TABLE_CORPUS: dict[str, tuple[Callable[[Any], None], tuple[Any, Any, Any], str]] = {
    "unknown-indicator-in-header": (
        _set(f"{E}1", "GDPX"),
        (TABLE, 1, E),
        "表头的指标代码「GDPX」不存在（第 1 行应为指标代码，不是指标名称）。",
    ),
    "indicator-name-instead-of-code": (
        _set(f"{C}1", "研发经费支出"),
        (TABLE, 1, C),
        "表头的指标代码「研发经费支出」不存在",
    ),
    "duplicate-indicator-column": (
        _set(f"{F}1", "GDP"),
        (TABLE, 1, F),
        f"指标代码「GDP」重复（已在 {E} 列）：宽表中每个指标只能占一列。",
    ),
    "duplicate-unit-row": (
        _copy_row(3, 4),
        (TABLE, 4, "A"),
        "单位代码「620821」与第 3 行重复：宽表中每个单位只能占一行。",
    ),
    "text-in-number": (
        _set(f"{E}3", "约100亿"),
        (TABLE, 3, E),
        "「地区生产总值」应为数字，填的是「约100亿」（不要带单位、逗号或文字）。",
    ),
    "negative-count": (
        _set(f"{F}3", -3),
        (TABLE, 3, F),
        "「高新技术企业数」不能小于 0，填的是 -3。",
    ),
    "fractional-count": (_set(f"{F}3", 2.5), (TABLE, 3, F), "应为整数"),
    "unknown-unit": (
        _set("A3", "629999"),
        (TABLE, 3, "A"),
        "单位代码「629999」不存在，或不在您可以填报的范围内。",
    ),
    "sibling-unit": (
        _add_sibling,
        (TABLE, 4, "A"),
        "单位代码「620823」不存在，或不在您可以填报的范围内。",
    ),
    "values-without-unit-code": (_set("A3", None), (TABLE, 3, "A"), "缺少单位代码。"),
    "missing-year-in-meta": (
        _set_meta("year", None),
        (META, 6, "B"),
        "宽表缺少年度：隐藏工作表「_meta」中应有 year 一行",
    ),
    "no-year-row-in-meta": (_drop_meta("year"), (META, None, None), "宽表缺少年度"),
    "bad-year-in-meta": (_set_meta("year", "2023年"), (META, 6, "B"), "年度应为四位数字"),
    "year-changed-in-instructions": (
        _set("B2", 2022, NOTES),
        (NOTES, 2, "B"),
        "「2022」与文件生成时的「2023」不一致",
    ),
    "unknown-dataset-in-meta": (
        _set_meta("dataset", "NO_SUCH"),
        (META, 4, "B"),
        "填报表代码「NO_SUCH」不存在。",
    ),
    "formula-in-a-cell": (_set(f"{E}3", "=1+2"), (TABLE, 3, E), "公式"),
    "extra-sheet": (lambda wb: wb.create_sheet("汇总"), ("汇总", None, None), "多出工作表"),
    "header-row-moved-down": (
        lambda wb: wb[TABLE].insert_rows(1),
        (TABLE, 1, "A"),
        "列标题应为「单位代码」，实际为「」",
    ),
    "column-inserted-before-codes": (
        lambda wb: wb[TABLE].insert_cols(1),
        (TABLE, 1, "A"),
        "列标题应为「单位代码」",
    ),
    "names-row-deleted": (
        lambda wb: wb[TABLE].delete_rows(2),
        (TABLE, 2, "A"),
        "第 2 行是指标名称行，此处应为「指标名称」，实际为「620821」",
    ),
    "value-under-a-blank-header": (
        _set("J3", 5),
        (TABLE, 3, "J"),
        "该列第 1 行没有指标代码，却有 1 个单元格有内容（第 3 行）",
    ),
    "merged-cells": (
        lambda wb: wb[TABLE].merge_cells(f"{E}3:{F}3"),
        (TABLE, 3, E),
        "合并单元格",
    ),
    "derived-indicator-filled-in": (
        _add_derived,
        (TABLE, 3, "I"),
        "派生指标",
    ),
}


@pytest.mark.parametrize("case", list(TABLE_CORPUS), ids=list(TABLE_CORPUS))
def test_bad_table_is_refused_with_its_place_and_changes_nothing(
    cast, catalogue, tmp_path, clerk, case
):
    edit, place, message = TABLE_CORPUS[case]
    path = own_table(tmp_path, cast, clerk)
    rows = cells(openpyxl.load_workbook(path))
    assert rows[0][2:] == list(COLUMN)
    assert rows[2][0] == "620821"
    edit_workbook(path, edit)
    before = state()
    problems = import_problems(path, clerk)
    assert place in places(problems), [str(p) for p in problems]
    sheet, row, column = place
    at = f"table.xlsx:{sheet}:{'-' if row is None else row}:{column or '-'}: "
    assert any(str(p).startswith(at) and message in p.message for p in problems), [
        str(p) for p in problems
    ]
    assert state() == before


def test_an_unknown_code_over_a_blank_column_is_still_a_problem(cast, catalogue, tmp_path, clerk):
    path = handmade(tmp_path / "t.xlsx", [[*HEAD, "NO_SUCH"], [*NAMES, "？"], ["620821", "", 1]])
    before = state()
    problems = import_problems(path, clerk)
    assert [str(p) for p in problems] == [
        "t.xlsx:数据表:1:F: 表头的指标代码「NO_SUCH」不存在（第 1 行应为指标代码，不是指标名称）。"
    ]
    assert state() == before


def test_a_unit_with_many_bad_values_is_one_problem_per_cell(cast, catalogue, tmp_path, clerk):
    path = handmade(
        tmp_path / "t.xlsx", [HEAD, NAMES, ["629999", "", 1, 2, 3], ["620821", "", "x", -1, "y"]]
    )
    problems = import_problems(path, clerk)
    assert [str(p) for p in problems] == [
        "t.xlsx:数据表:3:A: 单位代码「629999」不存在，或不在您可以填报的范围内。",
        "t.xlsx:数据表:4:C: 「地区生产总值」应为数字，填的是「x」（不要带单位、逗号或文字）。",
        "t.xlsx:数据表:4:D: 「高新技术企业数」不能小于 0，填的是 -1。",
        "t.xlsx:数据表:4:E: 「研发经费支出」应为数字，填的是「y」（不要带单位、逗号或文字）。",
    ]
    assert DataValue.objects.count() == 0


def test_a_table_without_meta_names_the_missing_sheet(cast, catalogue, tmp_path, clerk):
    path = handmade(tmp_path / "t.xlsx", [HEAD, NAMES, ["620821", "", 1]])
    edit_workbook(path, lambda wb: wb.remove(wb[META]))
    problems = import_problems(path, clerk)
    assert {(p.sheet, p.message[:6]) for p in problems} == {
        (META, "缺少工作表「"),
        (META, "宽表缺少年度"),
    }


WIDE_CSV_CORPUS: dict[str, tuple[list[list[Any]], tuple[Any, Any], str]] = {
    "no-year-column": (
        [["单位代码", "GDP"], ["620821", "1"]],
        (1, None),
        "宽表 CSV 缺少年度列",
    ),
    "unknown-indicator-in-header": (
        [["单位代码", "年度", "GDP", "NOPE"], ["620821", YEAR, "1", ""]],
        (1, "D"),
        "表头的指标代码「NOPE」不存在",
    ),
    "duplicate-indicator-column": (
        [["单位代码", "年度", "GDP", "GDP"], ["620821", YEAR, "1", "2"]],
        (1, "D"),
        "指标代码「GDP」重复（已在 C 列）",
    ),
    "duplicate-unit-row": (
        [["单位代码", "年度", "GDP"], ["620821", YEAR, "1"], ["620821", YEAR, "2"]],
        (3, "A"),
        "单位代码「620821」2023 年与第 2 行重复",
    ),
    "text-in-number": (
        [["单位代码", "年度", "GDP", "HT_ENT"], ["620821", YEAR, "1", "十二"]],
        (2, "D"),
        "「高新技术企业数」应为数字，填的是「十二」",
    ),
    "negative-count": (
        [["单位代码", "年度", "GDP", "HT_ENT"], ["620821", YEAR, "1", "-2"]],
        (2, "D"),
        "不能小于 0",
    ),
    "bad-year": (
        [["单位代码", "年度", "GDP", "HT_ENT"], ["620821", "23", "1", "2"]],
        (2, "B"),
        "年度应为四位数字的年份（如 2023），填的是「23」。",
    ),
    "unknown-unit": (
        [["单位代码", "年度", "GDP", "HT_ENT"], ["629999", YEAR, "1", "2"]],
        (2, "A"),
        "单位代码「629999」不存在，或不在您可以填报的范围内。",
    ),
    "cell-beyond-the-header": (
        [["单位代码", "年度", "GDP"], ["620821", YEAR, "1", "多余"]],
        (2, "D"),
        "该列第 1 行没有指标代码",
    ),
}


@pytest.mark.parametrize("case", list(WIDE_CSV_CORPUS), ids=list(WIDE_CSV_CORPUS))
def test_bad_wide_csv_is_refused_with_its_place_and_changes_nothing(
    cast, catalogue, tmp_path, clerk, case
):
    seed(tmp_path, clerk)
    rows, place, message = WIDE_CSV_CORPUS[case]
    path = write_csv(tmp_path / "w.csv", rows)
    before = state()
    problems = import_problems(path, clerk)
    assert place in {(p.row, p.column) for p in problems}, [str(p) for p in problems]
    assert any(message in p.message for p in problems), [str(p) for p in problems]
    assert all(str(p).startswith("w.csv:-:") for p in problems)
    assert state() == before

"""Exports: values as .xlsx (the values layout), CSV or DHIS2 dataValueSets JSON (no database),
and one year as a wide table (宽表: a row per unit, a column per indicator) in .xlsx or CSV.

Every text cell is neutralised (``layout.neutralise``): a comment such as
``=HYPERLINK("http://x","y")`` leaves as ``'=HYPERLINK(…)``, which a
spreadsheet shows as text and never runs; the reader strips the quote again,
so an export imports back unchanged. Numbers are written as the shortest
text that reads back as the same float.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple

from django.utils.translation import gettext as _
from openpyxl import Workbook

from kechuang.indicators.exchange import layout
from kechuang.indicators.exchange.layout import format_number, neutralise

FORMATS = ("xlsx", "csv", "json")
LAYOUTS = (layout.KIND_VALUES, layout.KIND_TABLE)
TABLE_FORMATS = ("xlsx", "csv")


class ExportRow(NamedTuple):
    org_code: str
    org_name: str
    indicator_code: str
    indicator_name: str
    unit: str
    year: int
    value: float | None
    comment: str
    dataset: str


class TableColumn(NamedTuple):
    """An indicator column of the wide table: its code (row 1), name and unit (row 2)."""

    code: str
    name: str
    unit: str


def write_values(
    fmt: str,
    rows: Iterable[ExportRow],
    *,
    dataset: str | None = None,
    org_unit: str = "",
    year: int | None = None,
) -> bytes:
    """The rows as a file of format ``fmt`` (xlsx, csv or json)."""
    if fmt == "xlsx":
        return values_workbook(rows, dataset=dataset, org_unit=org_unit, year=year)
    if fmt == "csv":
        return values_csv(rows)
    if fmt == "json":
        return values_json(rows, dataset=dataset)
    raise ValueError(_("不支持的导出格式「%(fmt)s」（可用：xlsx、csv、json）") % {"fmt": fmt})


def workbook_bytes(workbook: Workbook) -> bytes:
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def values_workbook(
    rows: Iterable[ExportRow],
    *,
    dataset: str | None = None,
    org_unit: str = "",
    year: int | None = None,
) -> bytes:
    """The values layout: one value per row, any number of units (write-only: large exports)."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(layout.VALUES_SHEET)
    sheet.freeze_panes = "A2"
    for column, width in zip("ABCDEFGHI", (12, 16, 16, 34, 10, 8, 14, 36, 14), strict=True):
        sheet.column_dimensions[column].width = width
    sheet.append(list(layout.VALUES_HEADERS))
    append = sheet.append
    for row in rows:
        append(
            [
                neutralise(row.org_code),
                neutralise(row.org_name),
                neutralise(row.indicator_code),
                neutralise(row.indicator_name),
                neutralise(row.unit),
                row.year,
                row.value,
                neutralise(row.comment) if row.comment else None,
                neutralise(row.dataset),
            ]
        )
    notes = workbook.create_sheet(layout.INSTRUCTIONS_SHEET)
    notes.append([_("说明")])
    for line in (
        _("「数据」表每行一个数值：单位代码、指标代码、年度确定一个数值；名称和计量单位仅供阅读。"),
        _(
            "本文件可修改「数值」「说明」后重新导入（kechuang data import 或网页上传）；"
            "可增删行，但请勿修改列标题、增加工作表或使用公式。"
        ),
        _("以 ' 开头的文字是为防止表格软件把它当作公式执行而加的，导入时会自动去掉。"),
    ):
        notes.append([line])
    meta = workbook.create_sheet(layout.META_SHEET)
    for key, value in (
        ("format", layout.FORMAT_NAME),
        ("version", layout.FORMAT_VERSION),
        ("kind", layout.KIND_VALUES),
        ("dataset", dataset or ""),
        ("org_unit", org_unit),
        ("year", "" if year is None else str(year)),
    ):
        meta.append([key, value])
    meta.sheet_state = "hidden"
    return workbook_bytes(workbook)


def values_csv(rows: Iterable[ExportRow]) -> bytes:
    """UTF-8 with a BOM, so that Excel on Chinese Windows opens it with the right characters."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(layout.CSV_EXPORT_COLUMNS)
    for row in rows:
        writer.writerow(
            (
                neutralise(row.org_code),
                neutralise(row.indicator_code),
                row.year,
                format_number(row.value),
                neutralise(row.comment),
                neutralise(row.dataset),
                neutralise(row.org_name),
                neutralise(row.indicator_name),
                neutralise(row.unit),
            )
        )
    return buffer.getvalue().encode("utf-8-sig")


def values_json(rows: Iterable[ExportRow], *, dataset: str | None = None) -> bytes:
    """DHIS2 ``dataValueSets``: period is the year, value a string, as DHIS2 writes them."""
    items: list[dict[str, Any]] = []
    for row in rows:
        item: dict[str, Any] = {
            "dataElement": row.indicator_code,
            "period": str(row.year),
            "orgUnit": row.org_code,
            "value": format_number(row.value),
        }
        if row.comment:
            item["comment"] = neutralise(row.comment)
        if not dataset and row.dataset:
            item["dataSet"] = row.dataset
        items.append(item)
    document: dict[str, Any] = {"dataSet": dataset} if dataset else {}
    document["dataValues"] = items
    return json.dumps(document, ensure_ascii=False, indent=1).encode("utf-8")


# ---------------------------------------------------------------- the wide table (宽表)


def write_table(
    fmt: str,
    rows: Iterable[ExportRow],
    *,
    year: int,
    columns: Sequence[TableColumn] | None = None,
    dataset: str | None = None,
    org_unit: str = "",
) -> bytes:
    """The ``year`` rows as a wide table: one row per unit, one column per indicator.

    ``columns`` are the indicator columns in order (an indicator may have no
    value at all); by default, the indicators of ``rows`` as they first appear.
    Units come in the order of their first row. Comments have no place in the
    table and are left out (an import keeps the stored ones).
    """
    if fmt not in TABLE_FORMATS:
        raise ValueError(_("宽表只能导出为 xlsx 或 csv，不支持「%(fmt)s」。") % {"fmt": fmt})
    columns, units = _pivot(rows, year, columns)
    if fmt == "xlsx":
        return table_workbook(columns, units, year=year, dataset=dataset, org_unit=org_unit)
    return table_csv(columns, units, year=year)


def _pivot(
    rows: Iterable[ExportRow], year: int, columns: Sequence[TableColumn] | None
) -> tuple[list[TableColumn], dict[str, tuple[str, list[float | None]]]]:
    """The columns, and unit code → (unit name, one cell per column)."""
    given = columns is not None
    found: list[TableColumn] = list(columns or ())
    position = {column.code: index for index, column in enumerate(found)}
    units: dict[str, tuple[str, list[float | None]]] = {}
    for row in rows:
        if row.year != year:
            raise ValueError(f"a {row.year} value in the {year} table")
        at = position.get(row.indicator_code)
        if at is None:
            if given:
                raise ValueError(f"no column for indicator {row.indicator_code}")
            at = position[row.indicator_code] = len(found)
            found.append(TableColumn(row.indicator_code, row.indicator_name, row.unit))
            for _name, cells in units.values():
                cells.append(None)
        unit = units.get(row.org_code)
        if unit is None:
            unit = units[row.org_code] = (row.org_name, [None] * len(found))
        unit[1][at] = row.value
    return found, units


def table_workbook(
    columns: Sequence[TableColumn],
    units: dict[str, tuple[str, list[float | None]]],
    *,
    year: int,
    dataset: str | None = None,
    org_unit: str = "",
) -> bytes:
    """The table layout (write-only: a national table has 2,900 rows)."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(layout.TABLE_SHEET)
    sheet.freeze_panes = (
        f"{layout.column_letter(layout.TABLE_FIRST_INDICATOR)}{layout.TABLE_FIRST_ROW}"
    )
    sheet.column_dimensions[layout.TB_ORG].width = 12
    sheet.column_dimensions[layout.TB_ORG_NAME].width = 16
    for index in range(len(columns)):
        letter = layout.column_letter(layout.TABLE_FIRST_INDICATOR + index)
        sheet.column_dimensions[letter].width = 16
    sheet.append([*layout.TABLE_HEADERS, *(neutralise(c.code) for c in columns)])
    sheet.append(
        [
            *layout.TABLE_NAME_LABELS,
            *(neutralise(layout.table_name(c.name, c.unit)) for c in columns),
        ]
    )
    append = sheet.append
    for code, (name, cells) in units.items():
        append([neutralise(code), neutralise(name), *cells])
    notes = workbook.create_sheet(layout.INSTRUCTIONS_SHEET)
    notes.column_dimensions["A"].width = 14
    notes.column_dimensions["B"].width = 16
    notes.append([_("说明")])
    # The reader compares these two with _meta: the year cannot be changed here by mistake.
    notes.append([layout.TABLE_NOTES_YEAR, year])
    notes.append([layout.TABLE_NOTES_DATASET, neutralise(dataset or "")])
    for line in (
        _(
            "「数据表」是宽表：每行一个单位，每列一个指标。第 1 行是单位代码、单位名称和各指标的"
            "指标代码；第 2 行是指标名称和计量单位，仅供阅读；从第 3 行起每行填写一个单位。"
        ),
        _(
            "表中所有数值都属于上面的年度（和填报表）。年度以生成文件时为准，不能在本文件中修改；"
            "其他年度请另行导出。"
        ),
        _(
            "空白单元格表示不修改该项，已有的数值保持不变；如需清除某个数值，"
            "请使用填报模板或逐行格式（每行一个数值）的文件。宽表没有说明列，导入时保留已有说明。"
        ),
        _(
            "可以修改数值、增删单位行或指标列（第 1 行填写指标代码）后重新导入"
            "（kechuang data import 或网页上传）；每个单位只能占一行，每个指标只能占一列；"
            "请勿修改表头、合并单元格、增加工作表或使用公式。"
        ),
        _("以 ' 开头的文字是为防止表格软件把它当作公式执行而加的，导入时会自动去掉。"),
    ):
        notes.append([line])
    meta = workbook.create_sheet(layout.META_SHEET)
    for key, value in (
        ("format", layout.FORMAT_NAME),
        ("version", layout.FORMAT_VERSION),
        ("kind", layout.KIND_TABLE),
        ("dataset", dataset or ""),
        ("org_unit", org_unit),
        ("year", str(year)),
    ):
        meta.append([key, value])
    meta.sheet_state = "hidden"
    return workbook_bytes(workbook)


def table_csv(
    columns: Sequence[TableColumn],
    units: dict[str, tuple[str, list[float | None]]],
    *,
    year: int,
) -> bytes:
    """The wide CSV: org_code, org_name, year, then one column per indicator code (UTF-8, BOM)."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([*layout.CSV_TABLE_EXPORT_COLUMNS, *(neutralise(c.code) for c in columns)])
    for code, (name, cells) in units.items():
        writer.writerow([neutralise(code), neutralise(name), year, *map(format_number, cells)])
    return buffer.getvalue().encode("utf-8-sig")

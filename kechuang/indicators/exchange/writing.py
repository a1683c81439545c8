"""Exports: values as .xlsx (the values layout), CSV or DHIS2 dataValueSets JSON (no database).

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
from collections.abc import Iterable
from typing import Any, NamedTuple

from django.utils.translation import gettext as _
from openpyxl import Workbook

from kechuang.indicators.exchange import layout
from kechuang.indicators.exchange.layout import format_number, neutralise

FORMATS = ("xlsx", "csv", "json")


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

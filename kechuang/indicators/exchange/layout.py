"""The shape of every file Kechuang reads and writes: sheet names, headers, columns.

One place for both directions, so the template, the exports and the reader
cannot drift apart (STYLE.md §8.8).

Three workbook layouts:

- **template** (填报表): one org unit, one year, one data set; the unit and
  year in a locked header block (rows 2–3), the column titles in row 5 and one
  row per data-set member from row 6. Only 本年值 (G) and 说明 (H) are open.
- **values** (数据): many units, indicators and years, one value per row,
  titles in row 1. Exports use it; it is also the Excel form of a
  province-wide or national upload.
- **table** (宽表): one year, many units, one column per indicator: the
  indicator codes in row 1 (after 单位代码 and 单位名称), their names and units
  in row 2 (for reading only), one row per unit from row 3. The year and the
  data set are in ``_meta`` (and shown in the instructions sheet). It is how
  statisticians exchange a year of county data, and it holds about a fifth of
  the cells of the values layout for the same data. CSV takes the same shape
  (``org_code``, optional ``org_name``, a ``year`` column, then indicator
  codes).

All three carry a hidden ``_meta`` sheet (key in column A, value in column B)
that says which layout and version the reader is looking at. CSV (long, or
wide as the table) and DHIS2 ``dataValueSets`` JSON (one value per item)
carry any number of units.
"""

from __future__ import annotations

import re
from typing import Any

from kechuang.core.spreadsheets import neutralise_formula, restore_formula_text

FORMAT_NAME = "kechuang-exchange"
FORMAT_VERSION = "1"

KIND_TEMPLATE = "template"
KIND_VALUES = "values"
KIND_TABLE = "table"

TEMPLATE_SHEET = "填报表"
VALUES_SHEET = "数据"
TABLE_SHEET = "数据表"
INSTRUCTIONS_SHEET = "填报说明"
META_SHEET = "_meta"

DATA_SHEET_OF_KIND = {
    KIND_TEMPLATE: TEMPLATE_SHEET,
    KIND_VALUES: VALUES_SHEET,
    KIND_TABLE: TABLE_SHEET,
}
SHEETS_OF_KIND = {
    KIND_TEMPLATE: (TEMPLATE_SHEET, INSTRUCTIONS_SHEET, META_SHEET),
    KIND_VALUES: (VALUES_SHEET, INSTRUCTIONS_SHEET, META_SHEET),
    KIND_TABLE: (TABLE_SHEET, INSTRUCTIONS_SHEET, META_SHEET),
}

# ---------------------------------------------------------------- template layout

TEMPLATE_HEADERS = ("序号", "栏目", "指标代码", "指标名称", "计量单位", "上年值", "本年值", "说明")
TEMPLATE_HEADER_ROW = 5
TEMPLATE_FIRST_ROW = 6
# Column letters of the template's data columns.
T_SECTION, T_CODE, T_NAME, T_UNIT, T_PREVIOUS, T_VALUE, T_COMMENT = (
    "B",
    "C",
    "D",
    "E",
    "F",
    "G",
    "H",
)
# The header block: (row, column) of each label and of the cell holding its value.
T_LABELS = {
    (2, "A"): "单位代码",
    (2, "C"): "单位名称",
    (2, "E"): "年度",
    (3, "A"): "填报表代码",
    (3, "C"): "填报表名称",
    (3, "E"): "截止日期",
}
T_ORG_CELL = (2, "B")
T_YEAR_CELL = (2, "F")
T_DATASET_CELL = (3, "B")

# ---------------------------------------------------------------- values layout

VALUES_HEADERS = (
    "单位代码",
    "单位名称",
    "指标代码",
    "指标名称",
    "计量单位",
    "年度",
    "数值",
    "说明",
    "填报表代码",
)
VALUES_HEADER_ROW = 1
VALUES_FIRST_ROW = 2
V_ORG, V_INDICATOR, V_YEAR, V_VALUE, V_COMMENT, V_DATASET = "A", "C", "F", "G", "H", "I"

# ---------------------------------------------------------------- table layout (宽表)

TABLE_HEADERS = ("单位代码", "单位名称")  # then one indicator code per column
TABLE_HEADER_ROW = 1
TABLE_NAME_ROW = 2
TABLE_FIRST_ROW = 3
# Row 2 of columns A and B: the names row reads "指标名称（计量单位）" across them.
TABLE_NAME_LABELS = ("指标名称", "（计量单位）")
TB_ORG, TB_ORG_NAME = "A", "B"
TABLE_FIRST_INDICATOR = len(TABLE_HEADERS)  # index of column C
# The instructions sheet shows the year and the data set in column B, labelled in column A.
TABLE_NOTES_YEAR, TABLE_NOTES_DATASET = "年度", "填报表代码"


def table_name(name: str, unit: str) -> str:
    """What row 2 shows above an indicator's column: 研发经费支出（亿元）."""
    return f"{name}（{unit}）" if unit else name


# ---------------------------------------------------------------- CSV

CSV_REQUIRED = ("org_code", "indicator_code", "year", "value")
CSV_OPTIONAL = ("comment", "dataset", "org_name", "indicator_name", "unit")
CSV_EXPORT_COLUMNS = (*CSV_REQUIRED, "comment", "dataset", "org_name", "indicator_name", "unit")
# Chinese titles a clerk may use instead (the values layout's headers).
CSV_ALIASES = {
    "单位代码": "org_code",
    "指标代码": "indicator_code",
    "年度": "year",
    "数值": "value",
    "本年值": "value",
    "说明": "comment",
    "填报表代码": "dataset",
    "单位名称": "org_name",
    "指标名称": "indicator_name",
    "计量单位": "unit",
}
# A header with an org column, no indicator column and no value column is a wide CSV
# (the table's shape): the other columns are indicator codes.
CSV_TABLE_FIXED = ("org_code", "org_name", "year", "dataset")
CSV_TABLE_EXPORT_COLUMNS = ("org_code", "org_name", "year")

# ---------------------------------------------------------------- DHIS2 dataValueSets JSON

JSON_FIELDS = {
    "org": "orgUnit",
    "indicator": "dataElement",
    "year": "period",
    "value": "value",
    "comment": "comment",
    "dataset": "dataSet",
}

# What the template shows in 本年值 of a derived indicator (read back as "no value").
DERIVED_MARK = "（系统计算）"

YEAR_MIN, YEAR_MAX = 1949, 2100
MAX_COMMENT_LENGTH = 2000

# ---------------------------------------------------------------- cells

_ILLEGAL_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def neutralise(text: str) -> str:
    """Text safe for a cell: no XML-illegal characters, formulas neutralised (core.spreadsheets)."""
    return neutralise_formula(_ILLEGAL_XML.sub("", text))


restore = restore_formula_text


def column_letter(index: int) -> str:
    """0 → A, 25 → Z, 26 → AA."""
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters


def column_index(letter: str) -> int:
    """A → 0."""
    index = 0
    for char in letter:
        index = index * 26 + ord(char) - 64
    return index - 1


def cell_text(value: Any) -> str:
    """A cell as text: numbers typed into code cells (620821 → "620821") lose their ".0"."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def comment_text(value: Any) -> str:
    """A 说明 cell as text, kept exactly as typed (only a numeric cell loses its ".0")."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return restore(str(value))


def format_number(value: float | None) -> str:
    """The shortest text that reads back as the same float ("12", "0.1", "1e-07")."""
    if value is None:
        return ""
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(value)

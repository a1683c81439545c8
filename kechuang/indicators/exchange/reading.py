"""Reading an uploaded .xlsx, .csv or DHIS2 .json file into raw rows (no database here).

The reader refuses what it cannot read safely before parsing anything: files
over ``MAX_FILE_BYTES``, anything that is not really an xlsx, zip bombs (the
declared sizes and the actual decompressed bytes are both checked), XML with a
DOCTYPE. It then checks the workbook's structure (sheets, header block,
column titles, merged cells, formulas) and turns each data row into a
``RawValue``. Codes, numbers and years are judged later, against the
catalogue, by ``validate.py``. Every problem is collected with its place.
"""

from __future__ import annotations

import codecs
import csv
import gc
import io
import json
import re
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from defusedxml import ElementTree
from django.utils.translation import gettext as _
from python_calamine import CalamineError, CalamineWorkbook

from kechuang.indicators.exchange import layout
from kechuang.indicators.exchange.layout import cell_text, column_letter, comment_text
from kechuang.indicators.exchange.problems import ImportProblem, row_ranges

MAX_FILE_BYTES = 20 * 1024 * 1024
MAX_UNCOMPRESSED_BYTES = 256 * 1024 * 1024
# Real workbooks compress 5–30×; a bomb compresses thousands of times.
MAX_COMPRESSION_RATIO = 100
MAX_ZIP_MEMBERS = 1000
# A formula problem per cell is useful up to a point; past it, one more line says how many.
MAX_FORMULA_PROBLEMS = 200
CHUNK = 1 << 20

FORMATS = {".xlsx": "xlsx", ".csv": "csv", ".json": "json"}
# Start tag of a formula (<f>, <f t="shared" …/>, <x:f>), never <formula1> or <font>.
FORMULA_TAG = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?f[\s>/]")
DTD = re.compile(rb"<!(?:DOCTYPE|ENTITY)")
# How many rows of the instructions sheet may hold a wide table's visible year and data set.
NOTES_ROWS = 20
SPREADSHEET_NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
RELATIONSHIP_NS = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
PACKAGE_RELS_NS = "{http://schemas.openxmlformats.org/package/2006/relationships}"


@dataclass(slots=True)
class RawValue:
    """One value as the file has it: codes as text, year and value as the cell held them."""

    row: int
    org_code: str
    indicator_code: str
    year: Any
    value: Any
    comment: str | None  # None: the file has no comment column (keep the stored one)
    dataset_code: str | None = None


@dataclass
class ParsedFile:
    """What a file held, where each field came from, and what was wrong with its structure."""

    file: str
    format: str = ""  # xlsx | csv | json
    layout: str = ""  # template | values | table | csv | json
    sheet: str | None = None
    # field ("org", "indicator", "year", "value", "comment", "dataset") → column of each row
    columns: dict[str, str] = field(default_factory=dict)
    # field → the one cell it comes from for every row (the template's header block)
    fixed: dict[str, tuple[int, str]] = field(default_factory=dict)
    # field → the sheet of its fixed cell when that is not ``sheet`` (a table's year is in _meta)
    fixed_sheets: dict[str, str] = field(default_factory=dict)
    # A wide table: indicator code → its column. A problem with the indicator names the
    # header cell, a problem with a value the value's own cell (row, that column).
    indicator_columns: dict[str, str] = field(default_factory=dict)
    values: list[RawValue] = field(default_factory=list)
    problems: list[ImportProblem] = field(default_factory=list)
    encoding: str = ""
    dataset_code: str | None = None

    def add(
        self,
        row: int | None,
        column: str | None,
        message: str,
        *,
        sheet: str | None = None,
    ) -> None:
        self.problems.append(ImportProblem(self.file, sheet or self.sheet, row, column, message))

    def place(
        self, field_name: str, row: int, indicator: str | None = None
    ) -> tuple[int | None, str | None]:
        """Where ``field_name`` of the value of ``indicator`` read from ``row`` sits in the file."""
        if field_name in self.fixed:
            return self.fixed[field_name]
        if indicator is not None and self.indicator_columns:
            column = self.indicator_columns.get(indicator)
            if column is not None:
                if field_name == "indicator":
                    return layout.TABLE_HEADER_ROW, column
                if field_name == "value":
                    return row, column
        return row, self.columns.get(field_name)

    def problem(
        self, field_name: str, row: int, message: str, *, indicator: str | None = None
    ) -> ImportProblem:
        at_row, column = self.place(field_name, row, indicator)
        sheet = self.fixed_sheets.get(field_name) if field_name in self.fixed else None
        return ImportProblem(self.file, sheet or self.sheet, at_row, column, message)


def read_file(path: str | Path, *, name: str | None = None) -> ParsedFile:
    """Every value in the file at ``path``, and every structural problem found on the way."""
    path = Path(path)
    parsed = ParsedFile(file=name or path.name)
    suffix = Path(parsed.file).suffix.lower() or path.suffix.lower()
    parsed.format = FORMATS.get(suffix, "")
    if not parsed.format:
        hint = _("，请另存为 .xlsx") if suffix in (".xls", ".et", ".ods", ".xlsm") else ""
        parsed.add(
            None,
            None,
            _("不支持的文件类型「%(suffix)s」：只能导入 .xlsx、.csv 或 .json 文件%(hint)s")
            % {"suffix": suffix or _("无扩展名"), "hint": hint},
        )
        return parsed
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        parsed.add(None, None, _("文件不存在。"))
        return parsed
    except OSError as error:
        parsed.add(None, None, _("无法打开文件：%(error)s") % {"error": error.strerror})
        return parsed
    if size == 0:
        parsed.add(None, None, _("文件是空的（0 字节）。"))
        return parsed
    if size > MAX_FILE_BYTES:
        _too_large(parsed, size)
        return parsed
    with _collector_paused():
        if parsed.format == "xlsx":
            _read_xlsx(path, parsed)
        else:
            with path.open("rb") as stream:
                data = stream.read(MAX_FILE_BYTES + 1)  # the file may have grown since stat()
            if len(data) > MAX_FILE_BYTES:
                _too_large(parsed, len(data))
                return parsed
            if parsed.format == "csv":
                _read_csv(data, parsed)
            else:
                _read_json(data, parsed)
    if not parsed.problems and not parsed.values:
        parsed.add(None, None, _("文件中没有数据行。"))
    return parsed


@contextmanager
def _collector_paused() -> Iterator[None]:
    """No cyclic garbage collection while a file is read.

    A national file makes some 170,000 values that all survive: the collector
    would run every few hundred of them and rescan the survivors, which more
    than doubles the time of building them (240 ms against 90 ms for a
    national table). Reading makes next to no reference cycles, so there is
    next to nothing for the skipped collections to have found.
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def _too_large(parsed: ParsedFile, size: int) -> None:
    parsed.add(
        None,
        None,
        _("文件过大（%(size).1f MB），上限为 %(limit)d MB：请按市或县拆分后分别导入。")
        % {"size": size / 1024 / 1024, "limit": MAX_FILE_BYTES // 1024 // 1024},
    )


# ---------------------------------------------------------------- xlsx: the package


def _read_xlsx(path: Path, parsed: ParsedFile) -> None:
    parsed.layout = layout.KIND_TEMPLATE
    if not zipfile.is_zipfile(path):
        parsed.add(
            None,
            None,
            _(
                "不是有效的 .xlsx 文件（可能是改了扩展名的其他文件，或设置了打开密码）："
                "请用 Excel、WPS 或 LibreOffice 另存为 .xlsx 后再导入。"
            ),
        )
        return
    try:
        with zipfile.ZipFile(path) as archive:
            formula_members = _inspect_package(archive, parsed)
            if formula_members is None:
                return
            sheet_members = _sheet_members(archive) if formula_members else {}
            formulas = {
                sheet: _formula_cells(archive, member)
                for sheet, member in sheet_members.items()
                if member in formula_members
            }
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, NotImplementedError) as error:
        parsed.add(None, None, _("文件已损坏，无法读取（%(error)s）。") % {"error": error})
        return
    except ElementTree.ParseError:
        parsed.add(None, None, _("文件已损坏：工作簿结构无法读取。"))
        return
    try:
        workbook = CalamineWorkbook.from_path(str(path))
    except (CalamineError, OSError, ValueError) as error:
        parsed.add(None, None, _("无法读取该工作簿（%(error)s）。") % {"error": error})
        return
    with workbook:
        _read_workbook(workbook, formulas, parsed)


def _inspect_package(archive: zipfile.ZipFile, parsed: ParsedFile) -> set[str] | None:
    """The worksheet members holding formulas; None when the package is refused.

    Declared sizes are checked first (cheap), then every member is actually
    decompressed with a running count, because a zip's headers can lie:
    Python's zipfile stops at the declared size and fails the CRC, so the
    parser that runs afterwards only ever sees what was counted here.
    """
    bomb = _(
        "文件解压后过大或压缩比异常（疑似“压缩炸弹”），已拒绝：请确认文件来源，或重新另存为 .xlsx。"
    )
    infos = archive.infolist()
    names = {info.filename for info in infos}
    if "[Content_Types].xml" not in names or "xl/workbook.xml" not in names:
        parsed.add(None, None, _("不是 Excel 工作簿（.xlsx）：压缩包中没有工作簿内容。"))
        return None
    declared = sum(info.file_size for info in infos)
    compressed = sum(info.compress_size for info in infos)
    if (
        len(infos) > MAX_ZIP_MEMBERS
        or declared > MAX_UNCOMPRESSED_BYTES
        or (declared > CHUNK and declared > MAX_COMPRESSION_RATIO * max(compressed, 1))
    ):
        parsed.add(None, None, bomb)
        return None
    if any(info.flag_bits & 0x1 for info in infos):
        parsed.add(None, None, _("文件已加密，请取消密码后再导入。"))
        return None
    total = 0
    with_formulas: set[str] = set()
    for info in infos:
        is_xml = info.filename.endswith((".xml", ".rels"))
        is_sheet = info.filename.startswith("xl/worksheets/") and is_xml
        tail = b""
        with archive.open(info) as stream:
            while chunk := stream.read(CHUNK):
                total += len(chunk)
                if total > MAX_UNCOMPRESSED_BYTES:
                    parsed.add(None, None, bomb)
                    return None
                if not is_xml:
                    continue
                window = tail + chunk
                if DTD.search(window):
                    parsed.add(None, None, _("文件含有不允许的 XML 声明（DOCTYPE），已拒绝。"))
                    return None
                if (
                    is_sheet
                    and info.filename not in with_formulas
                    # Substring tests are an order of magnitude faster than the regex.
                    and (b"<f" in window or b":f" in window)
                    and FORMULA_TAG.search(window)
                ):
                    with_formulas.add(info.filename)
                tail = chunk[-16:]
    return with_formulas


def _sheet_members(archive: zipfile.ZipFile) -> dict[str, str]:
    """Sheet name → the zip member holding its XML (from the workbook and its relationships)."""
    workbook = ElementTree.fromstring(archive.read("xl/workbook.xml"))
    targets: dict[str, str] = {}
    try:
        rels = ElementTree.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
    except KeyError:
        return {}
    for rel in rels.iter(f"{PACKAGE_RELS_NS}Relationship"):
        target = rel.get("Target", "")
        path = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
        targets[rel.get("Id", "")] = str(PurePosixPath(path))
    members = {}
    for sheet in workbook.iter(f"{SPREADSHEET_NS}sheet"):
        rel_id = sheet.get(f"{RELATIONSHIP_NS}id", "")
        if rel_id in targets:
            members[sheet.get("name", "")] = targets[rel_id]
    return members


def _formula_cells(archive: zipfile.ZipFile, member: str) -> list[str]:
    """References (G7) of the cells of one worksheet that hold a formula."""
    found: list[str] = []
    row_number, column_number = 0, -1
    with archive.open(member) as stream:
        for event, element in ElementTree.iterparse(stream, events=("start", "end")):
            tag = element.tag.rsplit("}", 1)[-1]
            if event == "start":
                if tag == "row":
                    row_number = int(element.get("r") or row_number + 1)
                    column_number = -1
                continue
            if tag == "c":
                reference = element.get("r")
                if reference:
                    column_number = layout.column_index(reference.rstrip("0123456789"))
                else:
                    column_number += 1
                    reference = f"{column_letter(column_number)}{row_number}"
                if any(child.tag.rsplit("}", 1)[-1] == "f" for child in element):
                    found.append(reference)
                element.clear()
            elif tag == "row":
                element.clear()
    return found


# ---------------------------------------------------------------- xlsx: the sheets


def _read_workbook(
    workbook: CalamineWorkbook, formulas: dict[str, list[str]], parsed: ParsedFile
) -> None:
    names = list(workbook.sheet_names)
    meta: dict[str, str] | None = None
    meta_rows: list[list[Any]] = []
    if layout.META_SHEET in names:
        meta_rows = workbook.get_sheet_by_name(layout.META_SHEET).to_python()
        meta = _read_meta(meta_rows, parsed)
        if meta is None:
            return
        kind = meta.get("kind", "")
    elif layout.VALUES_SHEET in names:
        kind = layout.KIND_VALUES
    elif layout.TABLE_SHEET in names:
        kind = layout.KIND_TABLE
    else:
        kind = layout.KIND_TEMPLATE
    if kind not in layout.SHEETS_OF_KIND:
        parsed.add(
            None,
            None,
            _("无法识别的工作簿类型「%(kind)s」：请使用平台下载的模板。") % {"kind": kind},
            sheet=layout.META_SHEET,
        )
        return
    parsed.layout = kind
    expected = layout.SHEETS_OF_KIND[kind]
    for name in names:
        if name not in expected:
            parsed.add(
                None,
                None,
                _("多出工作表「%(name)s」：请勿在模板中增加或改名工作表（应只有 %(sheets)s）。")
                % {"name": name, "sheets": "、".join(f"「{s}」" for s in expected)},
                sheet=name,
            )
    for name in expected:
        if name not in names:
            parsed.add(
                None,
                None,
                _("缺少工作表「%(name)s」（可能被删除或改名）：请使用平台下载的模板。")
                % {"name": name},
                sheet=name,
            )
    data_sheet = layout.DATA_SHEET_OF_KIND[kind]
    if data_sheet not in names:
        return
    parsed.sheet = data_sheet
    sheet = workbook.get_sheet_by_name(data_sheet)
    header_row = {
        layout.KIND_TEMPLATE: layout.TEMPLATE_HEADER_ROW,
        layout.KIND_VALUES: layout.VALUES_HEADER_ROW,
        layout.KIND_TABLE: layout.TABLE_HEADER_ROW,
    }[kind]
    for (top, left), (bottom, right) in sheet.merged_cell_ranges or []:
        if bottom + 1 >= header_row:
            parsed.add(
                top + 1,
                column_letter(left),
                _("表格区域内不能合并单元格（%(range)s）：请取消合并。")
                % {"range": f"{column_letter(left)}{top + 1}:{column_letter(right)}{bottom + 1}"},
            )
    cells = formulas.get(data_sheet, [])
    for reference in cells[:MAX_FORMULA_PROBLEMS]:
        column = reference.rstrip("0123456789")
        parsed.add(
            int(reference[len(column) :]),
            column,
            _("单元格含有公式：请改为直接填写数值（复制时用“选择性粘贴 → 数值”）。"),
        )
    if len(cells) > MAX_FORMULA_PROBLEMS:
        parsed.add(
            None,
            None,
            _("另有 %(n)d 个单元格含有公式。") % {"n": len(cells) - MAX_FORMULA_PROBLEMS},
        )
    rows = sheet.to_python(skip_empty_area=False)
    if kind == layout.KIND_TEMPLATE:
        _read_template_sheet(rows, meta, parsed)
    elif kind == layout.KIND_VALUES:
        _read_values_sheet(rows, meta, parsed)
    else:
        notes = (
            workbook.get_sheet_by_name(layout.INSTRUCTIONS_SHEET).to_python(nrows=NOTES_ROWS)
            if layout.INSTRUCTIONS_SHEET in names
            else []
        )
        _read_table_sheet(rows, meta_rows if meta is not None else None, notes, parsed)


def _read_meta(rows: list[list[Any]], parsed: ParsedFile) -> dict[str, str] | None:
    meta = {cell_text(row[0]): cell_text(row[1]) for row in rows if len(row) >= 2 and row[0]}
    if meta.get("format") != layout.FORMAT_NAME or meta.get("version") != layout.FORMAT_VERSION:
        parsed.add(
            None,
            None,
            _("模板格式或版本不符（%(found)s）：请从平台重新下载模板。")
            % {"found": f"{meta.get('format', '?')} {meta.get('version', '?')}"},
            sheet=layout.META_SHEET,
        )
        return None
    return meta


def _cell(rows: list[list[Any]], row: int, column: str) -> Any:
    """The value at a 1-based row and a column letter; "" outside the sheet's data."""
    index = layout.column_index(column)
    if row - 1 < len(rows) and index < len(rows[row - 1]):
        return rows[row - 1][index]
    return ""


def _check_headers(
    rows: list[list[Any]], row: int, titles: tuple[str, ...], parsed: ParsedFile
) -> bool:
    found = rows[row - 1] if row - 1 < len(rows) else []
    good = True
    for index, title in enumerate(titles):
        text = cell_text(found[index]) if index < len(found) else ""
        if text != title:
            good = False
            parsed.add(
                row,
                column_letter(index),
                _("列标题应为「%(title)s」，实际为「%(text)s」：请勿修改、插入或移动列。")
                % {"title": title, "text": text},
            )
    for index in range(len(titles), len(found)):
        text = cell_text(found[index])
        if text:
            good = False
            parsed.add(
                row,
                column_letter(index),
                _("多出的列「%(text)s」：请勿在表格中增加列。") % {"text": text},
            )
    return good


def _outside_cells(row: list[Any], width: int, number: int, parsed: ParsedFile) -> None:
    for index in range(width, len(row)):
        if row[index] not in ("", None):
            parsed.add(
                number,
                column_letter(index),
                _("表格范围外的单元格有内容：请删除，或检查是否移动了列。"),
            )


def _read_template_sheet(
    rows: list[list[Any]], meta: dict[str, str] | None, parsed: ParsedFile
) -> None:
    for (row, column), label in layout.T_LABELS.items():
        text = cell_text(_cell(rows, row, column))
        if text != label:
            parsed.add(
                row,
                column,
                _("表头区域被改动：此处应为「%(label)s」，实际为「%(text)s」。")
                % {"label": label, "text": text},
            )
    org = cell_text(_cell(rows, *layout.T_ORG_CELL))
    year = _cell(rows, *layout.T_YEAR_CELL)
    dataset = cell_text(_cell(rows, *layout.T_DATASET_CELL))
    if meta is not None:
        for (row, column), shown, key in (
            (layout.T_ORG_CELL, org, "org_unit"),
            (layout.T_YEAR_CELL, cell_text(year), "year"),
            (layout.T_DATASET_CELL, dataset, "dataset"),
        ):
            if shown != meta.get(key, ""):
                parsed.add(
                    row,
                    column,
                    _(
                        "「%(shown)s」与模板生成时的「%(meta)s」不一致：表头已被改动，"
                        "请从平台重新下载该单位、该年度的模板。"
                    )
                    % {"shown": shown, "meta": meta.get(key, "")},
                )
    if not _check_headers(rows, layout.TEMPLATE_HEADER_ROW, layout.TEMPLATE_HEADERS, parsed):
        return
    parsed.fixed = {
        "org": layout.T_ORG_CELL,
        "year": layout.T_YEAR_CELL,
        "dataset": layout.T_DATASET_CELL,
    }
    parsed.columns = {
        "indicator": layout.T_CODE,
        "value": layout.T_VALUE,
        "comment": layout.T_COMMENT,
    }
    parsed.dataset_code = dataset
    width = len(layout.TEMPLATE_HEADERS)
    code_at, value_at, comment_at = (
        layout.column_index(c) for c in (layout.T_CODE, layout.T_VALUE, layout.T_COMMENT)
    )
    values = parsed.values
    for index in range(layout.TEMPLATE_FIRST_ROW - 1, len(rows)):
        row, number = rows[index], index + 1
        if len(row) > width:
            _outside_cells(row, width, number, parsed)
        if all(cell in ("", None) for cell in row[:width]):
            continue
        code = cell_text(row[code_at])
        value = row[value_at]
        comment = comment_text(row[comment_at])
        if not code:
            if value not in ("", None) or comment:
                parsed.add(number, layout.T_CODE, _("缺少指标代码：请勿删除或改动指标代码列。"))
            continue
        values.append(RawValue(number, org, code, year, value, comment, dataset))


def _read_values_sheet(
    rows: list[list[Any]], meta: dict[str, str] | None, parsed: ParsedFile
) -> None:
    if not _check_headers(rows, layout.VALUES_HEADER_ROW, layout.VALUES_HEADERS, parsed):
        return
    parsed.columns = {
        "org": layout.V_ORG,
        "indicator": layout.V_INDICATOR,
        "year": layout.V_YEAR,
        "value": layout.V_VALUE,
        "comment": layout.V_COMMENT,
        "dataset": layout.V_DATASET,
    }
    default_dataset = (meta or {}).get("dataset") or None
    parsed.dataset_code = default_dataset
    width = len(layout.VALUES_HEADERS)
    org_at, code_at, year_at, value_at, comment_at, dataset_at = (
        layout.column_index(c)
        for c in (
            layout.V_ORG,
            layout.V_INDICATOR,
            layout.V_YEAR,
            layout.V_VALUE,
            layout.V_COMMENT,
            layout.V_DATASET,
        )
    )
    values = parsed.values
    append = values.append
    for index in range(layout.VALUES_FIRST_ROW - 1, len(rows)):
        row = rows[index]
        if len(row) > width:
            _outside_cells(row, width, index + 1, parsed)
        org, code = row[org_at], row[code_at]
        if org == "" and code == "" and all(cell in ("", None) for cell in row[:width]):
            continue
        comment, dataset = row[comment_at], row[dataset_at]
        append(
            RawValue(
                index + 1,
                org.strip() if type(org) is str else cell_text(org),
                code.strip() if type(code) is str else cell_text(code),
                row[year_at],
                row[value_at],
                "" if comment == "" else comment_text(comment),
                (dataset.strip() if type(dataset) is str else cell_text(dataset))
                or default_dataset,
            )
        )


# ---------------------------------------------------------------- xlsx: the wide table


def _read_table_sheet(
    rows: list[list[Any]],
    meta_rows: list[list[Any]] | None,
    notes: list[list[Any]],
    parsed: ParsedFile,
) -> None:
    """One row per unit, one column per indicator; the year and data set come from ``_meta``."""
    year = _table_meta(meta_rows, notes, parsed)
    good = True
    for row, titles, message in (
        (
            layout.TABLE_HEADER_ROW,
            layout.TABLE_HEADERS,
            _("列标题应为「%(title)s」，实际为「%(text)s」：请勿修改、插入或移动表头的行和列。"),
        ),
        (
            layout.TABLE_NAME_ROW,
            layout.TABLE_NAME_LABELS,
            _(
                "第 2 行是指标名称行，此处应为「%(title)s」，实际为「%(text)s」："
                "请勿删除、插入或移动表头的行和列。"
            ),
        ),
    ):
        for index, title in enumerate(titles):
            text = cell_text(_cell(rows, row, column_letter(index)))
            if text != title:
                good = False
                parsed.add(row, column_letter(index), message % {"title": title, "text": text})
    if not good:
        return
    columns, headless = _indicator_columns(rows[0], layout.TABLE_FIRST_INDICATOR, parsed)
    if not columns or year is None:
        return
    parsed.columns = {"org": layout.TB_ORG}
    dataset = parsed.dataset_code
    extend = parsed.values.extend
    stray: dict[int, list[int]] = {}
    units: dict[str, int] = {}
    for index in range(layout.TABLE_FIRST_ROW - 1, len(rows)):
        row = rows[index]
        number = index + 1
        org = row[0]
        org = org.strip() if type(org) is str else cell_text(org)
        # The hot path of a national file (170,000 cells): one comprehension per row. A blank
        # cell leaves the stored value alone: an export is blank wherever its reader could not
        # see a value or another data set holds it, so a blank cannot mean "no value".
        found = [
            RawValue(number, org, code, year, cell, None, dataset)
            for at, code in columns
            if (cell := row[at]) != "" and not (type(cell) is str and cell.isspace())
        ]
        for at in headless:
            cell = row[at]
            if cell not in ("", None) and not (type(cell) is str and cell.isspace()):
                stray.setdefault(at, []).append(number)
        if org:
            first = units.setdefault(org, number)
            if first != number:
                parsed.add(
                    number,
                    layout.TB_ORG,
                    _("单位代码「%(code)s」与第 %(row)d 行重复：宽表中每个单位只能占一行。")
                    % {"code": org, "row": first},
                )
                continue
        extend(found)
    _stray_cells(stray, parsed)


def _table_meta(
    meta_rows: list[list[Any]] | None, notes: list[list[Any]], parsed: ParsedFile
) -> int | None:
    """The table's year (None after a problem) and data set, from ``_meta``.

    The instructions sheet shows both to the reader of the file; a copy that
    disagrees means someone tried to change the year there, which would
    otherwise import every value into the year the file was made for.
    """
    where: dict[str, int] = {}
    meta: dict[str, str] = {}
    for number, row in enumerate(meta_rows or [], start=1):
        if len(row) >= 2 and row[0] not in ("", None):
            key = cell_text(row[0])
            where.setdefault(key, number)
            meta.setdefault(key, cell_text(row[1]))
    text = meta.get("year", "")
    at = where.get("year")
    year: int | None = None
    if not text:
        parsed.add(
            at,
            "B" if at else None,
            _(
                "宽表缺少年度：隐藏工作表「%(sheet)s」中应有 year 一行（如 2023）。"
                "请从平台导出宽表后再填写。"
            )
            % {"sheet": layout.META_SHEET},
            sheet=layout.META_SHEET,
        )
    elif not (text.isascii() and text.isdigit() and len(text) == 4) or not (
        layout.YEAR_MIN <= int(text) <= layout.YEAR_MAX
    ):
        parsed.add(
            at,
            "B",
            _("年度应为四位数字的年份（如 2023），填的是「%(year)s」。") % {"year": text[:40]},
            sheet=layout.META_SHEET,
        )
    else:
        year = int(text)
        parsed.fixed["year"] = (where["year"], "B")
        parsed.fixed_sheets["year"] = layout.META_SHEET
    dataset = meta.get("dataset", "")
    if dataset:
        parsed.dataset_code = dataset
        parsed.fixed["dataset"] = (where["dataset"], "B")
        parsed.fixed_sheets["dataset"] = layout.META_SHEET
    for number, row in enumerate(notes, start=1):
        label = cell_text(row[0]) if row else ""
        key = {layout.TABLE_NOTES_YEAR: "year", layout.TABLE_NOTES_DATASET: "dataset"}.get(label)
        if key is None:
            continue
        shown = cell_text(row[1]) if len(row) > 1 else ""
        if shown != meta.get(key, ""):
            parsed.add(
                number,
                "B",
                _(
                    "「%(shown)s」与文件生成时的「%(meta)s」不一致：宽表的年度和填报表以生成文件时"
                    "（隐藏的 _meta）为准，不能在此修改；如需其他年度，请从平台导出该年度的宽表。"
                )
                % {"shown": shown, "meta": meta.get(key, "")},
                sheet=layout.INSTRUCTIONS_SHEET,
            )
            if key == "year":
                year = None
    return year


def _indicator_columns(
    header: list[Any], start: int, parsed: ParsedFile, skip: frozenset[int] = frozenset()
) -> tuple[list[tuple[int, str]], list[int]]:
    """The (index, code) of each indicator column of a wide header, and the blank-titled ones.

    A repeated code is a problem at its second header cell, and its column is
    read no further. ``skip`` holds the indices of a CSV's own columns.
    """
    columns: list[tuple[int, str]] = []
    headless: list[int] = []
    seen = parsed.indicator_columns
    for index in range(start, len(header)):
        if index in skip:
            continue
        code = cell_text(header[index])
        letter = column_letter(index)
        if not code:
            headless.append(index)
        elif code in seen:
            parsed.add(
                layout.TABLE_HEADER_ROW,
                letter,
                _("指标代码「%(code)s」重复（已在 %(column)s 列）：宽表中每个指标只能占一列。")
                % {"code": code, "column": seen[code]},
            )
        else:
            seen[code] = letter
            columns.append((index, code))
    if not columns:
        parsed.add(
            layout.TABLE_HEADER_ROW,
            column_letter(start),
            _("表头没有指标代码：从 %(column)s 列起，第 1 行每列填写一个指标代码。")
            % {"column": column_letter(start)},
        )
    return columns, headless


def _stray_cells(stray: dict[int, list[int]], parsed: ParsedFile) -> None:
    """One problem per column that holds values but no indicator code in its header."""
    for index, numbers in sorted(stray.items()):
        parsed.add(
            numbers[0],
            column_letter(index),
            _(
                "该列第 1 行没有指标代码，却有 %(n)d 个单元格有内容（第 %(rows)s 行）："
                "请在第 1 行填写指标代码，或删除这些内容。"
            )
            % {"n": len(numbers), "rows": row_ranges(numbers)},
        )


# ---------------------------------------------------------------- CSV


def _decode(data: bytes) -> tuple[str | None, str]:
    """The text and the encoding's name: UTF-8 (with or without BOM), UTF-16 with BOM, or GBK."""
    if data.startswith(codecs.BOM_UTF8):
        return data[len(codecs.BOM_UTF8) :].decode("utf-8", errors="strict"), "UTF-8（带 BOM）"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16"), "UTF-16"
        except UnicodeDecodeError:
            return None, ""
    try:
        return data.decode("utf-8"), "UTF-8"
    except UnicodeDecodeError:
        pass
    try:
        # GB18030 is a superset of GBK and GB2312: what Excel on Chinese Windows writes.
        return data.decode("gb18030"), "GBK"
    except UnicodeDecodeError:
        return None, ""


def _read_csv(data: bytes, parsed: ParsedFile) -> None:
    parsed.layout = "csv"
    try:
        text, parsed.encoding = _decode(data)
    except UnicodeDecodeError:
        text = None
    if text is None:
        parsed.add(None, None, _("无法识别文件编码：请另存为 UTF-8 或 GBK 编码的 CSV。"))
        return
    if "\x00" in text:
        parsed.add(None, None, _("不是文本格式的 CSV 文件（含有二进制内容）。"))
        return
    if not text.strip():
        parsed.add(None, None, _("文件没有内容。"))
        return
    first_line = text.split("\n", 1)[0]
    delimiter = "\t" if "\t" in first_line and "," not in first_line else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = next(reader)
    except csv.Error as error:
        parsed.add(1, None, _("CSV 格式错误：%(error)s") % {"error": error})
        return
    keys = {layout.CSV_ALIASES.get(t.strip(), t.strip().lower()) for t in header}
    if "org_code" in keys and "indicator_code" not in keys and "value" not in keys:
        _read_csv_table(reader, header, parsed)
        return
    columns = _csv_columns(header, parsed)
    if columns is None:
        return
    parsed.columns = {key: column_letter(index) for key, index in columns.items()}
    parsed.columns.update(
        org=parsed.columns["org_code"],
        indicator=parsed.columns["indicator_code"],
    )
    org_at, code_at, year_at, value_at = (columns[key] for key in layout.CSV_REQUIRED)
    comment_at, dataset_at = columns.get("comment"), columns.get("dataset")
    width = len(header)
    line = reader.line_num
    values = parsed.values
    while True:
        start = line + 1
        try:
            record = next(reader)
        except StopIteration:
            break
        except csv.Error as error:
            parsed.add(start, None, _("CSV 格式错误：%(error)s") % {"error": error})
            return
        line = reader.line_num
        if not any(cell.strip() for cell in record):
            continue
        if len(record) > width:
            for index in range(width, len(record)):
                if record[index].strip():
                    parsed.add(
                        start,
                        column_letter(index),
                        _("多出的单元格「%(text)s」：该行的列数多于表头。")
                        % {"text": record[index][:40]},
                    )
        record = record + [""] * (width - len(record))
        values.append(
            RawValue(
                start,
                record[org_at].strip(),
                record[code_at].strip(),
                record[year_at].strip(),
                record[value_at],
                None if comment_at is None else layout.restore(record[comment_at]),
                (record[dataset_at].strip() or None) if dataset_at is not None else None,
            )
        )


def _read_csv_table(reader: Any, header: list[str], parsed: ParsedFile) -> None:
    """A wide CSV: org_code, optional org_name and dataset, year, then one column per indicator.

    A CSV has no ``_meta``, so the year is a column (which also lets one file
    carry several years: a unit may then have one row per year).
    """
    parsed.layout = layout.KIND_TABLE
    fixed: dict[str, int] = {}
    for index, title in enumerate(header):
        key = layout.CSV_ALIASES.get(title.strip(), title.strip().lower())
        if key not in layout.CSV_TABLE_FIXED:
            continue
        if key in fixed:
            parsed.add(1, column_letter(index), _("列「%(name)s」重复。") % {"name": title.strip()})
        else:
            fixed[key] = index
    if "year" not in fixed:
        parsed.add(
            1,
            None,
            _(
                "宽表 CSV 缺少年度列（year 或 年度）：CSV 没有隐藏的 _meta，"
                "第一行应为 org_code,org_name,year,指标代码1,指标代码2,…"
            ),
        )
    columns, headless = _indicator_columns(header, 0, parsed, frozenset(fixed.values()))
    if parsed.problems:
        return
    parsed.columns = {
        {"org_code": "org", "org_name": "org_name"}.get(key, key): column_letter(index)
        for key, index in fixed.items()
    }
    org_at, year_at = fixed["org_code"], fixed["year"]
    dataset_at = fixed.get("dataset")
    width = len(header)
    units: dict[tuple[str, str], int] = {}
    stray: dict[int, list[int]] = {}
    extend = parsed.values.extend
    line = reader.line_num
    while True:
        start = line + 1
        try:
            record = next(reader)
        except StopIteration:
            break
        except csv.Error as error:
            parsed.add(start, None, _("CSV 格式错误：%(error)s") % {"error": error})
            return
        line = reader.line_num
        if len(record) < width:
            record += [""] * (width - len(record))
        elif len(record) > width:
            for index in range(width, len(record)):
                if record[index].strip():
                    stray.setdefault(index, []).append(start)
        org, year = record[org_at].strip(), record[year_at].strip()
        dataset = (record[dataset_at].strip() or None) if dataset_at is not None else None
        found = [
            RawValue(start, org, code, year, cell, None, dataset)
            for at, code in columns
            if (cell := record[at]) and not cell.isspace()
        ]
        for at in headless:
            if record[at].strip():
                stray.setdefault(at, []).append(start)
        if org:
            first = units.setdefault((org, year), start)
            if first != start:
                parsed.add(
                    start,
                    column_letter(org_at),
                    _(
                        "单位代码「%(code)s」%(year)s 年与第 %(row)d 行重复："
                        "宽表中每个单位每个年度只能占一行。"
                    )
                    % {"code": org, "year": year, "row": first},
                )
                continue
        extend(found)
    _stray_cells(stray, parsed)


def _csv_columns(header: list[str], parsed: ParsedFile) -> dict[str, int] | None:
    known = (*layout.CSV_REQUIRED, *layout.CSV_OPTIONAL)
    columns: dict[str, int] = {}
    good = True
    for index, title in enumerate(header):
        name = title.strip()
        key = layout.CSV_ALIASES.get(name, name.lower())
        if not name:
            continue
        if key not in known:
            good = False
            parsed.add(
                1,
                column_letter(index),
                _("未知的列「%(name)s」（可用的列：%(known)s）。")
                % {"name": name, "known": "、".join(known)},
            )
        elif key in columns:
            good = False
            parsed.add(1, column_letter(index), _("列「%(name)s」重复。") % {"name": name})
        else:
            columns[key] = index
    for key in layout.CSV_REQUIRED:
        if key not in columns:
            good = False
            parsed.add(
                1,
                None,
                _("缺少列「%(name)s」：CSV 的第一行应为列名 %(required)s（说明列 comment 可选）。")
                % {"name": key, "required": ",".join((*layout.CSV_REQUIRED, "comment"))},
            )
    return columns if good else None


# ---------------------------------------------------------------- DHIS2 dataValueSets JSON


def _read_json(data: bytes, parsed: ParsedFile) -> None:
    parsed.layout = "json"
    parsed.columns = dict(layout.JSON_FIELDS)
    shape = _('应为 DHIS2 dataValueSets 格式：{"dataValues": [{"dataElement": …}, …]}')
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        parsed.add(None, None, _("JSON 文件应为 UTF-8 编码。"))
        return
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        parsed.add(
            error.lineno,
            str(error.colno),
            _("JSON 格式错误（第 %(line)d 行第 %(column)d 列）：%(error)s")
            % {"line": error.lineno, "column": error.colno, "error": error.msg},
        )
        return
    except RecursionError:
        parsed.add(None, None, _("JSON 嵌套过深。"))
        return
    if not isinstance(document, dict) or "dataValues" not in document:
        parsed.add(None, None, shape)
        return
    items = document["dataValues"]
    if not isinstance(items, list):
        parsed.add(None, "dataValues", _("dataValues 应为数组。") + shape)
        return
    defaults = {}
    for field_name in ("orgUnit", "period", "dataSet"):
        value = document.get(field_name)
        if value is not None and not isinstance(value, str | int):
            parsed.add(None, field_name, _("%(key)s 应为文本。") % {"key": field_name})
            return
        defaults[field_name] = "" if value is None else str(value).strip()
    parsed.dataset_code = defaults["dataSet"] or None
    for number, item in enumerate(items, start=1):
        if not isinstance(item, dict):
            parsed.add(number, None, _("第 %(n)d 项应为对象。") % {"n": number})
            continue
        texts = {}
        good = True
        for key in ("dataElement", "orgUnit", "period", "dataSet"):
            value = item.get(key, defaults.get(key, ""))
            if value is None:
                value = defaults.get(key, "")
            if not isinstance(value, str | int) or isinstance(value, bool):
                parsed.add(number, key, _("%(key)s 应为文本。") % {"key": key})
                good = False
                continue
            texts[key] = str(value).strip()
        comment = item.get("comment")
        if comment is not None and not isinstance(comment, str):
            parsed.add(number, "comment", _("comment 应为文本。"))
            good = False
        if not good:
            continue
        parsed.values.append(
            RawValue(
                number,
                texts["orgUnit"],
                texts["dataElement"],
                texts["period"],
                item.get("value"),
                None if comment is None else layout.restore(comment),
                texts["dataSet"] or None,
            )
        )

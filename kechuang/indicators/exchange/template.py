"""The Excel template a unit fills in for one data set and year (no database here).

Generated from the catalogue rows the caller passes, so the template and the
reader (``reading.py``) share one layout (``layout.py``) and cannot drift.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Protection, Side
from openpyxl.workbook.protection import WorkbookProtection
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from kechuang.indicators.exchange import layout
from kechuang.indicators.exchange.layout import neutralise

INPUT_FILL = PatternFill("solid", fgColor="FFF9DB")
HEADER_FILL = PatternFill("solid", fgColor="DCE6F1")
LOCKED_FILL = PatternFill("solid", fgColor="F2F2F2")
THIN = Side(style="thin", color="BFBFBF")
BOX = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
UNLOCKED = Protection(locked=False)
# Widths of columns A–H of the data sheet, in characters.
WIDTHS = (6, 14, 16, 34, 10, 14, 14, 36)


@dataclass(frozen=True, slots=True)
class TemplateRow:
    """One data-set member as the template shows it, with last year's and this year's value."""

    section: str
    code: str
    name: str
    unit: str
    value_type: str
    decimals: int
    min_value: float | None
    max_value: float | None
    is_derived: bool
    definition: str = ""
    previous: float | None = None
    value: float | None = None
    comment: str = ""


def build_template(dataset: Any, org_unit: Any, year: int, rows: Sequence[TemplateRow]) -> Workbook:
    """The workbook for ``org_unit`` to report ``dataset`` for ``year`` (rows in member order).

    ``dataset`` needs ``code``, ``name``, ``due_month`` and ``due_day``;
    ``org_unit`` needs ``code`` and ``name``.
    """
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = layout.TEMPLATE_SHEET
    _header_block(sheet, dataset, org_unit, year)
    _data_rows(sheet, rows)
    _instructions(workbook.create_sheet(layout.INSTRUCTIONS_SHEET), dataset, org_unit, year, rows)
    write_meta(
        workbook,
        kind=layout.KIND_TEMPLATE,
        dataset=dataset.code,
        org_unit=org_unit.code,
        year=year,
    )
    # Nobody adds, removes or renames sheets by accident (Excel, WPS and LibreOffice honour it).
    workbook.security = WorkbookProtection(lockStructure=True)
    return workbook


def write_meta(workbook: Workbook, **entries: Any) -> None:
    """The hidden ``_meta`` sheet: what this file is, for the reader."""
    meta = workbook.create_sheet(layout.META_SHEET)
    meta.append(["format", layout.FORMAT_NAME])
    meta.append(["version", layout.FORMAT_VERSION])
    for key, value in entries.items():
        meta.append([key, "" if value is None else str(value)])
    meta.sheet_state = "hidden"
    meta.protection.sheet = True


def _header_block(sheet: Worksheet, dataset: Any, org_unit: Any, year: int) -> None:
    last = layout.column_letter(len(layout.TEMPLATE_HEADERS) - 1)
    sheet["A1"] = neutralise(
        _("%(dataset)s（%(year)s 年度）") % {"dataset": dataset.name, "year": year}
    )
    sheet["A1"].font = Font(bold=True, size=14)
    sheet["A1"].alignment = Alignment(horizontal="center", vertical="center")
    sheet.merge_cells(f"A1:{last}1")
    sheet.row_dimensions[1].height = 28
    due = f"{year + 1}-{dataset.due_month:02d}-{dataset.due_day:02d}"
    values = {
        layout.T_ORG_CELL: str(org_unit.code),
        (2, "D"): neutralise(org_unit.name),
        layout.T_YEAR_CELL: int(year),
        layout.T_DATASET_CELL: neutralise(dataset.code),
        (3, "D"): neutralise(dataset.name),
        (3, "F"): due,
    }
    for (row, column), label in layout.T_LABELS.items():
        cell = sheet[f"{column}{row}"]
        cell.value = label  # part of the file format: never translated
        cell.font = Font(bold=True)
        cell.fill = HEADER_FILL
    for (row, column), value in values.items():
        cell = sheet[f"{column}{row}"]
        cell.value = value
        cell.data_type = "n" if isinstance(value, int) else "s"
        cell.fill = LOCKED_FILL


def _data_rows(sheet: Worksheet, rows: Sequence[TemplateRow]) -> None:
    header_row, first = layout.TEMPLATE_HEADER_ROW, layout.TEMPLATE_FIRST_ROW
    for index, title in enumerate(layout.TEMPLATE_HEADERS):
        cell = sheet.cell(row=header_row, column=index + 1, value=title)
        cell.font = Font(bold=True)
        cell.fill = HEADER_FILL
        cell.border = BOX
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        sheet.column_dimensions[layout.column_letter(index)].width = WIDTHS[index]
    validations: dict[tuple[str, float | None, float | None], DataValidation] = {}
    for offset, item in enumerate(rows):
        row = first + offset
        number_format = "0" if item.value_type == "integer" else _decimal_format(item.decimals)
        cells = (
            offset + 1,
            neutralise(item.section),
            item.code,
            neutralise(item.name),
            neutralise(item.unit),
            item.previous,
            None if item.is_derived else item.value,
            neutralise(item.comment or ""),
        )
        for index, value in enumerate(cells):
            cell = sheet.cell(row=row, column=index + 1, value=value)
            if isinstance(value, str):
                cell.data_type = "s"  # never a formula, whatever the text starts with
            cell.border = BOX
        sheet[f"{layout.T_PREVIOUS}{row}"].number_format = number_format
        sheet[f"{layout.T_PREVIOUS}{row}"].fill = LOCKED_FILL
        value_cell = sheet[f"{layout.T_VALUE}{row}"]
        value_cell.number_format = number_format
        comment_cell = sheet[f"{layout.T_COMMENT}{row}"]
        comment_cell.protection = UNLOCKED
        comment_cell.fill = INPUT_FILL
        comment_cell.alignment = Alignment(wrap_text=True, vertical="top")
        if item.is_derived:
            value_cell.value = layout.DERIVED_MARK
            value_cell.data_type = "s"
            value_cell.fill = LOCKED_FILL
            value_cell.font = Font(color="808080")
            continue
        value_cell.protection = UNLOCKED
        value_cell.fill = INPUT_FILL
        kind = "whole" if item.value_type == "integer" else "decimal"
        key = (kind, item.min_value, item.max_value)
        if key not in validations:
            validations[key] = _number_validation(kind, item.min_value, item.max_value)
            sheet.add_data_validation(validations[key])
        validations[key].add(value_cell)
    sheet.freeze_panes = f"A{first}"
    sheet.protection.sheet = True
    # Column widths and row heights stay adjustable; content and structure do not.
    sheet.protection.formatColumns = False
    sheet.protection.formatRows = False


def _decimal_format(decimals: int) -> str:
    return "0." + "0" * decimals if decimals > 0 else "0"


def _number_validation(kind: str, low: float | None, high: float | None) -> DataValidation:
    whole = kind == "whole"
    noun = _("整数") if whole else _("数字")
    if low is not None and high is not None:
        operator, formulas = "between", (_bound(low), _bound(high))
        rule = _("请填写 %(low)s 到 %(high)s 之间的%(noun)s") % {
            "low": _bound(low),
            "high": _bound(high),
            "noun": noun,
        }
    elif low is not None:
        operator, formulas = "greaterThanOrEqual", (_bound(low), None)
        rule = _("请填写不小于 %(low)s 的%(noun)s") % {"low": _bound(low), "noun": noun}
    elif high is not None:
        operator, formulas = "lessThanOrEqual", (_bound(high), None)
        rule = _("请填写不大于 %(high)s 的%(noun)s") % {"high": _bound(high), "noun": noun}
    else:
        # Any number, but a number: text and dates are refused as they are typed.
        limit = "999999999999999" if whole else "1E+300"
        operator, formulas = "between", ("-" + limit, limit)
        rule = _("请填写%(noun)s") % {"noun": noun}
    validation = DataValidation(
        type=kind,
        operator=operator,
        formula1=formulas[0],
        formula2=formulas[1],
        allow_blank=True,
        showErrorMessage=True,
        showInputMessage=True,
        errorTitle=_("数值不符合要求"),
        error=rule,
        promptTitle=_("本年值"),
        prompt=rule,
    )
    validation.errorStyle = "stop"
    return validation


def _bound(number: float) -> str:
    return layout.format_number(float(number))


def _instructions(
    sheet: Worksheet, dataset: Any, org_unit: Any, year: int, rows: Sequence[TemplateRow]
) -> None:
    lines = [
        _("填报说明"),
        _("本表为「%(dataset)s」%(year)s 年度填报模板，填报单位：%(unit)s（%(code)s）。")
        % {"dataset": dataset.name, "year": year, "unit": org_unit.name, "code": org_unit.code},
        _(
            "1. 只需在「填报表」的黄色单元格中填写「本年值」和「说明」；其余内容已锁定，"
            "请勿修改表头、增删或改名工作表、移动列或合并单元格。"
        ),
        _(
            "2. 「本年值」只填数字，不带单位、千分位逗号或文字；整数指标填整数；"
            "有下限的指标（如不能为负数）填超出范围的数会被拒绝。"
        ),
        _("3. 不要使用公式。从其他表格复制数据时，请用“选择性粘贴 → 数值”。"),
        _(
            "4. 「本年值」留空表示该项暂无数据（系统中已有的该项数值会被清空）；"
            "标为“系统计算”的派生指标无需填写。"
        ),
        _(
            "5. 「说明」可写数据来源、统计口径变化或大幅波动的原因；"
            "出现校验警告的指标须填写说明后才能上报。"
        ),
        _(
            "6. 上传后系统先检查整个文件：有任何问题都不会导入任何数据，"
            "并逐条列出问题所在的工作表、行和列；改正后重新上传即可。"
        ),
        _("7. 可用 Excel、WPS 表格或 LibreOffice 填写，请保存为 .xlsx 格式。"),
    ]
    for line in lines:
        sheet.append([neutralise(line)])
    sheet["A1"].font = Font(bold=True, size=14)
    sheet.append([])
    titles = [_("指标代码"), _("指标名称"), _("计量单位"), _("数值要求"), _("指标解释")]
    sheet.append(titles)
    for cell in sheet[sheet.max_row]:
        cell.font = Font(bold=True)
        cell.fill = HEADER_FILL
    for item in rows:
        sheet.append(
            [
                item.code,
                neutralise(item.name),
                neutralise(item.unit),
                _requirement(item),
                neutralise(item.definition or ""),
            ]
        )
    for column, width in zip("ABCDE", (16, 34, 10, 28, 60), strict=True):
        sheet.column_dimensions[column].width = width
    sheet.protection.sheet = True


def _requirement(item: TemplateRow) -> str:
    if item.is_derived:
        return _("系统计算，无需填写")
    parts = [_("整数") if item.value_type == "integer" else _("数字")]
    if item.min_value is not None:
        parts.append(_("不小于 %(v)s") % {"v": _bound(item.min_value)})
    if item.max_value is not None:
        parts.append(_("不大于 %(v)s") % {"v": _bound(item.max_value)})
    return "，".join(parts)

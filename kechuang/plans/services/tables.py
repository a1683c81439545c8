"""The 考核指标任务分解表 of a plan, as rows and as Excel and Word files.

Columns as supervision offices publish them: 序号, 任务, 目标, 牵头单位,
责任单位, 配合单位, 完成时限, 进展.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font

from kechuang.core.spreadsheets import neutralise_formula
from kechuang.plans.choices import Role
from kechuang.plans.models import Plan
from kechuang.plans.services.status import latest_confirmed

HEADERS = ("序号", "任务", "目标", "牵头单位", "责任单位", "配合单位", "完成时限", "进展")
WIDTHS = (10, 40, 40, 20, 24, 24, 12, 16)


@dataclass(frozen=True)
class Row:
    number: str
    title: str
    targets: str
    lead: str
    responsible: str
    cooperating: str
    deadline: str
    progress: str
    depth: int
    task_id: int = 0

    def cells(self) -> tuple[str, ...]:
        return (
            self.number,
            self.title,
            self.targets,
            self.lead,
            self.responsible,
            self.cooperating,
            self.deadline,
            self.progress,
        )


def rows(plan: Plan) -> list[Row]:
    """One row per task in document order; a task's own targets in its 目标 cell."""
    tasks = list(plan.tasks.prefetch_related("assignments", "targets", "reports").order_by("order"))
    table = []
    for task in tasks:
        names = {role: [] for role in Role.values}
        for assignment in task.assignments.all():
            names[assignment.role].append(assignment.label)
        latest = latest_confirmed(task)
        deadline = (
            task.deadline.isoformat()
            if task.deadline
            else (f"{plan.end_year}年" if plan.end_year else "")
        )
        table.append(
            Row(
                number=".".join(task.path),
                title=task.title,
                targets="；".join(t.text.replace("\n", "") for t in task.targets.all()),
                lead="、".join(names[Role.LEAD]),
                responsible="、".join(names[Role.RESPONSIBLE]),
                cooperating="、".join(names[Role.COOPERATING]),
                deadline=deadline,
                progress=f"{latest.percent:g}%（{latest.period}）" if latest else "",
                depth=len(task.path),
                task_id=task.pk,
            )
        )
    return table


def excel(plan: Plan) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = _("任务分解表")
    sheet.append([f"{plan.title} {_('考核指标任务分解表')}"])
    sheet["A1"].font = Font(bold=True, size=14)
    sheet.append(list(HEADERS))
    for cell in sheet[2]:
        cell.font = Font(bold=True)
    for row in rows(plan):
        sheet.append([neutralise_formula(value) for value in row.cells()])
    for column, width in zip("ABCDEFGH", WIDTHS, strict=True):
        sheet.column_dimensions[column].width = width
    for line in sheet.iter_rows(min_row=3):
        for cell in line:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    sheet.freeze_panes = "A3"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def word(plan: Plan) -> bytes:
    from docx import Document
    from docx.enum.section import WD_ORIENT
    from docx.oxml.ns import qn
    from docx.shared import Cm, Pt

    document = Document()
    section = document.sections[0]
    # A wide table reads best on landscape A4, as supervision offices print it.
    section.orientation = WD_ORIENT.LANDSCAPE
    section.page_width, section.page_height = Cm(29.7), Cm(21.0)
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, side, Cm(1.8))
    style = document.styles["Normal"]
    style.font.name = "Noto Sans CJK SC"
    style.element.rPr.rFonts.set(qn("w:eastAsia"), "Noto Sans CJK SC")
    style.font.size = Pt(9)
    heading = document.add_heading(f"{plan.title}\n{_('考核指标任务分解表')}", level=1)
    heading.alignment = 1
    table = document.add_table(rows=1, cols=len(HEADERS))
    table.style = "Table Grid"
    for cell, title in zip(table.rows[0].cells, HEADERS, strict=True):
        cell.text = title
        for run in cell.paragraphs[0].runs:
            run.font.bold = True
    for row in rows(plan):
        cells = table.add_row().cells
        for cell, value in zip(cells, row.cells(), strict=True):
            cell.text = value
    for column, width in zip(table.columns, WIDTHS, strict=True):
        for cell in column.cells:
            cell.width = Cm(width * 0.58)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()

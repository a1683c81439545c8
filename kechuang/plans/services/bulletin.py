"""督查通报: the periodic supervision bulletin of a plan, as Word and as PDF.

What supervision offices publish: counts by status, the lagging tasks
(overdue, then behind schedule) with their units and traffic lights, and the
units ranked by score (``scoring``). ``today`` fixes the day it speaks of.
"""

from __future__ import annotations

import datetime
import io
from collections import Counter
from dataclasses import dataclass
from typing import Any

from django.template.loader import render_to_string
from django.utils.translation import gettext as _

from kechuang.plans.choices import TaskStatus
from kechuang.plans.models import Plan, Task
from kechuang.plans.services.scoring import UnitScore, unit_scores
from kechuang.plans.services.status import accountable_units, latest_confirmed, task_status

LIGHTS = {
    TaskStatus.OVERDUE: "red",
    TaskStatus.AT_RISK: "yellow",
    TaskStatus.ON_TRACK: "green",
    TaskStatus.DONE: "green",
    TaskStatus.NOT_STARTED: "grey",
}
LIGHT_WORDS = {"red": "红灯", "yellow": "黄灯", "green": "绿灯", "grey": "灰灯"}


@dataclass
class Lagging:
    task: Task
    status: str
    label: str
    light: str
    units: str
    percent: float | None


@dataclass
class Bulletin:
    plan: Plan
    day: datetime.date
    counts: list[tuple[str, int]]
    lagging: list[Lagging]
    scores: list[UnitScore]


def bulletin(plan: Plan, day: datetime.date) -> Bulletin:
    leaves = [
        t
        for t in plan.tasks.prefetch_related("reports", "assignments__department", "children")
        if not t.children.exists()
    ]
    statuses = {t.pk: task_status(t, day) for t in leaves}
    counts = Counter(statuses.values())
    labels = dict(TaskStatus.choices)
    lagging = []
    for task in sorted(leaves, key=lambda t: (statuses[t.pk] != TaskStatus.OVERDUE, t.order)):
        status = statuses[task.pk]
        if status not in (TaskStatus.OVERDUE, TaskStatus.AT_RISK):
            continue
        latest = latest_confirmed(task)
        lagging.append(
            Lagging(
                task=task,
                status=status,
                label=str(labels[status]),
                light=LIGHTS[status],
                units="、".join(accountable_units(task)),
                percent=latest.percent if latest else None,
            )
        )
    return Bulletin(
        plan=plan,
        day=day,
        counts=[(str(labels[s]), counts.get(s, 0)) for s in TaskStatus.values],
        lagging=lagging,
        scores=unit_scores(plan, day),
    )


def pdf(data: Bulletin) -> bytes:
    from weasyprint import HTML  # heavy import, only when a PDF is asked for

    html = render_to_string("plans/bulletin.html", {"b": data, "words": LIGHT_WORDS})
    return HTML(string=html).write_pdf()


def docx(data: Bulletin) -> bytes:
    from docx import Document
    from docx.oxml.ns import qn
    from docx.shared import Pt

    document = Document()
    style = document.styles["Normal"]
    style.font.name = "Noto Serif CJK SC"
    style.element.rPr.rFonts.set(qn("w:eastAsia"), "Noto Serif CJK SC")
    style.font.size = Pt(11)
    title = document.add_heading(_("督查通报"), level=0)
    title.alignment = 1
    document.add_paragraph(f"{data.plan.title}（{data.day:%Y年%m月%d日}）")
    if data.plan.is_demo:
        document.add_paragraph(_("示例数据：本通报由演示数据生成，不代表真实工作情况。"))
    document.add_heading(_("一、总体情况"), level=1)
    document.add_paragraph("；".join(f"{label}{count}项" for label, count in data.counts) + "。")
    document.add_heading(_("二、滞后任务"), level=1)
    if not data.lagging:
        document.add_paragraph(_("无超期或滞后任务。"))
    else:
        _table(
            document,
            ("序号", "任务", "责任单位", "进度", "状态"),
            [
                (
                    item.task.number,
                    item.task.title,
                    item.units,
                    "—" if item.percent is None else f"{item.percent:g}%",
                    f"{LIGHT_WORDS[item.light]} {item.label}",
                )
                for item in data.lagging
            ],
        )
    document.add_heading(_("三、单位得分排名"), level=1)
    _table(
        document,
        ("名次", "单位", "任务数", "完成度", "得分"),
        [
            (
                str(score.rank),
                score.unit,
                str(score.tasks),
                f"{score.completion * 100:.0f}%",
                f"{score.score:.2f}",
            )
            for score in data.scores
        ],
    )
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def _table(document: Any, headers: tuple[str, ...], rows: list[tuple[str, ...]]) -> None:
    table = document.add_table(rows=1, cols=len(headers))
    table.style = "Table Grid"
    for cell, text in zip(table.rows[0].cells, headers, strict=True):
        cell.text = text
    for row in rows:
        for cell, text in zip(table.add_row().cells, row, strict=True):
            cell.text = text

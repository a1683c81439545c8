"""`extract(text)`: a plan's plain text → its task-decomposition table (the plan-gold schema)."""

from __future__ import annotations

import re
from typing import Any

from .document import read_fields
from .quantities import find_quantities
from .structure import Heading, parse_outline
from .subsidies import amount_yuan, find_subsidies
from .targets import Context, find_targets
from .text import Compact, PlanText, SpanSet
from .units import ROLES, assign_units


def extract(text: str) -> dict[str, Any]:
    """Document fields, tasks with their units, targets and subsidies of one plan text."""
    plan = PlanText(text)
    outline = parse_outline(plan)
    header_end = outline.headings[0].start if outline.headings else plan.body_end
    fields = read_fields(plan, header_end)
    units = assign_units(plan, outline)
    compact = plan.compact

    def raw_text(start: int, end: int) -> str:
        return "".join(plan.raw[p] for p in compact.pos[start:end])

    def raw_slice(start: int, end: int) -> str:
        a, b = compact.raw_span(start, end)
        return plan.raw[a:b]

    def task_path(compact_start: int) -> list[str] | None:
        task = outline.task_at(compact.pos[compact_start])
        return list(task.path) if task else None

    quantities = find_quantities(compact.s)
    subsidies = find_subsidies(compact.s, quantities, raw_text)
    background = [
        (compact.index_of(start), compact.index_of(end))
        for start, end in outline.sections(BACKGROUND_TITLE, plan)
    ]
    context = Context(
        s=compact.s,
        raw=plan.raw,
        compact=compact,
        doc_year=fields.year if fields.is_work_plan else None,
        reference_year=fields.year or (int(fields.date[:4]) if fields.date else None),
        excluded=SpanSet([(sub.text_start, sub.text_end) for sub in subsidies] + background),
        titles=SpanSet([_compact_span(compact, h) for h in outline.headings]),
        sections=[(compact.index_of(h.start), _title(plan, h)) for h in outline.tasks],
        boundaries=sorted(compact.index_of(h.start) for h in outline.headings),
    )
    targets = find_targets(context, quantities)

    tasks = []
    for heading in outline.tasks:
        roles = units.get(id(heading))
        tasks.append(
            {
                "path": list(heading.path),
                "title": _title(plan, heading),
                **{role: list(roles.roles[role]) if roles else [] for role in ROLES},
            }
        )
    return {
        "document": fields.as_dict(),
        "tasks": tasks,
        "targets": [
            {
                "text": raw_slice(t.text_start, t.text_end),
                "subject": t.subject,
                "value": _number(t.quantity.value),
                "value_max": _number(t.quantity.value_max),
                "unit": t.quantity.unit,
                "comparator": t.comparator,
                "year": t.year,
                "scope": t.scope,
                "task_path": task_path(t.text_start),
                "repeat_of": None,
            }
            for t in targets
        ],
        "subsidies": [
            {
                "text": raw_slice(sub.text_start, sub.text_end),
                "subject": sub.subject,
                "amount_yuan": amount_yuan(sub.quantity)[0],
                "amount_max_yuan": amount_yuan(sub.quantity)[1],
                "per": sub.per,
                "task_path": task_path(sub.text_start),
            }
            for sub in subsidies
        ],
    }


# Sections that describe the present, not the plan: their figures are background.
BACKGROUND_TITLE = re.compile(
    r"现实基础|发展基础|发展现状|基本情况|发展成就|工作回顾|取得成效|主要成效|工作成效|面临形势|形势分析"
    r"|发展环境|存在问题|问题与挑战|机遇与挑战"
)


def _title(plan: PlanText, heading: Heading) -> str:
    return plan.raw[heading.title_start : heading.title_end]


def _compact_span(compact: Compact, heading: Heading) -> tuple[int, int]:
    return compact.index_of(heading.title_start), compact.index_of(heading.title_end)


def _number(value: float | None) -> float | int | None:
    if value is None:
        return None
    return int(value) if float(value).is_integer() else value

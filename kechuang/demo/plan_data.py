"""The three seed plans in the demo, ingested as a bureau would, with synthetic progress."""

from __future__ import annotations

import datetime
from pathlib import Path

import numpy as np
from django.db import transaction
from django.utils import timezone

from kechuang.plans.models import Plan, ProgressReport, Task
from kechuang.plans.services import ingest
from kechuang.regions.models import OrgUnit

PLANS_DIR = Path(__file__).resolve().parent / "data" / "plans"
# file, issuing unit, the file whose plan it implements
SEED_PLANS = (
    ("000_gansu_county_innovation.txt", "62", None),
    ("002_jingchuan_workplan.txt", "620821", "000_gansu_county_innovation.txt"),
    ("004_ganzhou_st_measures.txt", "620702", None),
)
SEED = 20240601
PROGRESS_DAY = datetime.date(2024, 6, 30)


@transaction.atomic
def load_plan_demo() -> int:
    """Ingest each seed plan whose issuing unit is loaded (once); return how many were added."""
    published: dict[str, Plan] = {}
    added = 0
    rng = np.random.default_rng(SEED)
    for name, code, parent in SEED_PLANS:
        unit = OrgUnit.objects.current().filter(code=code).first()
        if unit is None:
            continue
        text = (PLANS_DIR / name).read_text(encoding="utf-8")
        existing = Plan.objects.filter(is_demo=True, org_unit=unit, source_text=text).first()
        if existing is not None:
            published[name] = existing
            continue
        proposal = ingest.propose(text, unit)
        plan = ingest.publish(
            proposal,
            org_unit=unit,
            actor=None,
            text=text,
            parent=published.get(parent) if parent else None,
            is_demo=True,
        )
        _synthetic_progress(plan, rng)
        published[name] = plan
        added += 1
    return added


def _synthetic_progress(plan: Plan, rng: np.random.Generator) -> None:
    """Deadlines through the plan's years and a confirmed half-year report on each leaf task."""
    year = plan.end_year or (plan.issued_on.year + 1 if plan.issued_on else 2024)
    leaves = [t for t in plan.tasks.order_by("order") if not t.children.exists()]
    now = timezone.now()
    reports = []
    for index, task in enumerate(leaves):
        task.deadline = datetime.date(max(year, 2024), 3 * (index % 4) + 3, 28)
        percent = float(np.clip(rng.normal(55, 25), 0, 100).round())
        reports.append(
            ProgressReport(
                task=task,
                period="2024-H1",
                percent=percent,
                text="示例进展：按计划推进。"
                if percent >= 40
                else "示例进展：进度滞后，正在协调。",
                reported_at=now,
                confirmed_at=now,
            )
        )
    Task.objects.bulk_update(leaves, ["deadline"])
    ProgressReport.objects.bulk_create(reports)

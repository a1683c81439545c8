"""督查考核: each unit's score from the completion and timeliness of its tasks.

The worked example is docs/plans-scoring.md; ``tests/test_scoring.py`` computes it.

For every unit named as lead or responsible on a task (the unit as matched,
or the name as written), over its tasks weighted by ``Task.weight``:

- completion = Σ w · min(percent, 100) / 100 / Σ w, percent the latest
  confirmed progress (0 without one);
- timeliness = Σ w · on_time / Σ w, on_time 1 unless the task is overdue on
  ``today`` (an approved extension moves the deadline and counts as on time);
- score = 100 × (COMPLETION_SHARE × completion + (1 − COMPLETION_SHARE) × timeliness);
- rank: descending, ties share the lowest rank.

Cooperating units are not scored: the plan holds the lead and responsible
units to account.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass

from kechuang.plans.choices import TaskStatus
from kechuang.plans.models import Plan
from kechuang.plans.services.status import accountable_units, latest_confirmed, task_status

COMPLETION_SHARE = 0.6


@dataclass
class UnitScore:
    unit: str
    tasks: int
    completion: float
    timeliness: float
    score: float
    rank: int = 0


def unit_scores(plan: Plan, today: datetime.date) -> list[UnitScore]:
    sums: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0, 0.0, 0.0])
    tasks = plan.tasks.prefetch_related("assignments__department", "reports", "children")
    for task in tasks:
        if task.children.exists():
            continue  # headings are scored through their items
        latest = latest_confirmed(task)
        completion = min(latest.percent, 100.0) / 100 if latest else 0.0
        on_time = 0.0 if task_status(task, today) == TaskStatus.OVERDUE else 1.0
        for unit in accountable_units(task):
            total = sums[unit]
            total[0] += task.weight
            total[1] += task.weight * completion
            total[2] += task.weight * on_time
            total[3] += 1
    scores = [
        UnitScore(
            unit=unit,
            tasks=int(count),
            completion=done / weight,
            timeliness=timely / weight,
            score=100
            * (COMPLETION_SHARE * done / weight + (1 - COMPLETION_SHARE) * timely / weight),
        )
        for unit, (weight, done, timely, count) in sums.items()
        if weight > 0
    ]
    scores.sort(key=lambda s: (-s.score, s.unit))
    for position, score in enumerate(scores):
        same = position > 0 and abs(score.score - scores[position - 1].score) < 1e-9
        score.rank = scores[position - 1].rank if same else position + 1
    return scores

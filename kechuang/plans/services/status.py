"""A task's status, computed from its deadline and its confirmed progress; never typed.

``today`` is an argument so supervision rules run on a controllable clock.
"""

from __future__ import annotations

import datetime

from kechuang.plans.choices import TaskStatus
from kechuang.plans.models import Task

# Behind the straight line from the plan's start to the deadline by this many points: at risk.
AT_RISK_GAP = 25.0


def task_status(task: Task, today: datetime.date, *, started: datetime.date | None = None) -> str:
    """``started``: when work began (the plan's issue date by default)."""
    confirmed = [r for r in task.reports.all() if r.confirmed_at is not None]
    latest = max(confirmed, key=lambda r: r.reported_at, default=None)
    percent = latest.percent if latest else 0.0
    if percent >= 100:
        return TaskStatus.DONE
    if task.deadline and task.deadline < today:
        return TaskStatus.OVERDUE
    if latest is None:
        return TaskStatus.NOT_STARTED
    start = started or task.plan.issued_on
    if task.deadline and start and task.deadline > start:
        elapsed = (today - start).days / (task.deadline - start).days
        if min(elapsed, 1.0) * 100 - percent > AT_RISK_GAP:
            return TaskStatus.AT_RISK
    return TaskStatus.ON_TRACK

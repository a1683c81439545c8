"""A task's status, computed from its deadline and its confirmed progress; never typed.

``today`` is an argument so supervision rules run on a controllable clock.
"""

from __future__ import annotations

import datetime

from kechuang.plans.choices import Role, TaskStatus
from kechuang.plans.models import ProgressReport, Task

# Behind the straight line from the plan's start to the deadline by this many points: at risk.
AT_RISK_GAP = 25.0


def latest_confirmed(task: Task) -> ProgressReport | None:
    """The newest report the lead side confirmed: the only progress that counts."""
    confirmed = [r for r in task.reports.all() if r.confirmed_at is not None]
    return max(confirmed, key=lambda r: r.reported_at, default=None)


def accountable_units(task: Task) -> list[str]:
    """The lead and responsible units (cooperating ones are not held to account)."""
    return sorted(
        {a.label for a in task.assignments.all() if a.role in (Role.LEAD, Role.RESPONSIBLE)}
    )


def task_status(task: Task, today: datetime.date, *, started: datetime.date | None = None) -> str:
    """``started``: when work began (the plan's issue date by default)."""
    latest = latest_confirmed(task)
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


def board(
    tasks: list[Task], today: datetime.date
) -> tuple[list[str], list[tuple[str, list[list[tuple[Task, str]]]]]]:
    """挂图作战: units down, months across, each task in its deadline's month with its status.

    Returns (month labels, [(unit, cells per month)]); a task with several lead
    or responsible units appears on each of their rows.
    """
    dated = [t for t in tasks if t.deadline is not None]
    if not dated:
        return [], []
    first = min(t.deadline for t in dated).replace(day=1)
    last = max(t.deadline for t in dated)
    months: list[datetime.date] = []
    month = first
    while month <= last:
        months.append(month)
        month = (month + datetime.timedelta(days=32)).replace(day=1)
    index = {(m.year, m.month): i for i, m in enumerate(months)}
    rows: dict[str, list[list[tuple[Task, str]]]] = {}
    for task in dated:
        status = task_status(task, today)
        units = accountable_units(task) or [task.plan.org_unit.name]
        for unit in units:
            cells = rows.setdefault(unit, [[] for _ in months])
            cells[index[(task.deadline.year, task.deadline.month)]].append((task, status))
    return [f"{m.year}-{m.month:02d}" for m in months], sorted(rows.items())

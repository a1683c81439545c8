"""督查督办: reminders, overdue warnings, escalation, 催办, 领导批示, extensions, progress.

Every rule takes ``today`` (and every event ``now``) as an argument, so the
scheduled job and the tests run on the same controllable clock:

- a **reminder** once per deadline, ``REMIND_DAYS`` before it;
- an **overdue** warning once per deadline, the day after it passes unfinished;
- an **escalation** to the level above the plan's unit once per deadline,
  when the task is still unfinished ``ESCALATE_AFTER_DAYS`` after it;
- an **extension** keeps the old and the new deadline; the rules above then
  apply to the new one.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from kechuang.audit import services as audit
from kechuang.core.authorization import Action, require
from kechuang.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from kechuang.plans.choices import EventKind, TaskStatus
from kechuang.plans.models import Milestone, ProgressReport, SupervisionEvent, Task
from kechuang.plans.services.status import task_status

REMIND_DAYS = 7
ESCALATE_AFTER_DAYS = 15


@dataclass
class SweepReport:
    reminders: int = 0
    overdue: int = 0
    escalations: int = 0


@transaction.atomic
def sweep(today: datetime.date, *, now: datetime.datetime) -> SweepReport:
    """The daily job: reminders, overdue warnings and escalations that are due and not yet sent."""
    report = SweepReport()
    tasks = (
        Task.objects.filter(deadline__isnull=False)
        .select_related("plan__org_unit__parent")
        .prefetch_related("reports", "events")
    )
    new = []
    for task in tasks:
        if task_status(task, today) == TaskStatus.DONE:
            continue
        sent = {(e.kind, e.about) for e in task.events.all()}
        deadline = task.deadline
        days_left = (deadline - today).days
        if 0 <= days_left <= REMIND_DAYS and (EventKind.REMINDER, deadline) not in sent:
            new.append(
                _event(
                    task,
                    EventKind.REMINDER,
                    now,
                    deadline,
                    task.plan.org_unit,
                    _("距完成时限还有 %(n)d 天。") % {"n": days_left},
                )
            )
            report.reminders += 1
        if days_left < 0 and (EventKind.OVERDUE, deadline) not in sent:
            new.append(
                _event(
                    task,
                    EventKind.OVERDUE,
                    now,
                    deadline,
                    task.plan.org_unit,
                    _("已超过完成时限 %(d)s。") % {"d": deadline.isoformat()},
                )
            )
            report.overdue += 1
        above = task.plan.org_unit.parent
        if (
            -days_left > ESCALATE_AFTER_DAYS
            and above is not None
            and (EventKind.ESCALATION, deadline) not in sent
        ):
            new.append(
                _event(
                    task,
                    EventKind.ESCALATION,
                    now,
                    deadline,
                    above,
                    _("超期 %(n)d 天仍未完成，报%(unit)s督办。")
                    % {"n": -days_left, "unit": above.name},
                )
            )
            report.escalations += 1
    new += _milestone_reminders(today, now, report)
    SupervisionEvent.objects.bulk_create(new)
    if new:
        audit.record(
            None,
            "plans.supervision.sweep",
            None,
            data={**report.__dict__, "day": today.isoformat()},
        )
    return report


def _milestone_reminders(
    today: datetime.date, now: datetime.datetime, report: SweepReport
) -> list[SupervisionEvent]:
    """倒排工期: a reminder once per open milestone, ``REMIND_DAYS`` before it falls due."""
    horizon = today + datetime.timedelta(days=REMIND_DAYS)
    milestones = Milestone.objects.filter(
        done_on__isnull=True, due__gte=today, due__lte=horizon
    ).select_related("task__plan__org_unit")
    sent = set(
        SupervisionEvent.objects.filter(
            kind=EventKind.REMINDER, task__in={m.task_id for m in milestones}
        ).values_list("task_id", "about")
    )
    events = []
    for milestone in milestones:
        if (milestone.task_id, milestone.due) in sent:
            continue
        events.append(
            _event(
                milestone.task,
                EventKind.REMINDER,
                now,
                milestone.due,
                milestone.task.plan.org_unit,
                _("节点「%(m)s」将于 %(d)s 到期。")
                % {"m": milestone.title, "d": milestone.due.isoformat()},
            )
        )
        report.reminders += 1
    return events


@transaction.atomic
def add_milestone(task: Task, *, actor: Any, title: str, due: datetime.date) -> Milestone:
    """A supervisor breaks the task's schedule down (倒排工期)."""
    _require_supervisor(actor, task)
    if not title.strip():
        raise InvalidInput(_("请填写节点名称。"))
    if task.deadline and due > task.deadline:
        raise InvalidInput(_("节点时间不能晚于任务的完成时限。"))
    milestone = Milestone.objects.create(task=task, title=title.strip()[:200], due=due)
    audit.record(
        actor,
        "plans.milestone.add",
        milestone,
        org_unit=task.plan.org_unit,
        after={"task": task.number, "title": milestone.title, "due": due},
    )
    return milestone


@transaction.atomic
def complete_milestone(milestone: Milestone, *, actor: Any, on: datetime.date) -> None:
    _require_visible(actor, milestone.task)
    milestone.done_on = on
    milestone.save(update_fields=["done_on"])
    audit.record(
        actor,
        "plans.milestone.done",
        milestone,
        org_unit=milestone.task.plan.org_unit,
        after={"task": milestone.task.number, "title": milestone.title, "done_on": on},
    )


def _event(
    task: Task, kind: str, now: datetime.datetime, about: datetime.date, unit: Any, text: str
) -> SupervisionEvent:
    return SupervisionEvent(
        task=task, kind=kind, at=now, about=about, to_unit=unit, text=text, actor_name="系统"
    )


def _require_supervisor(actor: Any, task: Task, *, leader_only: bool = False) -> None:
    """The plan's unit or a level above it, as leader (or administrator)."""
    require(actor, Action.MANAGE_PLANS, task.plan.org_unit)
    if leader_only and actor is not None and not actor.is_superuser and actor.role != "leader":
        raise Forbidden(_("领导批示只能由领导填写。"))


@transaction.atomic
def urge(task: Task, *, actor: Any, text: str, now: datetime.datetime) -> SupervisionEvent:
    """催办: a supervisor presses the responsible units."""
    _require_supervisor(actor, task)
    return _record(task, EventKind.URGE, actor, now, text=text)


@transaction.atomic
def instruct(task: Task, *, actor: Any, text: str, now: datetime.datetime) -> SupervisionEvent:
    """领导批示: a leader's instruction on the task."""
    _require_supervisor(actor, task, leader_only=True)
    return _record(task, EventKind.INSTRUCTION, actor, now, text=text)


def _require_visible(actor: Any, task: Task) -> None:
    """The plan's own units and the units the task is assigned to act on it."""
    if actor is not None and not Task.objects.visible_to(actor).filter(pk=task.pk).exists():
        raise NotFound()


@transaction.atomic
def request_extension(
    task: Task, *, actor: Any, new_deadline: datetime.date, reason: str, now: datetime.datetime
) -> SupervisionEvent:
    _require_visible(actor, task)
    if task.deadline is None or new_deadline <= task.deadline:
        raise InvalidInput(_("延期后的时限应晚于原时限。"))
    if not reason.strip():
        raise InvalidInput(_("请说明延期理由。"))
    if pending_extension(task) is not None:
        raise Conflict(_("已有待审批的延期申请。"))
    return _record(
        task,
        EventKind.EXTENSION_REQUEST,
        actor,
        now,
        text=reason,
        old_deadline=task.deadline,
        new_deadline=new_deadline,
    )


def pending_extension(task: Task) -> SupervisionEvent | None:
    """The request for the current deadline that nobody has decided yet."""
    latest = (
        task.events.filter(
            about=task.deadline,
            kind__in=(
                EventKind.EXTENSION_REQUEST,
                EventKind.EXTENSION_APPROVED,
                EventKind.EXTENSION_REFUSED,
            ),
        )
        .order_by("-at", "-id")
        .first()
    )
    return latest if latest is not None and latest.kind == EventKind.EXTENSION_REQUEST else None


@transaction.atomic
def decide_extension(
    request: SupervisionEvent, *, actor: Any, approve: bool, note: str, now: datetime.datetime
) -> SupervisionEvent:
    """Approve (the deadline moves; old and new are kept) or refuse an extension request."""
    task = Task.objects.select_for_update().get(pk=request.task_id)
    _require_supervisor(actor, task)
    if pending_extension(task) != request:
        raise Conflict(_("这项延期申请已经处理过或已失效。"))
    kind = EventKind.EXTENSION_APPROVED if approve else EventKind.EXTENSION_REFUSED
    event = _record(
        task,
        kind,
        actor,
        now,
        text=note,
        old_deadline=request.old_deadline,
        new_deadline=request.new_deadline,
    )
    if approve:
        task.deadline = request.new_deadline
        task.save(update_fields=["deadline"])
    return event


@transaction.atomic
def report_progress(
    task: Task, *, actor: Any, period: str, percent: float, text: str, now: datetime.datetime
) -> ProgressReport:
    _require_visible(actor, task)
    if not 0 <= percent <= 100:
        raise InvalidInput(_("完成进度应在 0 到 100 之间。"))
    report = ProgressReport.objects.create(
        task=task,
        period=period,
        percent=percent,
        text=text,
        reported_by=actor if getattr(actor, "pk", None) else None,
        reported_at=now,
    )
    audit.record(
        actor,
        "plans.progress.report",
        report,
        org_unit=task.plan.org_unit,
        after={"task": task.number, "period": period, "percent": percent},
    )
    return report


@transaction.atomic
def confirm_progress(report: ProgressReport, *, actor: Any, now: datetime.datetime) -> None:
    """The lead unit (or the plan's unit) confirms; only confirmed reports count."""
    _require_supervisor(actor, report.task)
    report.confirmed_by = actor if getattr(actor, "pk", None) else None
    report.confirmed_at = now
    report.save(update_fields=["confirmed_by", "confirmed_at"])
    audit.record(
        actor,
        "plans.progress.confirm",
        report,
        org_unit=report.task.plan.org_unit,
        after={"task": report.task.number, "percent": report.percent},
    )


def _record(
    task: Task, kind: str, actor: Any, now: datetime.datetime, **fields: Any
) -> SupervisionEvent:
    event = SupervisionEvent.objects.create(
        task=task,
        kind=kind,
        actor=actor if getattr(actor, "pk", None) else None,
        actor_name=audit.actor_label(actor),
        at=now,
        about=task.deadline,
        **fields,
    )
    audit.record(
        actor,
        f"plans.supervision.{kind}",
        event,
        org_unit=task.plan.org_unit,
        after={
            "task": task.number,
            "text": fields.get("text", ""),
            "old_deadline": fields.get("old_deadline"),
            "new_deadline": fields.get("new_deadline"),
        },
    )
    return event


def changes_since(
    plan: Any, since: datetime.datetime
) -> list[tuple[datetime.datetime, str, Task, str]]:
    """What happened to the plan's tasks after ``since``: events and progress, newest first."""
    items = [
        (e.at, e.get_kind_display(), e.task, e.text)
        for e in SupervisionEvent.objects.filter(task__plan=plan, at__gt=since).select_related(
            "task"
        )
    ]
    items += [
        (r.reported_at, _("进展报送"), r.task, f"{r.percent:g}%：{r.text}")
        for r in ProgressReport.objects.filter(
            task__plan=plan, reported_at__gt=since
        ).select_related("task")
    ]
    return sorted(items, key=lambda item: item[0], reverse=True)

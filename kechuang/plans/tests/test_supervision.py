"""Supervision rules on a controllable clock: reminders, overdue, escalation, extensions."""

from __future__ import annotations

import datetime

import pytest

from kechuang.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from kechuang.plans.choices import EventKind
from kechuang.plans.models import Assignment, Plan, SupervisionEvent, Task
from kechuang.plans.services import supervision

pytestmark = pytest.mark.django_db
DEADLINE = datetime.date(2024, 6, 30)


def at(day: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(8), tzinfo=datetime.UTC)


def days(n: int) -> datetime.date:
    return DEADLINE + datetime.timedelta(days=n)


@pytest.fixture
def task(cast) -> Task:
    plan = Plan.objects.create(
        org_unit=cast.unit("jingchuan"), title="示例方案", issued_on=datetime.date(2024, 1, 1)
    )
    task = Task.objects.create(plan=plan, path=["1"], title="建设平台", deadline=DEADLINE)
    Assignment.objects.create(
        task=task, role="responsible", name="县科技局", org_unit=cast.unit("chengguan_town")
    )
    return task


def sweep_on(day: datetime.date) -> supervision.SweepReport:
    return supervision.sweep(day, now=at(day))


def kinds(task: Task) -> list[str]:
    return list(task.events.order_by("at", "id").values_list("kind", flat=True))


def test_a_reminder_once_a_week_before_the_deadline(task) -> None:
    assert sweep_on(days(-8)).reminders == 0
    assert sweep_on(days(-7)).reminders == 1
    assert sweep_on(days(-3)).reminders == 0  # once per deadline
    assert kinds(task) == [EventKind.REMINDER]


def test_overdue_the_day_after_then_escalated_one_level_up(task, cast) -> None:
    assert sweep_on(days(0)).overdue == 0  # the deadline day itself is still in time
    assert sweep_on(days(1)).overdue == 1
    assert sweep_on(days(2)).overdue == 0
    assert sweep_on(days(supervision.ESCALATE_AFTER_DAYS)).escalations == 0
    report = sweep_on(days(supervision.ESCALATE_AFTER_DAYS + 1))
    assert report.escalations == 1
    escalation = task.events.get(kind=EventKind.ESCALATION)
    assert escalation.to_unit == cast.unit("pingliang")  # the level above the plan's county
    assert sweep_on(days(40)).escalations == 0


def test_a_finished_task_is_left_alone(task, cast) -> None:
    report = supervision.report_progress(
        task,
        actor=cast.user("jingchuan", "clerk"),
        period="2024-Q2",
        percent=100,
        text="已建成",
        now=at(days(-10)),
    )
    supervision.confirm_progress(report, actor=cast.user("jingchuan", "leader"), now=at(days(-9)))
    assert sweep_on(days(20)) == supervision.SweepReport()
    assert not task.events.exists()


def test_an_approved_extension_moves_the_deadline_and_keeps_both(task, cast) -> None:
    clerk, leader = cast.user("jingchuan", "clerk"), cast.user("jingchuan", "leader")
    with pytest.raises(InvalidInput):
        supervision.request_extension(
            task, actor=clerk, new_deadline=days(-1), reason="x", now=at(days(-5))
        )
    request = supervision.request_extension(
        task, actor=clerk, new_deadline=days(30), reason="设备未到货", now=at(days(-5))
    )
    with pytest.raises(Conflict):
        supervision.request_extension(
            task, actor=clerk, new_deadline=days(40), reason="再延", now=at(days(-4))
        )
    with pytest.raises(Forbidden):
        supervision.decide_extension(request, actor=clerk, approve=True, note="", now=at(days(-3)))
    supervision.decide_extension(request, actor=leader, approve=True, note="同意", now=at(days(-3)))
    task.refresh_from_db()
    assert task.deadline == days(30)
    decision = task.events.get(kind=EventKind.EXTENSION_APPROVED)
    assert (decision.old_deadline, decision.new_deadline) == (DEADLINE, days(30))
    with pytest.raises(Conflict):
        supervision.decide_extension(
            request, actor=leader, approve=False, note="", now=at(days(-2))
        )
    # The old deadline passes without a warning; the new one brings its own.
    assert sweep_on(days(5)).overdue == 0
    assert sweep_on(days(31)).overdue == 1


def test_a_refused_extension_keeps_the_deadline(task, cast) -> None:
    request = supervision.request_extension(
        task,
        actor=cast.user("jingchuan", "clerk"),
        new_deadline=days(30),
        reason="人手不足",
        now=at(days(-5)),
    )
    supervision.decide_extension(
        request,
        actor=cast.user("jingchuan", "admin"),
        approve=False,
        note="不同意",
        now=at(days(-4)),
    )
    task.refresh_from_db()
    assert task.deadline == DEADLINE
    assert sweep_on(days(1)).overdue == 1


def test_urging_and_instructions(task, cast) -> None:
    supervision.urge(
        task, actor=cast.user("pingliang", "admin"), text="请加快进度", now=at(days(-2))
    )
    with pytest.raises(Forbidden):
        supervision.instruct(
            task, actor=cast.user("jingchuan", "admin"), text="批示", now=at(days(-2))
        )
    supervision.instruct(
        task, actor=cast.user("jingchuan", "leader"), text="务必按期完成", now=at(days(-1))
    )
    with pytest.raises(Forbidden):
        supervision.urge(task, actor=cast.user("jingchuan", "clerk"), text="催", now=at(days(-1)))
    assert kinds(task) == [EventKind.URGE, EventKind.INSTRUCTION]
    changes = supervision.changes_since(task.plan, at(days(-2)) - datetime.timedelta(hours=1))
    assert [text for _at, _kind, _task, text in changes] == ["务必按期完成", "请加快进度"]


def test_progress_is_reported_by_the_units_that_see_the_task(task, cast) -> None:
    with pytest.raises(NotFound):
        supervision.report_progress(
            task,
            actor=cast.user("chongxin", "clerk"),
            period="2024-Q2",
            percent=10,
            text="",
            now=at(days(-10)),
        )
    # 城关镇 is assigned the task (and sits under the plan's county).
    report = supervision.report_progress(
        task,
        actor=cast.user("chengguan_town", "clerk"),
        period="2024-Q2",
        percent=40,
        text="进行中",
        now=at(days(-10)),
    )
    with pytest.raises(InvalidInput):
        supervision.report_progress(
            task, actor=None, period="2024-Q2", percent=140, text="", now=at(days(-9))
        )
    assert report.confirmed_at is None
    assert SupervisionEvent.objects.count() == 0


def test_the_daily_job_through_the_command(task, capsys) -> None:
    from django.core.management import call_command

    call_command("plan", "supervise", "--today", days(1).isoformat())
    call_command("plan", "supervise", "--today", days(1).isoformat())
    out = capsys.readouterr().out
    assert "超期预警 1 条" in out
    assert "超期预警 0 条" in out  # the second run sends nothing again
    assert task.events.filter(kind=EventKind.OVERDUE).count() == 1


def test_a_plan_imported_through_the_command(cast, tmp_path, capsys) -> None:
    from django.core.management import call_command

    path = tmp_path / "方案.txt"
    path.write_text(
        "泾川县科技工作方案\n一、重点任务\n(一)培育主体\n1.新增高新技术企业2家。(牵头单位:县科技局)\n",
        encoding="gb18030",
    )
    call_command("plan", "import", str(path), "--org", "620821", "--create-departments")
    plan = Plan.objects.get()
    assert plan.org_unit == cast.unit("jingchuan")
    lead = Assignment.objects.get(task__plan=plan, role="lead")
    assert lead.department is not None
    assert "已发布" in capsys.readouterr().out


def test_milestones_are_reminded_once_and_can_be_completed(task, cast) -> None:
    leader, clerk = cast.user("jingchuan", "leader"), cast.user("jingchuan", "clerk")
    with pytest.raises(Forbidden):
        supervision.add_milestone(task, actor=clerk, title="设备到货", due=days(-20))
    with pytest.raises(InvalidInput):  # after the task's deadline
        supervision.add_milestone(task, actor=leader, title="验收", due=days(5))
    milestone = supervision.add_milestone(task, actor=leader, title="设备到货", due=days(-20))
    assert sweep_on(days(-28)).reminders == 0
    assert sweep_on(days(-27)).reminders == 1  # a week before the milestone
    assert sweep_on(days(-25)).reminders == 0  # once
    reminder = task.events.get(kind=EventKind.REMINDER)
    assert "设备到货" in reminder.text
    supervision.complete_milestone(milestone, actor=clerk, on=days(-21))
    milestone.refresh_from_db()
    assert milestone.done_on == days(-21)

"""Plans, their task trees, who does what, targets and promised subsidies; progress and supervision.

A plan (规划、实施方案、工作要点) belongs to the org unit that issued it and may
implement a plan of the level above. Its tasks form a tree numbered as the
document numbers them; each task names lead, responsible and cooperating
units (a department or an org unit), carries a deadline, milestones, targets
and a weight for scoring. Statuses are computed (``services.status``).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from kechuang.plans.choices import (
    Comparator,
    EventKind,
    Frequency,
    PlanStatus,
    Role,
    SubsidyPer,
)
from kechuang.plans.querysets import PlanQuerySet, TaskQuerySet


class Plan(models.Model):
    org_unit = models.ForeignKey(
        "regions.OrgUnit",
        on_delete=models.PROTECT,
        related_name="plans",
        verbose_name=_("制定单位"),
    )
    title = models.CharField(_("标题"), max_length=300)
    issuer = models.CharField(_("发文机关"), max_length=300, blank=True)
    doc_number = models.CharField(_("文号"), max_length=100, blank=True)
    issued_on = models.DateField(_("成文日期"), null=True, blank=True)
    start_year = models.PositiveSmallIntegerField(_("起始年度"), null=True, blank=True)
    end_year = models.PositiveSmallIntegerField(_("截止年度"), null=True, blank=True)
    parent = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="children",
        verbose_name=_("贯彻落实的上级规划"),
    )
    status = models.CharField(
        _("状态"), max_length=10, choices=PlanStatus.choices, default=PlanStatus.DRAFT
    )
    source_text = models.TextField(_("原文"), blank=True)
    is_demo = models.BooleanField(_("示例数据"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = PlanQuerySet.as_manager()

    class Meta:
        verbose_name = _("规划计划")
        verbose_name_plural = _("规划计划")
        ordering = ["-issued_on", "-id"]

    def __str__(self) -> str:
        return self.title


class Task(models.Model):
    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="tasks")
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="children"
    )
    # The document's own numbering, e.g. ["二", "(一)", "1"].
    path = models.JSONField(_("编号"), default=list)
    title = models.CharField(_("任务"), max_length=500)
    description = models.TextField(_("内容"), blank=True)
    deadline = models.DateField(_("完成时限"), null=True, blank=True)
    weight = models.FloatField(_("权重"), default=1.0)
    frequency = models.CharField(
        _("报送频次"), max_length=12, choices=Frequency.choices, default=Frequency.QUARTERLY
    )
    order = models.PositiveIntegerField(default=0)

    objects = TaskQuerySet.as_manager()

    class Meta:
        verbose_name = _("任务")
        verbose_name_plural = _("任务")
        ordering = ["plan", "order"]

    def __str__(self) -> str:
        return f"{self.number} {self.title}"

    @property
    def number(self) -> str:
        return ".".join(self.path)


class Assignment(models.Model):
    """One unit in one role on one task, as the plan wrote it and as it was matched."""

    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="assignments")
    role = models.CharField(_("角色"), max_length=12, choices=Role.choices)
    name = models.CharField(_("名称（原文）"), max_length=200)
    department = models.ForeignKey(
        "regions.Department", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    org_unit = models.ForeignKey(
        "regions.OrgUnit", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name = _("任务分工")
        verbose_name_plural = _("任务分工")
        ordering = ["task", "role", "order"]

    def __str__(self) -> str:
        return f"{self.get_role_display()}：{self.name}"

    @property
    def label(self) -> str:
        """The matched department's name, else the name as the plan wrote it."""
        return self.department.name if self.department else self.name


class Milestone(models.Model):
    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="milestones")
    title = models.CharField(_("节点"), max_length=200)
    due = models.DateField(_("节点时间"))
    done_on = models.DateField(_("完成日期"), null=True, blank=True)

    class Meta:
        ordering = ["task", "due"]

    def __str__(self) -> str:
        return self.title


class PlanTarget(models.Model):
    """A numeric target of the plan; read from reported data when it names a catalogue indicator."""

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="targets")
    task = models.ForeignKey(
        Task, null=True, blank=True, on_delete=models.SET_NULL, related_name="targets"
    )
    text = models.TextField(_("原文"))
    subject = models.CharField(_("指标"), max_length=300)
    indicator = models.ForeignKey(
        "indicators.Indicator", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    comparator = models.CharField(_("比较"), max_length=10, choices=Comparator.choices)
    value = models.FloatField(_("目标值"))
    value_max = models.FloatField(_("上限"), null=True, blank=True)
    unit = models.CharField(_("单位"), max_length=30, blank=True)
    year = models.PositiveSmallIntegerField(_("年度"), null=True, blank=True)
    scope = models.CharField(_("范围"), max_length=50, blank=True)

    class Meta:
        ordering = ["plan", "id"]

    def __str__(self) -> str:
        return self.text


class Subsidy(models.Model):
    """A promised payment (奖补) to a class of recipients."""

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="subsidies")
    task = models.ForeignKey(
        Task, null=True, blank=True, on_delete=models.SET_NULL, related_name="subsidies"
    )
    text = models.TextField(_("原文"))
    subject = models.CharField(_("对象"), max_length=300)
    amount_yuan = models.FloatField(_("金额（元）"))
    amount_max_yuan = models.FloatField(_("金额上限（元）"), null=True, blank=True)
    per = models.CharField(_("发放方式"), max_length=24, choices=SubsidyPer.choices)

    class Meta:
        ordering = ["plan", "id"]

    def __str__(self) -> str:
        return self.text


class ProgressReport(models.Model):
    """A responsible unit's periodic report; counts once the lead unit confirms it."""

    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="reports")
    period = models.CharField(_("报送期"), max_length=20)  # 2024-Q1, 2024-05, 2024-H1, 2024
    percent = models.FloatField(_("完成进度（%）"))
    text = models.TextField(_("进展情况"))
    attachment = models.FileField(_("附件"), upload_to="progress/%Y/", blank=True)
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    reported_at = models.DateTimeField()
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    confirmed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["task", "-reported_at"]

    def __str__(self) -> str:
        return f"{self.period} {self.percent:g}%"


class SupervisionEvent(models.Model):
    """Reminders, overdue warnings, escalations, 催办, 领导批示 and extensions, in order."""

    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(_("类型"), max_length=20, choices=EventKind.choices)
    text = models.TextField(_("内容"), blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_name = models.CharField(max_length=150, blank=True)
    at = models.DateTimeField()
    old_deadline = models.DateField(null=True, blank=True)
    new_deadline = models.DateField(null=True, blank=True)
    # Escalations and reminders go to a unit; the day they are about keeps them unique.
    to_unit = models.ForeignKey(
        "regions.OrgUnit", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    about = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["task", "at", "id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.at:%Y-%m-%d}"

"""The indicator catalogue, the yearly values units report, and what they are measured against."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kechuang.indicators.choices import (
    Channel,
    Comparator,
    Direction,
    Importance,
    Rollup,
    SubmissionStatus,
    ValueType,
)
from kechuang.indicators.querysets import (
    DataValueQuerySet,
    SubmissionQuerySet,
    TargetQuerySet,
)

code_field = {"max_length": 40, "unique": True}


class IndicatorGroup(models.Model):
    """A heading indicators are filed under (科技活动投入, 预期指标 …), possibly nested."""

    code = models.CharField(_("代码"), **code_field)
    name = models.CharField(_("名称"), max_length=100)
    name_en = models.CharField(_("英文名称"), max_length=150, blank=True)
    parent = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
        verbose_name=_("上级分组"),
    )
    order = models.PositiveIntegerField(_("排序"), default=0)

    class Meta:
        verbose_name = _("指标分组")
        verbose_name_plural = _("指标分组")
        ordering = ["order", "code"]

    def __str__(self) -> str:
        return self.name


class Indicator(models.Model):
    """A quantity a unit reports or the platform derives: 研发经费支出 in 亿元, yearly.

    ``rollup`` says how a city's or province's value follows from its
    counties' approved values. A derived indicator has a ``formula`` over other
    indicators' codes and is never typed in.
    """

    code = models.CharField(_("代码"), **code_field)
    name = models.CharField(_("名称"), max_length=100)
    name_en = models.CharField(_("英文名称"), max_length=200, blank=True)
    unit = models.CharField(_("计量单位"), max_length=30, blank=True)
    definition = models.TextField(_("指标解释"), blank=True)
    source_department = models.CharField(_("数据来源部门"), max_length=100, blank=True)
    value_type = models.CharField(
        _("数值类型"), max_length=10, choices=ValueType.choices, default=ValueType.NUMBER
    )
    decimals = models.PositiveSmallIntegerField(_("小数位数"), default=2)
    direction = models.CharField(
        _("方向"), max_length=10, choices=Direction.choices, default=Direction.POSITIVE
    )
    rollup = models.CharField(
        _("汇总方式"), max_length=10, choices=Rollup.choices, default=Rollup.SUM
    )
    numerator = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("分子指标"),
    )
    denominator = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("分母指标"),
    )
    scale = models.FloatField(
        _("比值倍数"), default=1.0, help_text=_("比值 = 分子 ÷ 分母 × 倍数，如百分比为 100。")
    )
    formula = models.CharField(
        _("计算公式"),
        max_length=500,
        blank=True,
        help_text=_("派生指标的公式，如 RD_EXP / GDP * 100。"),
    )
    min_value = models.FloatField(_("下限"), null=True, blank=True)
    max_value = models.FloatField(_("上限"), null=True, blank=True)
    groups = models.ManyToManyField(
        IndicatorGroup, blank=True, related_name="indicators", verbose_name=_("分组")
    )
    source_note = models.CharField(_("出处"), max_length=300, blank=True)
    is_active = models.BooleanField(_("启用"), default=True)
    order = models.PositiveIntegerField(_("排序"), default=0)

    class Meta:
        verbose_name = _("指标")
        verbose_name_plural = _("指标")
        ordering = ["order", "code"]

    def __str__(self) -> str:
        return f"{self.name}（{self.unit}）" if self.unit else self.name

    @property
    def is_derived(self) -> bool:
        return bool(self.formula)


class DataSet(models.Model):
    """A form due once a year per org unit: which indicators, by when, approved by whom."""

    code = models.CharField(_("代码"), **code_field)
    name = models.CharField(_("名称"), max_length=100)
    description = models.TextField(_("说明"), blank=True)
    indicators = models.ManyToManyField(
        Indicator, through="DataSetMember", related_name="datasets", verbose_name=_("指标")
    )
    # Due on this month/day of the year after the reporting year (年报 next spring).
    due_month = models.PositiveSmallIntegerField(_("截止月"), default=3)
    due_day = models.PositiveSmallIntegerField(_("截止日"), default=31)
    # Levels (regions.Level values) that approve, nearest first; e.g. [2, 1] = 市 then 省.
    approval_levels = models.JSONField(_("审核层级"), default=list)
    reporting_levels = models.JSONField(
        _("填报层级"), default=list, help_text=_("哪些层级的单位填报，如 [3] 为县级。")
    )
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("填报表")
        verbose_name_plural = _("填报表")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class DataSetMember(models.Model):
    dataset = models.ForeignKey(DataSet, on_delete=models.CASCADE, related_name="members")
    indicator = models.ForeignKey(Indicator, on_delete=models.PROTECT, related_name="+")
    section = models.CharField(_("栏目"), max_length=100, blank=True)
    order = models.PositiveIntegerField(_("排序"), default=0)
    is_required = models.BooleanField(_("必填"), default=True)

    class Meta:
        verbose_name = _("填报表指标")
        ordering = ["dataset", "order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["dataset", "indicator"], name="dataset_member_unique")
        ]

    def __str__(self) -> str:
        return f"{self.dataset_id}:{self.indicator_id}"


class Submission(models.Model):
    """One org unit's data set for one year, and where it stands in review.

    ``visible_level`` is the highest tree level (smallest number) allowed to
    see the values: the unit itself while in draft, the reviewing level once
    submitted, everyone once finally approved (docs/adr/0004).
    """

    dataset = models.ForeignKey(
        DataSet, on_delete=models.PROTECT, related_name="submissions", verbose_name=_("填报表")
    )
    org_unit = models.ForeignKey(
        "regions.OrgUnit",
        on_delete=models.PROTECT,
        related_name="submissions",
        verbose_name=_("填报单位"),
    )
    year = models.PositiveSmallIntegerField(_("年度"))
    status = models.CharField(
        _("状态"), max_length=10, choices=SubmissionStatus.choices, default=SubmissionStatus.DRAFT
    )
    approved_levels = models.JSONField(_("已审核层级"), default=list)
    next_level = models.PositiveSmallIntegerField(_("待审核层级"), null=True, blank=True)
    visible_level = models.PositiveSmallIntegerField(_("可见层级"))
    return_reason = models.TextField(_("退回或重开理由"), blank=True)
    submitted_at = models.DateTimeField(_("上报时间"), null=True, blank=True)
    approved_at = models.DateTimeField(_("审定时间"), null=True, blank=True)
    # Digest of the values at final approval: "changed since approval" compares against it.
    approved_digest = models.CharField(max_length=64, blank=True)
    scan = models.FileField(_("盖章扫描件"), upload_to="submissions/scans/%Y/", blank=True)
    is_demo = models.BooleanField(_("示例数据"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = SubmissionQuerySet.as_manager()

    class Meta:
        verbose_name = _("填报")
        verbose_name_plural = _("填报")
        ordering = ["-year", "org_unit__path"]
        constraints = [
            models.UniqueConstraint(
                fields=["dataset", "org_unit", "year"], name="submission_unique"
            )
        ]
        indexes = [models.Index(fields=["dataset", "year", "status"], name="submission_matrix")]

    def __str__(self) -> str:
        return f"{self.org_unit} {self.year} {self.dataset}"


class DataValue(models.Model):
    """One number: an indicator's value for one org unit and one year.

    A tall fact table: one row per cell, unique on (indicator, org_unit, year).
    Until its first change the row itself is the cell's first entry (who, when,
    channel); every change appends a ``DataValueRevision`` (ADR 0005).
    """

    # No single-column index: the unique (indicator, org_unit, year) serves
    # lookups by indicator, and every index costs each row of a national import.
    indicator = models.ForeignKey(
        Indicator, on_delete=models.PROTECT, related_name="values", db_index=False
    )
    org_unit = models.ForeignKey(
        "regions.OrgUnit", on_delete=models.PROTECT, related_name="data_values"
    )
    year = models.PositiveSmallIntegerField()
    value = models.FloatField(null=True, blank=True)
    comment = models.TextField(blank=True)
    submission = models.ForeignKey(Submission, on_delete=models.PROTECT, related_name="values")
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,  # only read when a user is deleted
    )
    channel = models.CharField(max_length=10, choices=Channel.choices, default=Channel.FORM)
    is_demo = models.BooleanField(default=False)

    objects = DataValueQuerySet.as_manager()

    class Meta:
        verbose_name = _("指标数值")
        verbose_name_plural = _("指标数值")
        constraints = [
            models.UniqueConstraint(
                fields=["indicator", "org_unit", "year"], name="datavalue_cell_unique"
            )
        ]
        indexes = [
            # Roll-ups and rankings read one indicator for one year across many units.
            models.Index(fields=["indicator", "year"], name="datavalue_indicator_year"),
        ]

    def __str__(self) -> str:
        return f"{self.indicator_id}@{self.org_unit_id}/{self.year}={self.value}"


class DataValueRevision(models.Model):
    """Append-only history of one cell: who changed it, when, from what to what, and why."""

    data_value = models.ForeignKey(DataValue, on_delete=models.CASCADE, related_name="revisions")
    value_before = models.FloatField(null=True, blank=True)
    value_after = models.FloatField(null=True, blank=True)
    comment = models.TextField(blank=True)
    reason = models.CharField(max_length=300, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_name = models.CharField(max_length=150, blank=True)
    # Not auto_now_add: a cell's first entry is kept with the time it was made.
    time = models.DateTimeField(default=timezone.now)
    channel = models.CharField(max_length=10, choices=Channel.choices)
    request_id = models.UUIDField(null=True, blank=True)

    class Meta:
        verbose_name = _("数值修订记录")
        ordering = ["data_value", "time", "id"]

    def __str__(self) -> str:
        return f"{self.value_before} → {self.value_after}"


class ValidationRule(models.Model):
    """A check over a unit's values for one year: left op right, e.g. GOV_ST_EXP <= GOV_EXP."""

    code = models.CharField(_("代码"), **code_field)
    name = models.CharField(_("名称"), max_length=200)
    left = models.CharField(_("左式"), max_length=500)
    operator = models.CharField(
        _("关系"), max_length=2, choices=[(o, o) for o in ("<=", "<", ">=", ">", "==", "!=")]
    )
    right = models.CharField(_("右式"), max_length=500)
    importance = models.CharField(
        _("重要性"), max_length=10, choices=Importance.choices, default=Importance.ERROR
    )
    dataset = models.ForeignKey(
        DataSet,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="rules",
        verbose_name=_("适用填报表"),
    )
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("校验规则")
        verbose_name_plural = _("校验规则")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.left} {self.operator} {self.right}"


class Target(models.Model):
    """What a unit should reach on an indicator in a year (seed 002: R&D ≥ 0.16 亿元 in 2023)."""

    org_unit = models.ForeignKey(
        "regions.OrgUnit", on_delete=models.PROTECT, related_name="targets", verbose_name=_("单位")
    )
    indicator = models.ForeignKey(
        Indicator, on_delete=models.PROTECT, related_name="targets", verbose_name=_("指标")
    )
    year = models.PositiveSmallIntegerField(_("目标年度"))
    comparator = models.CharField(
        _("比较方式"), max_length=10, choices=Comparator.choices, default=Comparator.AT_LEAST
    )
    value = models.FloatField(_("目标值"))
    value_high = models.FloatField(_("区间上限"), null=True, blank=True)
    base_year = models.PositiveSmallIntegerField(_("基期年度"), null=True, blank=True)
    note = models.CharField(_("说明"), max_length=300, blank=True)
    set_by_unit = models.ForeignKey(
        "regions.OrgUnit",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("下达单位"),
    )
    is_demo = models.BooleanField(_("示例数据"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = TargetQuerySet.as_manager()

    class Meta:
        verbose_name = _("目标")
        verbose_name_plural = _("目标")
        ordering = ["org_unit__path", "year", "indicator__order"]
        constraints = [
            models.UniqueConstraint(
                fields=["org_unit", "indicator", "year"], name="target_cell_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.org_unit} {self.year} {self.indicator.name} {self.value}"

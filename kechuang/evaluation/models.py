"""Methodologies (the index as data), runs and results; assessment schemes, rounds and outcomes."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from kechuang.evaluation import assessment
from kechuang.evaluation.choices import Family, SchemeKind, Source
from kechuang.regions.choices import Level


class Methodology(models.Model):
    """One version of a composite index: its tree, goalposts, weights and build steps.

    Versioned by year and issuing authority; a run points at the version it
    used, so changing next year's weights never rewrites last year's ranking.
    """

    code = models.CharField(_("代码"), max_length=40)
    version = models.PositiveSmallIntegerField(_("版本（年度）"))
    name = models.CharField(_("名称"), max_length=100)
    name_en = models.CharField(_("英文名称"), max_length=150, blank=True)
    authority = models.CharField(_("发布机关"), max_length=100, blank=True)
    family = models.CharField(_("指数类型"), max_length=20, choices=Family.choices)
    unit = models.CharField(_("计量单位"), max_length=10, blank=True)
    level_names = models.JSONField(_("各层名称"), default=list)
    note = models.TextField(_("说明"), blank=True)
    # The engine's spec: an ordered list of {step: {parameters}} (evaluation.engine.spec).
    steps = models.JSONField(_("计算步骤"), default=list)
    source = models.CharField(_("来源"), max_length=10, choices=Source.choices)
    is_active = models.BooleanField(_("启用"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("评价方法")
        verbose_name_plural = _("评价方法")
        ordering = ["code", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["code", "version"], name="methodology_version_unique")
        ]

    def __str__(self) -> str:
        return f"{self.name}（{self.version}版）"


class MethodologyNode(models.Model):
    """A node of the tree: an indicator (level 1) or an aggregate above it."""

    methodology = models.ForeignKey(Methodology, on_delete=models.CASCADE, related_name="nodes")
    code = models.CharField(_("代码"), max_length=40)
    name = models.CharField(_("名称"), max_length=200)
    level = models.PositiveSmallIntegerField(_("层级"))
    parent_code = models.CharField(_("上级代码"), max_length=40, blank=True)
    indicator = models.ForeignKey(
        "indicators.Indicator",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("指标"),
    )
    direction = models.SmallIntegerField(_("方向"), default=1)  # 1 正向, -1 逆向
    weight = models.FloatField(_("权重"), default=1.0)
    target = models.FloatField(_("标准值"), null=True, blank=True)
    target_note = models.CharField(_("标准值说明"), max_length=100, blank=True)
    order = models.PositiveIntegerField(_("排序"), default=0)

    class Meta:
        verbose_name = _("指标体系节点")
        verbose_name_plural = _("指标体系节点")
        ordering = ["methodology", "-level", "order"]
        constraints = [
            models.UniqueConstraint(fields=["methodology", "code"], name="node_code_unique")
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class Snapshot(models.Model):
    """What a computation read: the year, the scope, the input data and its SHA-256.

    A rerun on data with the same digest returns the stored computation, so
    the same data always shows the same numbers (ADR 0006).
    """

    year = models.PositiveSmallIntegerField(_("年度"))
    within = models.ForeignKey(
        "regions.OrgUnit",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("评价范围"),
    )
    inputs = models.JSONField(_("输入数据"))
    data_digest = models.CharField(_("数据摘要"), max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    is_demo = models.BooleanField(_("示例数据"), default=False)

    class Meta:
        abstract = True


class IndexRun(Snapshot):
    """One computation: a methodology version over the approved data of some units and years.

    ``inputs`` is the data snapshot (unit codes, years, indicator codes, the
    matrix) and ``data_digest`` its SHA-256, so a rerun on the same data is
    recognisable and gives the same numbers.
    """

    methodology = models.ForeignKey(Methodology, on_delete=models.PROTECT, related_name="runs")
    level = models.PositiveSmallIntegerField(_("评价层级"))
    units = models.PositiveIntegerField(_("参评单位数"), default=0)

    class Meta:
        verbose_name = _("指数计算")
        verbose_name_plural = _("指数计算")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["methodology", "year", "within"], name="run_lookup")]

    def __str__(self) -> str:
        return f"{self.methodology} · {self.year} · {self.within}"


class IndexResult(models.Model):
    """One unit's outcome in a run: score, rank, every node's score and its contributions."""

    run = models.ForeignKey(IndexRun, on_delete=models.CASCADE, related_name="results")
    org_unit = models.ForeignKey("regions.OrgUnit", on_delete=models.PROTECT, related_name="+")
    year = models.PositiveSmallIntegerField(_("年度"))
    score = models.FloatField(_("得分"), null=True)
    rank = models.PositiveIntegerField(_("排名"), null=True)
    # node code → score (normalised indicator scores and every aggregate)
    scores = models.JSONField(default=dict)
    # indicator code → points it adds to the top index
    contributions = models.JSONField(default=dict)
    # The 5 % and 95 % quantiles of the rank over the run's Monte Carlo (weights ±25 %).
    rank_low = models.FloatField(_("名次区间下限"), null=True)
    rank_high = models.FloatField(_("名次区间上限"), null=True)
    # Units of similar profile (clustered on the latest indicator scores), rank among them.
    peer_group = models.PositiveSmallIntegerField(_("同类组"), null=True)
    peer_rank = models.PositiveIntegerField(_("组内排名"), null=True)

    class Meta:
        verbose_name = _("指数结果")
        verbose_name_plural = _("指数结果")
        ordering = ["run", "year", "rank"]
        constraints = [
            models.UniqueConstraint(fields=["run", "org_unit", "year"], name="result_unique")
        ]

    def __str__(self) -> str:
        return f"{self.org_unit_id}@{self.year}: {self.score}"


class AssessmentScheme(models.Model):
    """One version of an assessment: who is eligible, how points are earned, who is put forward.

    Used to pick 创新型县(市) and 创新型乡镇 candidates (the data-evaluation step
    of the selection) and to score the 党政领导科技进步目标责任制. ``rules`` is the
    configuration ``evaluation.assessment.parse_scheme`` reads; nothing is
    stored that it refuses. A scheme with rounds is never changed: a new
    version is loaded instead.
    """

    code = models.CharField(_("代码"), max_length=40)
    version = models.PositiveSmallIntegerField(_("版本（年度）"))
    name = models.CharField(_("名称"), max_length=100)
    kind = models.CharField(_("评价类型"), max_length=30, choices=SchemeKind.choices)
    level = models.PositiveSmallIntegerField(_("评价对象层级"), choices=Level.choices)
    authority = models.CharField(_("依据与组织机关"), max_length=200, blank=True)
    note = models.TextField(_("说明"), blank=True)
    rules = models.JSONField(_("评价规则"), default=dict)
    source = models.CharField(_("来源"), max_length=10, choices=Source.choices)
    is_active = models.BooleanField(_("启用"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("评价方案")
        verbose_name_plural = _("评价方案")
        ordering = ["code", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["code", "version"], name="scheme_version_unique")
        ]

    def __str__(self) -> str:
        return f"{self.name}（{self.version}版）"

    def parsed(self) -> assessment.Scheme:
        return assessment.parse_scheme(self.rules)


class AssessmentRound(Snapshot):
    """One application of a scheme to the approved data of one year inside one scope.

    ``inputs`` is the data snapshot (candidates, the values and target
    completions read) and ``data_digest`` its SHA-256: a rerun on the same
    data returns this round instead of a copy.
    """

    scheme = models.ForeignKey(
        AssessmentScheme,
        on_delete=models.PROTECT,
        related_name="rounds",
        verbose_name=_("评价方案"),
    )
    candidates = models.PositiveIntegerField(_("参评单位数"), default=0)
    shortlisted = models.PositiveIntegerField(_("入围单位数"), default=0)

    class Meta:
        verbose_name = _("评价轮次")
        verbose_name_plural = _("评价轮次")
        ordering = ["-created_at", "-id"]
        # The rerun check: the latest round of a scheme for a year and scope.
        indexes = [models.Index(fields=["scheme", "year", "within"], name="round_lookup")]

    def __str__(self) -> str:
        return f"{self.scheme} · {self.year} · {self.within}"


class AssessmentOutcome(models.Model):
    """One candidate's result in a round, with the evidence: each condition and criterion."""

    round = models.ForeignKey(AssessmentRound, on_delete=models.CASCADE, related_name="outcomes")
    org_unit = models.ForeignKey("regions.OrgUnit", on_delete=models.PROTECT, related_name="+")
    eligible = models.BooleanField(_("符合准入条件"))
    total = models.FloatField(_("总分"))
    percent = models.FloatField(_("得分率"))
    rank = models.PositiveIntegerField(_("名次"), null=True)
    shortlisted = models.BooleanField(_("入围"), default=False)
    # {"conditions": [...], "criteria": [...]} as evaluation.assessment.Outcome.evidence()
    evidence = models.JSONField(_("评价依据"), default=dict)
    # The position in the ranked list: eligible by rank then code, the rest by code.
    order = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("评价结果")
        verbose_name_plural = _("评价结果")
        ordering = ["round", "order"]
        constraints = [models.UniqueConstraint(fields=["round", "org_unit"], name="outcome_unique")]

    def __str__(self) -> str:
        return f"{self.org_unit_id}: {self.total}"

"""The org-unit tree (省 > 市 > 县 > 乡镇) and the departments that own tasks."""

from __future__ import annotations

from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from kechuang.regions.choices import Level, UnitKind
from kechuang.regions.querysets import DepartmentQuerySet, OrgUnitQuerySet
from kechuang.regions.tree import ancestor_paths

division_code_validator = RegexValidator(
    r"^(CN|\d{2}|\d{4}|\d{6}|\d{9}|\d{12})$",
    _("区划代码应为 2、4、6、9 或 12 位数字（全国为 CN）。"),
)


class OrgUnit(models.Model):
    """An administrative area and the government that runs it: 甘肃省, 平凉市, 泾川县, 城关镇.

    The tree is a materialized path (docs/adr/0001-org-unit-tree.md): ``parent``
    is the truth, ``path`` is derived from it and only ever written by
    ``regions.services``. The statistical division code is an attribute with
    validity dates (``OrgUnitCode``), not the identity: when 华亭县 620824
    became 华亭市 620881 in 2018 it stayed the same unit with the same history.
    """

    parent = models.ForeignKey(
        "self",
        verbose_name=_("上级单位"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    path = models.CharField(_("树路径"), max_length=64, unique=True, editable=False)
    level = models.PositiveSmallIntegerField(_("层级"), choices=Level.choices)
    code = models.CharField(_("区划代码"), max_length=12, validators=[division_code_validator])
    name = models.CharField(_("名称"), max_length=100)
    kind = models.CharField(
        _("类型"), max_length=20, choices=UnitKind.choices, default=UnitKind.ADMINISTRATIVE
    )
    valid_from = models.DateField(_("启用日期"), null=True, blank=True)
    valid_to = models.DateField(_("撤销日期"), null=True, blank=True)

    objects = OrgUnitQuerySet.as_manager()

    class Meta:
        verbose_name = _("组织单位")
        verbose_name_plural = _("组织单位")
        ordering = ["path"]
        constraints = [
            # A code names one unit at a time; a retired unit's code may be reused.
            models.UniqueConstraint(
                fields=["code"],
                condition=models.Q(valid_to__isnull=True),
                name="orgunit_current_code_unique",
            ),
        ]
        indexes = [
            # Listing a level inside a subtree (all counties of 甘肃省).
            models.Index(fields=["level", "path"], name="orgunit_level_path"),
            models.Index(fields=["code"], name="orgunit_code"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_current(self) -> bool:
        return self.valid_to is None

    @property
    def is_administrative(self) -> bool:
        return self.kind == UnitKind.ADMINISTRATIVE

    def ancestors(self) -> OrgUnitQuerySet:
        return OrgUnit.objects.filter(path__in=ancestor_paths(self.path)).order_by("path")

    def full_name(self) -> str:
        """平凉市泾川县 style: the names of the city and county levels joined."""
        names = [u.name for u in self.ancestors() if u.level >= Level.CITY] + [self.name]
        return "".join(names)


class OrgUnitCode(models.Model):
    """A division code and name that a unit carried during a period.

    The current row has ``valid_to`` empty. Rows are added and closed by
    ``regions.services``; they are never deleted, so a report on 2016 data can
    still name 华亭县.
    """

    org_unit = models.ForeignKey(
        OrgUnit, verbose_name=_("组织单位"), on_delete=models.CASCADE, related_name="code_history"
    )
    code = models.CharField(_("区划代码"), max_length=12)
    name = models.CharField(_("名称"), max_length=100)
    valid_from = models.DateField(_("起始日期"), null=True, blank=True)
    valid_to = models.DateField(_("终止日期"), null=True, blank=True)
    source = models.CharField(_("来源"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("区划代码沿革")
        verbose_name_plural = _("区划代码沿革")
        ordering = ["org_unit", "valid_from", "id"]
        indexes = [models.Index(fields=["code"], name="orgunitcode_code")]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class Department(models.Model):
    """A government department of an org unit that can own tasks: 泾川县科学技术局, 平凉市财政局."""

    org_unit = models.ForeignKey(
        OrgUnit, verbose_name=_("所属单位"), on_delete=models.PROTECT, related_name="departments"
    )
    name = models.CharField(_("名称"), max_length=100)
    short_name = models.CharField(_("简称"), max_length=50, blank=True)
    is_active = models.BooleanField(_("启用"), default=True)
    is_demo = models.BooleanField(_("示例数据"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = DepartmentQuerySet.as_manager()

    class Meta:
        verbose_name = _("部门")
        verbose_name_plural = _("部门")
        ordering = ["org_unit__path", "name"]
        constraints = [
            models.UniqueConstraint(fields=["org_unit", "name"], name="department_unit_name_unique")
        ]

    def __str__(self) -> str:
        return self.name

"""Deployment-wide facts that are not owned by any org unit."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Deployment(models.Model):
    """This installation of Kechuang: whether it holds demo data, and which."""

    singleton = models.PositiveSmallIntegerField(primary_key=True, default=1, editable=False)
    has_demo_data = models.BooleanField(_("含示例数据"), default=False)
    demo_scale = models.CharField(_("示例数据规模"), max_length=20, blank=True)
    divisions_edition = models.CharField(_("区划代码版本"), max_length=100, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("部署信息")
        constraints = [
            models.CheckConstraint(condition=models.Q(singleton=1), name="deployment_singleton")
        ]

    def __str__(self) -> str:
        return "Kechuang deployment"

    @classmethod
    def current(cls) -> Deployment:
        return cls.objects.filter(pk=1).first() or cls()

"""The audit log: who changed what, when, and what it was before and after."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from kechuang.audit.querysets import LogEntryQuerySet


class LogEntry(models.Model):
    """One change to the platform's data, made by a person or by the system.

    Written only by ``kechuang.audit.services.record`` (called from domain
    services), never edited or deleted. ``org_unit`` is the unit that owns the
    changed record, so the log itself is scoped like the data it describes.
    """

    time = models.DateTimeField(_("时间"), auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("操作人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # Kept as text too: the name must survive the user's deletion or renaming.
    actor_name = models.CharField(_("操作人名称"), max_length=150, blank=True)
    org_unit = models.ForeignKey(
        "regions.OrgUnit",
        verbose_name=_("所属单位"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    action = models.CharField(_("操作"), max_length=100, db_index=True)
    object_type = models.CharField(_("对象类型"), max_length=100, blank=True)
    object_id = models.CharField(_("对象编号"), max_length=64, blank=True)
    object_repr = models.CharField(_("对象"), max_length=255, blank=True)
    before = models.JSONField(_("修改前"), null=True, blank=True)
    after = models.JSONField(_("修改后"), null=True, blank=True)
    data = models.JSONField(_("其他信息"), default=dict, blank=True)
    request_id = models.UUIDField(_("请求编号"), null=True, blank=True, db_index=True)
    channel = models.CharField(_("渠道"), max_length=20, blank=True)

    objects = LogEntryQuerySet.as_manager()

    class Meta:
        verbose_name = _("审计记录")
        verbose_name_plural = _("审计记录")
        ordering = ["-time", "-id"]
        indexes = [
            # The log page filters by the viewer's subtree and reads newest first.
            models.Index(fields=["org_unit", "-time"], name="audit_unit_time"),
            models.Index(fields=["object_type", "object_id"], name="audit_object"),
        ]

    def __str__(self) -> str:
        return f"{self.time:%Y-%m-%d %H:%M} {self.actor_name} {self.action} {self.object_repr}"

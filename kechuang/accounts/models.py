"""People who log in, each bound to one org unit with one role."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _

from kechuang.accounts.querysets import UserManager
from kechuang.core.authorization import Role


class User(AbstractUser):
    """An official using Kechuang: a clerk of 泾川县, a reviewer of 平凉市, …

    What they may see is ``org_unit``'s subtree; what they may do there is
    decided by ``role`` (kechuang/core/authorization.py). A deployment's
    operators are superusers and are bound to the root unit 全国.
    """

    org_unit = models.ForeignKey(
        "regions.OrgUnit",
        verbose_name=_("所属单位"),
        on_delete=models.PROTECT,
        related_name="members",
        null=True,
        blank=True,
    )
    role = models.CharField(_("角色"), max_length=20, choices=Role.choices, default=Role.CLERK)
    display_name = models.CharField(_("姓名"), max_length=100, blank=True)
    phone = models.CharField(_("联系电话"), max_length=30, blank=True)
    is_demo = models.BooleanField(_("示例数据"), default=False)

    objects = UserManager()

    class Meta:
        verbose_name = _("用户")
        verbose_name_plural = _("用户")
        ordering = ["org_unit__path", "username"]

    def __str__(self) -> str:
        return self.display_name or self.username

    @property
    def scope_path(self) -> str | None:
        """The tree path under which this user may see rows (None: nothing)."""
        return self.org_unit.path if self.org_unit_id else None


class FailedLogin(models.Model):
    """One failed login attempt; enough of them in a window delay further attempts."""

    username = models.CharField(max_length=150)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    time = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("登录失败记录")
        indexes = [models.Index(fields=["username", "time"], name="failedlogin_user_time")]

    def __str__(self) -> str:
        return f"{self.username} {self.time:%Y-%m-%d %H:%M:%S}"

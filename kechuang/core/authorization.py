"""Roles decide *which actions*; the org-unit subtree decides *which rows*.

The two are kept apart (NetBox separates actions from constraints): a role
grants actions, and every action is only ever allowed inside the actor's own
subtree. The table below is the whole policy; docs/architecture.md shows it.
"""

from __future__ import annotations

from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _

from kechuang.core.errors import Forbidden, NotFound
from kechuang.core.scoping import path_within


class Role(models.TextChoices):
    CLERK = "clerk", _("填报员")
    REVIEWER = "reviewer", _("审核员")
    LEADER = "leader", _("领导")
    ADMINISTRATOR = "admin", _("管理员")


class Action(models.TextChoices):
    MANAGE_ORG_UNITS = "manage_org_units", _("管理组织单位")
    MANAGE_DEPARTMENTS = "manage_departments", _("管理部门")
    MANAGE_USERS = "manage_users", _("管理用户")
    VIEW_AUDIT = "view_audit", _("查看审计日志")
    ENTER_DATA = "enter_data", _("填报与上报数据")
    REVIEW_DATA = "review_data", _("审核数据")
    SET_TARGETS = "set_targets", _("下达目标")
    MANAGE_CATALOGUE = "manage_catalogue", _("维护指标体系")
    COMPUTE_INDEX = "compute_index", _("计算评价指数")
    MANAGE_PLANS = "manage_plans", _("发布规划计划与督办")


ROLE_ACTIONS: dict[str, frozenset[str]] = {
    Role.CLERK: frozenset({Action.ENTER_DATA}),
    Role.REVIEWER: frozenset({Action.VIEW_AUDIT, Action.REVIEW_DATA}),
    Role.LEADER: frozenset({Action.SET_TARGETS, Action.COMPUTE_INDEX, Action.MANAGE_PLANS}),
    Role.ADMINISTRATOR: frozenset(
        {
            Action.MANAGE_ORG_UNITS,
            Action.MANAGE_DEPARTMENTS,
            Action.MANAGE_USERS,
            Action.VIEW_AUDIT,
            Action.SET_TARGETS,
            Action.MANAGE_CATALOGUE,
            Action.COMPUTE_INDEX,
            Action.MANAGE_PLANS,
        }
    ),
}


def has_action(actor: Any, action: str) -> bool:
    """Whether the actor's role grants the action somewhere (no row check)."""
    if not getattr(actor, "is_authenticated", False) or not getattr(actor, "is_active", False):
        return False
    if actor.is_superuser:
        return True
    return action in ROLE_ACTIONS.get(actor.role, frozenset())


def can(actor: Any, action: str, unit_path: str | None) -> bool:
    """Whether the actor may perform the action on a record owned at ``unit_path``."""
    if not has_action(actor, action):
        return False
    return actor.is_superuser or path_within(unit_path, actor.scope_path)


def require(actor: Any, action: str, *units: Any) -> None:
    """Raise unless the actor may act on records owned by every one of ``units``.

    Pass both the old and the new owning unit when a record moves, so nobody
    can push a record sideways out of their subtree (or pull one in).
    A unit outside the actor's subtree raises ``NotFound``, exactly as a
    missing one does; a visible unit with an insufficient role raises
    ``Forbidden``.

    ``actor`` None is the system itself: a command run by the server's
    operator or a scheduled job, which the audit log records as 系统.
    """
    if actor is None:
        return
    for unit in units:
        if unit is None:
            continue
        if not (
            getattr(actor, "is_superuser", False)
            or path_within(unit.path, getattr(actor, "scope_path", None))
        ):
            raise NotFound()
    if not has_action(actor, action):
        raise Forbidden()

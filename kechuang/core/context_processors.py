"""Template context shared by every page."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from kechuang.core.authorization import Action, has_action
from kechuang.core.models import Deployment


def site(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    return {
        # One primary-key read per page: the 示例数据 label must never be missed.
        "deployment": Deployment.current(),
        "nav": {
            "can_manage_users": has_action(user, Action.MANAGE_USERS),
            "can_view_audit": has_action(user, Action.VIEW_AUDIT),
            "can_manage_org_units": has_action(user, Action.MANAGE_ORG_UNITS),
            "can_manage_departments": has_action(user, Action.MANAGE_DEPARTMENTS),
        },
    }

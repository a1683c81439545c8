"""Domain errors with stable codes.

Services raise these; the API maps them to HTTP statuses, views to messages
and the CLI to one line on stderr with exit code 1. The message is Chinese,
marked for translation, and safe to show to the user.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _


class DomainError(Exception):
    code = "error"
    http_status = 400
    default_message = _("操作未能完成。")

    def __init__(self, message: Any = None, *, fields: dict[str, Any] | None = None) -> None:
        self.message = message if message is not None else self.default_message
        self.fields = fields or {}
        super().__init__(str(self.message))

    def as_dict(self) -> dict[str, Any]:
        payload: dict[str, Any] = {"code": self.code, "detail": str(self.message)}
        if self.fields:
            payload["fields"] = {
                key: [str(v) for v in _as_list(val)] for key, val in self.fields.items()
            }
        return payload


def _as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list | tuple) else [value]


class NotFound(DomainError):
    """Raised alike for a missing row and for a row outside the actor's subtree."""

    code = "not_found"
    http_status = 404
    default_message = _("未找到该记录，或您无权查看。")


class Forbidden(DomainError):
    """The actor can see the row but their role does not allow this action."""

    code = "forbidden"
    http_status = 403
    default_message = _("您的角色无权执行此操作。")


class InvalidInput(DomainError):
    code = "invalid"
    http_status = 400
    default_message = _("输入有误，请检查后重试。")


class Conflict(DomainError):
    code = "conflict"
    http_status = 409
    default_message = _("该操作与现有数据冲突。")

from django.utils.translation import gettext_lazy as _

from kechuang.core.errors import Conflict, DomainError


class InvalidTransition(Conflict):
    code = "invalid_transition"
    default_message = _("当前状态下不能执行该操作。")


class ValuesLocked(Conflict):
    code = "values_locked"
    default_message = _("该填报已上报或已审定，数值已锁定；如需修改请先退回。")


class ValidationFailed(DomainError):
    """The values break rules; ``fields`` maps indicator code → messages."""

    code = "validation_failed"
    http_status = 400
    default_message = _("数据未通过校验。")

from django.db import models
from django.utils.translation import gettext_lazy as _


class PlanStatus(models.TextChoices):
    DRAFT = "draft", _("待发布")
    PUBLISHED = "published", _("已发布")


class Role(models.TextChoices):
    """The three roles a plan names for each task (牵头 / 责任 / 配合)."""

    LEAD = "lead", _("牵头单位")
    RESPONSIBLE = "responsible", _("责任单位")
    COOPERATING = "cooperating", _("配合单位")


class Frequency(models.TextChoices):
    MONTHLY = "monthly", _("每月")
    QUARTERLY = "quarterly", _("每季度")
    HALF_YEARLY = "half_yearly", _("每半年")
    YEARLY = "yearly", _("每年")


class TaskStatus(models.TextChoices):
    """Computed from deadlines, milestones and confirmed progress; never typed."""

    NOT_STARTED = "not_started", _("未开始")
    ON_TRACK = "on_track", _("正常推进")
    AT_RISK = "at_risk", _("滞后")
    OVERDUE = "overdue", _("超期")
    DONE = "done", _("已完成")


class Comparator(models.TextChoices):
    AT_LEAST = ">=", _("不低于")
    EQUAL = "=", _("等于")
    AT_MOST = "<=", _("不高于")
    GROWTH = "growth>=", _("增长不低于")


class SubsidyPer(models.TextChoices):
    ONCE = "once", _("一次性")
    PER_PERSON_PER_YEAR = "per_person_per_year", _("每人每年")
    PER_YEAR = "per_year", _("每年")
    OTHER = "other", _("其他")


class EventKind(models.TextChoices):
    REMINDER = "reminder", _("到期提醒")
    OVERDUE = "overdue", _("超期预警")
    ESCALATION = "escalation", _("超期上报")
    URGE = "urge", _("催办")
    INSTRUCTION = "instruction", _("领导批示")
    EXTENSION_REQUEST = "extension_request", _("延期申请")
    EXTENSION_APPROVED = "extension_approved", _("同意延期")
    EXTENSION_REFUSED = "extension_refused", _("不同意延期")

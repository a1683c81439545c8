from django.db import models
from django.utils.translation import gettext_lazy as _


class Family(models.TextChoices):
    """The three index families found in Chinese practice (index-methodology §1.5)."""

    STANDARD_VALUE = "standard_value", _("标准值法（水平指数）")
    MINMAX = "minmax", _("极差标准化（相对指数）")
    RELATIVE = "relative", _("等权相对指数")
    BASE_YEAR = "base_year", _("基期指数（基期=100）")
    CUSTOM = "custom", _("自定义")


class Source(models.TextChoices):
    SHIPPED = "shipped", _("系统内置")
    IMPORTED = "imported", _("Excel导入")


class SchemeKind(models.TextChoices):
    """What an assessment scheme is for (seed 000: titles by the province; leaders' duty)."""

    INNOVATIVE_COUNTY = "innovative_county", _("创新型县(市)候选评价")
    INNOVATIVE_TOWNSHIP = "innovative_township", _("创新型乡镇候选评价")
    LEADERSHIP = "leadership_responsibility", _("党政领导科技进步目标责任制考核")

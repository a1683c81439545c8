from django.db import models
from django.utils.translation import gettext_lazy as _


class Level(models.IntegerChoices):
    """Administrative level; the number is the depth in the tree."""

    NATION = 0, _("全国")
    PROVINCE = 1, _("省级")
    CITY = 2, _("地级")
    COUNTY = 3, _("县级")
    TOWNSHIP = 4, _("乡级")


class UnitKind(models.TextChoices):
    ADMINISTRATIVE = "administrative", _("行政区")
    # County-level codes ending 71–79: development zones that NBS counts in
    # statistics but that are not administrative counties (e.g. 620171 兰州新区).
    STATISTICAL = "statistical", _("统计用区域")
    # The county-level code of a prefecture-level city without districts
    # (620201 嘉峪关市): the city itself, not a separate county.
    CITY_PROPER = "city_proper", _("不设区的市本级")

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PlansConfig(AppConfig):
    name = "kechuang.plans"
    label = "plans"
    verbose_name = _("规划计划与督查督办")

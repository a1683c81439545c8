from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DemoConfig(AppConfig):
    name = "kechuang.demo"
    label = "demo"
    verbose_name = _("示例数据")

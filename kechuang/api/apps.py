from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "kechuang.api"
    label = "kechuang_api"
    verbose_name = "API"

from django.urls import include, path
from django.views.i18n import set_language

from kechuang.regions.views import home

urlpatterns = [
    path("", home, name="home"),
    path("accounts/", include("kechuang.accounts.urls")),
    path("regions/", include("kechuang.regions.urls")),
    path("audit/", include("kechuang.audit.urls")),
    path("data/", include("kechuang.indicators.urls")),
    path("index/", include("kechuang.evaluation.urls")),
    path("plans/", include("kechuang.plans.urls")),
    path("api/", include("kechuang.api.urls")),
    path("i18n/setlang/", set_language, name="set_language"),
]

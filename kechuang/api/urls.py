"""The REST API: /api/v1/<app>/<resource>/, the OpenAPI schema and its docs page.

Swagger UI comes from drf-spectacular-sidecar, served from our own static
files: no CDN, so the docs work on a government intranet.
"""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.routers import DefaultRouter

from kechuang.accounts.api import ObtainTokenView, UserViewSet
from kechuang.audit.api import LogEntryViewSet
from kechuang.indicators.api import (
    DataSetViewSet,
    DataValueViewSet,
    IndicatorViewSet,
    SubmissionViewSet,
    TargetViewSet,
)
from kechuang.regions.api import DepartmentViewSet, OrgUnitViewSet

app_name = "api"

router = DefaultRouter()
router.register("regions/org-units", OrgUnitViewSet, basename="org-unit")
router.register("regions/departments", DepartmentViewSet, basename="department")
router.register("accounts/users", UserViewSet, basename="user")
router.register("audit/log-entries", LogEntryViewSet, basename="log-entry")
router.register("indicators/indicators", IndicatorViewSet, basename="indicator")
router.register("indicators/datasets", DataSetViewSet, basename="dataset")
router.register("indicators/submissions", SubmissionViewSet, basename="submission")
router.register("indicators/data-values", DataValueViewSet, basename="data-value")
router.register("indicators/targets", TargetViewSet, basename="target")

urlpatterns = [
    path("v1/", include(router.urls)),
    path("v1/auth/token/", ObtainTokenView.as_view(), name="token"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api:schema"), name="docs"),
]

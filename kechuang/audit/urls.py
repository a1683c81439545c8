from django.urls import path

from kechuang.audit import views

app_name = "audit"
urlpatterns = [
    path("", views.log, name="log"),
    path("export.csv", views.log_csv, name="log-csv"),
]

from django.urls import path

from kechuang.plans import views

app_name = "plans"
urlpatterns = [
    path("", views.plan_list, name="list"),
    path("ingest/", views.plan_ingest, name="ingest"),
    path("<int:pk>/", views.plan_detail, name="detail"),
    path("<int:pk>/table.<str:fmt>", views.plan_table, name="table"),
    path("<int:pk>/bulletin.<str:fmt>", views.plan_bulletin, name="bulletin"),
    path("tasks/<int:pk>/", views.task_detail, name="task"),
]

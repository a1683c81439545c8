from django.urls import path

from kechuang.evaluation import views

app_name = "evaluation"
urlpatterns = [
    path("", views.ranking, name="ranking"),
    path("compute/", views.compute, name="compute"),
    path("runs/<int:run_pk>/units/<str:code>/", views.unit_profile, name="profile"),
    path("methodologies/<int:pk>/", views.methodology_detail, name="methodology"),
    path("methodologies/<int:pk>/import/", views.methodology_import, name="methodology-import"),
    path("assessment/", views.assessment_rounds, name="assessment"),
    path("assessment/<int:pk>/", views.assessment_round, name="assessment-round"),
]

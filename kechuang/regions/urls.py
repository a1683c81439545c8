from django.urls import path

from kechuang.regions import views

app_name = "regions"
urlpatterns = [
    path("units/", views.unit_list, name="unit-list"),
    path("units/<int:pk>/", views.unit_detail, name="unit-detail"),
    path("units/<int:parent_pk>/children/new/", views.unit_create, name="unit-create"),
    path("units/<int:pk>/edit/", views.unit_edit, name="unit-edit"),
    path("units/<int:pk>/retire/", views.unit_retire, name="unit-retire"),
    path("units/<int:pk>/reinstate/", views.unit_reinstate, name="unit-reinstate"),
    path("units/<int:pk>/delete/", views.unit_delete, name="unit-delete"),
    path("departments/", views.department_list, name="department-list"),
    path("departments/new/", views.department_create, name="department-create"),
    path("departments/<int:pk>/edit/", views.department_edit, name="department-edit"),
    path("departments/<int:pk>/delete/", views.department_delete, name="department-delete"),
]

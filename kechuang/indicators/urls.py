from django.urls import path

from kechuang.indicators import views

app_name = "indicators"
urlpatterns = [
    path("", views.my_data, name="my-data"),
    path("open/", views.open_form, name="open"),
    path("submissions/<int:pk>/", views.submission_detail, name="submission"),
    path("submissions/<int:pk>/approve/", views.approve, name="approve"),
    path("submissions/<int:pk>/return/", views.return_, name="return"),
    path("submissions/<int:pk>/reopen/", views.reopen, name="reopen"),
    path("submissions/<int:pk>/history/", views.submission_history, name="submission-history"),
    path("submissions/<int:pk>/print.pdf", views.submission_pdf, name="submission-pdf"),
    path("submissions/<int:pk>/scan/", views.submission_scan, name="submission-scan"),
    path(
        "submissions/<int:pk>/scan/upload/",
        views.submission_scan_upload,
        name="submission-scan-upload",
    ),
    path(
        "submissions/<int:pk>/template.xlsx", views.submission_template, name="submission-template"
    ),
    path("upload/", views.upload, name="upload"),
    path("review/", views.review_matrix, name="review"),
    path("targets/", views.targets_overview, name="targets"),
    path("targets/set/", views.target_set, name="target-set"),
]

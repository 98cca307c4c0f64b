"""Import pages of a tenant host, mounted at /imports/ (Settings → Import)."""

from django.urls import path

from crm.imports import views

app_name = "imports"

urlpatterns = [
    path("", views.import_list_view, name="list"),
    path("new/", views.import_upload_view, name="upload"),
    path("<int:pk>/", views.import_detail_view, name="detail"),
    path("<int:pk>/mapping/", views.import_mapping_view, name="mapping"),
    path("<int:pk>/progress/", views.import_progress_view, name="progress"),
    path("<int:pk>/cancel/", views.import_cancel_view, name="cancel"),
    path("<int:pk>/discard/", views.import_discard_view, name="discard"),
    path("<int:pk>/undo/", views.import_undo_view, name="undo"),
    path("<int:pk>/report.csv", views.import_report_view, name="report"),
]

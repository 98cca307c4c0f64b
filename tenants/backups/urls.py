from django.urls import path

from tenants.backups import views

app_name = "backups"

urlpatterns = [
    path("", views.backup_list_view, name="list"),
    path("rows/", views.backup_rows_view, name="rows"),
    path("create/", views.backup_create_view, name="create"),
    path("export/", views.export_create_view, name="export"),
    path("maintenance/status/", views.maintenance_status_view, name="maintenance_status"),
    path("<int:backup_id>/download/", views.backup_download_view, name="download"),
    path("<int:backup_id>/restore/", views.backup_restore_view, name="restore"),
    path("<int:backup_id>/delete/", views.backup_delete_view, name="delete"),
    path("jobs/<int:job_id>/", views.job_view, name="job"),
    path("jobs/<int:job_id>/download/", views.export_download_view, name="export_download"),
    path("contacts/<int:contact_id>/export/", views.contact_export_view, name="contact_export"),
]

from django.urls import path

from crm.attachments.views import attachment_delete_view, attachment_download, attachment_upload_view

app_name = "attachments"

urlpatterns = [
    path("<slug:record_type>/<int:record_id>/upload/", attachment_upload_view, name="upload"),
    path("<int:pk>/download/", attachment_download, name="download"),
    path("<int:pk>/delete/", attachment_delete_view, name="delete"),
]

"""The trash page of a tenant host, mounted at /trash/."""

from django.urls import path

from crm.trash_views import trash_restore_view, trash_view

app_name = "trash"

urlpatterns = [
    path("", trash_view, name="list"),
    path("<str:kind>/<int:record_id>/restore/", trash_restore_view, name="restore"),
]

from django.urls import path

from crm.notifications.views import inbox_view, mark_all_read_view, mark_read_view, poll_view

app_name = "notifications"

urlpatterns = [
    path("", inbox_view, name="inbox"),
    path("read-all/", mark_all_read_view, name="read_all"),
    path("poll/", poll_view, name="poll"),
    path("<int:notification_id>/read/", mark_read_view, name="read"),
]

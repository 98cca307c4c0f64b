"""The calendar of a tenant host, mounted at /calendar/."""

from django.urls import path

from crm.calendar.views import calendar_view, feed_create_view, feed_revoke_view, feed_view, task_move_view

app_name = "calendar"

urlpatterns = [
    path("", calendar_view, name="page"),
    path("tasks/<int:task_id>/move/", task_move_view, name="move"),
    path("feed/", feed_create_view, name="feed_create"),
    path("feed/revoke/", feed_revoke_view, name="feed_revoke"),
    path("feed/<str:secret>.ics", feed_view, name="feed"),
]

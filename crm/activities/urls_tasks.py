"""Signed-in task pages of a tenant host, mounted at /tasks/."""

from django.urls import path

from crm.activities.list_views import task_list_view

app_name = "tasks"

urlpatterns = [path("", task_list_view, name="list")]

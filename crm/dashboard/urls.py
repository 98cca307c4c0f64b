"""The dashboard's own endpoints, mounted at /dashboard/ (the page itself is `/`, named `home`)."""

from django.urls import path

from crm.dashboard.views import layout_view, task_done_view

app_name = "dashboard"

urlpatterns = [
    path("layout/", layout_view, name="layout"),
    path("tasks/<int:pk>/done/", task_done_view, name="task_done"),
]

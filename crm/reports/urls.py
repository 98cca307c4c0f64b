"""The reports page of a tenant host, mounted at /reports/."""

from django.urls import path

from crm.reports.views import reports_view

app_name = "reports"

urlpatterns = [path("", reports_view, name="index")]

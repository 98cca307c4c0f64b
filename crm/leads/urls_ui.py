"""Signed-in lead pages of a tenant host, mounted at /leads/."""

from django.urls import path

from crm.leads.views import lead_list_view

app_name = "leads"

urlpatterns = [path("", lead_list_view, name="list")]

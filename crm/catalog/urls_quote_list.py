"""The signed-in quotes list of a tenant host, mounted at /quotes/ (the quote builder's
pages, when they come, can join this namespace)."""

from django.urls import path

from crm.catalog.list_views import quote_list_view

app_name = "quotes"

urlpatterns = [path("", quote_list_view, name="list")]

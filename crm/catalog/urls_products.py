"""Signed-in product pages of a tenant host, mounted at /products/."""

from django.urls import path

from crm.catalog.list_views import product_list_view

app_name = "products"

urlpatterns = [path("", product_list_view, name="list")]

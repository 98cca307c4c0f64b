from django.urls import path

from crm.clients.views import company_list_view

app_name = "companies"

urlpatterns = [path("", company_list_view, name="list")]

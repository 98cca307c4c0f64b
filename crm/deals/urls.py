from django.urls import path

from crm.deals.views import deal_list_view

app_name = "deals"

urlpatterns = [path("", deal_list_view, name="list")]

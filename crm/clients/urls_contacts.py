from django.urls import path

from crm.clients.views import contact_list_view

app_name = "contacts"

urlpatterns = [path("", contact_list_view, name="list")]

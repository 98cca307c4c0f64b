from django.urls import path

from crm.cards import card_patterns
from crm.clients.cards import COMPANY_CARD
from crm.clients.views import company_list_view

app_name = "companies"

urlpatterns = [path("", company_list_view, name="list"), *card_patterns(COMPANY_CARD)]

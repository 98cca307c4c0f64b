"""Signed-in lead pages of a tenant host, mounted at /leads/."""

from django.urls import path

from crm.cards import card_patterns
from crm.leads.cards import LEAD_CARD, lead_convert_view, lead_disqualify_view
from crm.leads.views import lead_list_view

app_name = "leads"

urlpatterns = [
    path("", lead_list_view, name="list"),
    *card_patterns(LEAD_CARD),
    path("<int:pk>/convert/", lead_convert_view, name="convert"),
    path("<int:pk>/disqualify/", lead_disqualify_view, name="disqualify"),
]

from django.urls import path

from crm.cards import card_patterns
from crm.clients.cards import CONTACT_CARD
from crm.clients.views import contact_list_view

app_name = "contacts"

urlpatterns = [path("", contact_list_view, name="list"), *card_patterns(CONTACT_CARD)]

from django.urls import path

from crm.cards import card_patterns
from crm.deals.board import board_view, deal_move_view
from crm.deals.cards import DEAL_CARD, deal_proposal_view
from crm.deals.views import deal_list_view

app_name = "deals"

urlpatterns = [
    path("", deal_list_view, name="list"),
    path("board/", board_view, name="board"),
    *card_patterns(DEAL_CARD),
    path("<int:pk>/move/", deal_move_view, name="move"),
    path("<int:pk>/proposal/", deal_proposal_view, name="proposal"),
]

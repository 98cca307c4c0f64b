"""The deal card (declared here, run by crm.cards) and "send proposal".

Stage moves from the card post to the board's move view (crm.deals.board), so the card
and the board write through the same service, `deal_move_stage`.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import formats
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from accounts import roles
from accounts.policy import scope_for
from crm.access import Action
from crm.cards import ClientCard, FieldGroup, Row, custom_fields_group, person_choice
from crm.catalog.selectors import quote_list
from crm.catalog.services import quote_create
from crm.clients.cards import DATE_INPUT, shown
from crm.deals.models import Deal, StageKind
from crm.deals.selectors import deal_get, deal_stage_history, pipeline_get
from crm.deals.services import deal_update
from crm.errors import DomainError, RecordNotFound

QUOTES_SHOWN = 10


class DealForm(forms.Form):
    title = forms.CharField(label=gettext_lazy("Title"), required=False)
    amount = forms.DecimalField(label=gettext_lazy("Amount"), min_value=0, max_digits=14, decimal_places=2)
    currency = forms.CharField(label=gettext_lazy("Currency"), max_length=3)
    expected_close_date = forms.DateField(label=gettext_lazy("Expected close date"), required=False, widget=DATE_INPUT)
    owner = person_choice()


def money(amount, currency: str) -> str:
    return f"{formats.number_format(amount, 2, force_grouping=True)} {currency}"


def _link(label, record, url_name: str, text: str) -> Row:
    if record is None:
        return Row(label, "—")
    return Row(label, text, reverse(url_name, args=[record.pk]))


def _deal_extra(request: HttpRequest, deal: Deal) -> dict[str, Any]:
    stages = list(pipeline_get(actor=request.user, pipeline_id=deal.pipeline_id).stages.all())
    return {
        "stages": stages,
        "won_stage": next((stage for stage in stages if stage.kind == StageKind.WON), None),
        "lost_stage": next((stage for stage in stages if stage.kind == StageKind.LOST), None),
        "history": list(deal_stage_history(actor=request.user, deal=deal)),
        "quotes": list(quote_list(actor=request.user, deal=deal)[:QUOTES_SHOWN]),
        "amount_text": money(deal.amount, deal.currency),
        "can_quote": scope_for(request.user, "quote", Action.CREATE) != roles.NONE,
    }


DEAL_CARD = ClientCard(
    key="deals",
    record_type="deal",
    model=Deal,
    get=lambda actor, pk: deal_get(actor=actor, deal_id=pk),
    title=lambda deal: deal.title,
    groups=[
        FieldGroup(
            key="deal",
            title=gettext_lazy("Deal"),
            form=DealForm,
            initial=lambda deal: {
                "title": deal.title,
                "amount": deal.amount,
                "currency": deal.currency,
                "expected_close_date": deal.expected_close_date,
                "owner": deal.owner_id,
            },
            save=lambda actor, deal, data: deal_update(actor=actor, deal=deal, **data),
            rows=lambda deal: [
                Row(gettext_lazy("Title"), deal.title),
                Row(gettext_lazy("Amount"), money(deal.amount, deal.currency)),
                Row(gettext_lazy("Expected close date"), shown(deal.expected_close_date)),
                Row(gettext_lazy("Owner"), deal.owner.full_name if deal.owner else "—"),
                _link(
                    gettext_lazy("Contact"), deal.contact, "contacts:detail", deal.contact and deal.contact.full_name
                ),
                _link(gettext_lazy("Company"), deal.company, "companies:detail", deal.company and deal.company.name),
            ],
        ),
        custom_fields_group("deal", deal_update, "deal"),
    ],
    template="cards/deal.html",
    more_context=_deal_extra,
)


@login_required
@require_POST
def deal_proposal_view(request: HttpRequest, pk: int) -> HttpResponse:
    """ "Send proposal": a draft quote for this deal (its contact, company, currency), then the quote builder."""
    try:
        deal = deal_get(actor=request.user, deal_id=pk)
    except RecordNotFound as missing:
        raise Http404(missing.message) from missing
    try:
        quote = quote_create(actor=request.user, title=deal.title, deal=deal)
    except (ValidationError, DomainError) as error:
        messages.error(request, error.message if isinstance(error, DomainError) else " ".join(error.messages))
        return redirect(reverse("deals:detail", args=[deal.pk]))
    messages.success(
        request, _("Proposal %(number)s created. Add the products and send it.") % {"number": quote.number}
    )
    return redirect(reverse("quote_builder:detail", args=[quote.pk]))

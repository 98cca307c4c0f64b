"""Deals on the web: the deals list (declared here, run by crm.list_pages)."""

from __future__ import annotations

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy

from crm.deals.selectors import deal_list
from crm.deals.services import deal_update
from crm.list_filters import DATE_INPUT, tags_plus
from crm.list_pages import BaseFilterForm, Column, RecordList, list_page, owner_choices
from crm.tags import record_tags_set

STATUS_CHOICES = [
    ("", gettext_lazy("Any status")),
    ("open", gettext_lazy("Open")),
    ("won", gettext_lazy("Won")),
    ("lost", gettext_lazy("Lost")),
]


class DealFilterForm(BaseFilterForm):
    status = forms.ChoiceField(label=gettext_lazy("Status"), choices=STATUS_CHOICES, required=False)
    owner = owner_choices()
    close_from = forms.DateField(label=gettext_lazy("Closing from"), required=False, widget=DATE_INPUT)
    close_to = forms.DateField(label=gettext_lazy("Closing until"), required=False, widget=DATE_INPUT)


def _deal_rows(actor, filters):
    return deal_list(
        actor=actor,
        status=filters.get("status"),
        owner=filters.get("owner"),
        expected_close_from=filters.get("close_from"),
        expected_close_to=filters.get("close_to"),
        search=filters.get("q", ""),
    )


DEALS = RecordList(
    key="deals",
    title=gettext_lazy("Deals"),
    record_type="deal",
    filter_form=DealFilterForm,
    rows=_deal_rows,
    sorts={
        "-created": ("-created_at", "-id"),
        "created": ("created_at", "id"),
        "-amount": ("-amount_base", "-id"),
        "amount": ("amount_base", "id"),
        "title": ("title", "id"),
        "-title": ("-title", "-id"),
    },
    columns=[
        Column(gettext_lazy("Title"), sort="title"),
        Column(gettext_lazy("Company")),
        Column(gettext_lazy("Stage")),
        Column(gettext_lazy("Amount"), sort="amount"),
        Column(gettext_lazy("Owner")),
        Column(gettext_lazy("Created"), sort="created"),
    ],
    row_template="deals/_row.html",
    csv_columns=[
        (gettext_lazy("Title"), lambda deal: deal.title),
        (gettext_lazy("Pipeline"), lambda deal: deal.pipeline.name),
        (gettext_lazy("Stage"), lambda deal: deal.stage.name),
        (gettext_lazy("Amount"), lambda deal: deal.amount),
        (gettext_lazy("Currency"), lambda deal: deal.currency),
        (gettext_lazy("Expected close date"), lambda deal: deal.expected_close_date or ""),
        (gettext_lazy("Company"), lambda deal: deal.company.name if deal.company else ""),
        (gettext_lazy("Contact"), lambda deal: deal.contact.full_name if deal.contact else ""),
        (gettext_lazy("Owner"), lambda deal: deal.owner.full_name if deal.owner else ""),
        (gettext_lazy("Created"), lambda deal: deal.created_at.isoformat()),
    ],
    assign=lambda actor, deal, owner: deal_update(actor=actor, deal=deal, owner=owner),
    tag=lambda actor, deal, name: record_tags_set(actor=actor, record=deal, tags=tags_plus(deal, name)),
    empty_text=gettext_lazy("No deals match. Convert a lead or add a deal to start your pipeline."),
)


@login_required
def deal_list_view(request: HttpRequest) -> HttpResponse:
    return list_page(request, DEALS)

"""Contacts and companies on the web: their lists (declared here, run by crm.list_pages)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy

from crm.clients.selectors import COMPANY_ORDERINGS, CONTACT_ORDERINGS, company_list, contact_list
from crm.clients.services import company_update, contact_update
from crm.list_filters import created_from, created_to, tag_choices, tags_plus
from crm.list_pages import BaseFilterForm, Column, RecordList, list_page, owner_choices
from crm.tags import record_tags_set


class ClientFilterForm(BaseFilterForm):
    owner = owner_choices()
    tag = tag_choices()
    created_from = created_from()
    created_to = created_to()


def _filters(filters: dict) -> dict:
    return {
        "owner": filters.get("owner"),
        "tag": filters.get("tag"),
        "created_from": filters.get("created_from"),
        "created_to": filters.get("created_to"),
        "search": filters.get("q", ""),
    }


def _joined(values: list[str]) -> str:
    return "; ".join(values)


CONTACTS = RecordList(
    key="contacts",
    title=gettext_lazy("Contacts"),
    record_type="contact",
    filter_form=ClientFilterForm,
    rows=lambda actor, filters: contact_list(actor=actor, **_filters(filters)),
    # The selector's orderings, each with its partial index (contact_name_order...).
    sorts=CONTACT_ORDERINGS,
    columns=[
        Column(gettext_lazy("Name"), sort="name"),
        Column(gettext_lazy("Company")),
        Column(gettext_lazy("Email")),
        Column(gettext_lazy("Phone")),
        Column(gettext_lazy("Owner")),
        Column(gettext_lazy("Added"), sort="created"),
    ],
    row_template="clients/_contact_row.html",
    csv_columns=[
        (gettext_lazy("Name"), lambda contact: contact.full_name),
        (gettext_lazy("Job title"), lambda contact: contact.job_title),
        (gettext_lazy("Company"), lambda contact: contact.company.name if contact.company else ""),
        (gettext_lazy("Emails"), lambda contact: _joined(contact.emails)),
        (gettext_lazy("Phones"), lambda contact: _joined(contact.phones)),
        (gettext_lazy("Owner"), lambda contact: contact.owner.full_name if contact.owner else ""),
        (gettext_lazy("Tags"), lambda contact: _joined([tag.name for tag in contact.tags.all()])),
        (gettext_lazy("Added"), lambda contact: contact.created_at.isoformat()),
    ],
    assign=lambda actor, contact, owner: contact_update(actor=actor, contact=contact, owner=owner),
    tag=lambda actor, contact, name: record_tags_set(actor=actor, record=contact, tags=tags_plus(contact, name)),
    empty_text=gettext_lazy("No contacts match. Converted leads and the people you add appear here."),
)

COMPANIES = RecordList(
    key="companies",
    title=gettext_lazy("Companies"),
    record_type="company",
    filter_form=ClientFilterForm,
    rows=lambda actor, filters: company_list(actor=actor, **_filters(filters)),
    sorts=COMPANY_ORDERINGS,
    columns=[
        Column(gettext_lazy("Name"), sort="name"),
        Column(gettext_lazy("Industry")),
        Column(gettext_lazy("City")),
        Column(gettext_lazy("Owner")),
        Column(gettext_lazy("Added"), sort="created"),
    ],
    row_template="clients/_company_row.html",
    csv_columns=[
        (gettext_lazy("Name"), lambda company: company.name),
        (gettext_lazy("Industry"), lambda company: company.industry),
        (gettext_lazy("Website"), lambda company: company.website),
        (gettext_lazy("Emails"), lambda company: _joined(company.emails)),
        (gettext_lazy("Phones"), lambda company: _joined(company.phones)),
        (gettext_lazy("City"), lambda company: company.city),
        (gettext_lazy("Owner"), lambda company: company.owner.full_name if company.owner else ""),
        (gettext_lazy("Tags"), lambda company: _joined([tag.name for tag in company.tags.all()])),
        (gettext_lazy("Added"), lambda company: company.created_at.isoformat()),
    ],
    assign=lambda actor, company, owner: company_update(actor=actor, company=company, owner=owner),
    tag=lambda actor, company, name: record_tags_set(actor=actor, record=company, tags=tags_plus(company, name)),
    empty_text=gettext_lazy("No companies match."),
)


@login_required
def contact_list_view(request: HttpRequest) -> HttpResponse:
    return list_page(request, CONTACTS)


@login_required
def company_list_view(request: HttpRequest) -> HttpResponse:
    return list_page(request, COMPANIES)

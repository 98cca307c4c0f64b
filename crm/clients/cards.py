"""The contact and company cards (declared here, run by crm.cards)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.urls import reverse
from django.utils import formats
from django.utils.translation import gettext_lazy as _

from crm.cards import ClientCard, FieldGroup, ListField, Row, custom_fields_group, person_choice
from crm.clients.models import Company, Contact
from crm.clients.selectors import company_get, contact_get, contact_list
from crm.clients.services import company_update, contact_update
from crm.deals.selectors import deal_list

DEALS_SHOWN = 10
DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def shown(value: Any) -> str:
    """A value as the card shows it: dates in the reader's format, lists joined, "—" for nothing."""
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, list):
        return "\n".join(value)
    if hasattr(value, "isoformat"):
        return formats.date_format(value, "SHORT_DATE_FORMAT")
    return str(value)


def _updated(service, record_argument: str):
    """A group's save: the cleaned form data, as they are, to the update service."""

    def save(actor, record, data: dict[str, Any]):
        return service(actor=actor, **{record_argument: record}, **data)

    return save


# --- groups shared by both -------------------------------------------------------------


class ReachForm(forms.Form):
    emails = ListField(label=_("Emails"), required=False, help_text=_("One per line."))
    phones = ListField(label=_("Phones"), required=False, help_text=_("One per line."))


class AddressForm(forms.Form):
    address = forms.CharField(label=_("Street address"), required=False)
    city = forms.CharField(label=_("City"), required=False)
    region = forms.CharField(label=_("Region"), required=False)
    postal_code = forms.CharField(label=_("Postal code"), required=False)
    country = forms.CharField(label=_("Country code"), required=False, help_text=_("Two letters, e.g. RU, ES or AE."))


def _reach_group(service, argument: str) -> FieldGroup:
    return FieldGroup(
        key="reach",
        title=_("Email and phone"),
        form=ReachForm,
        initial=lambda record: {"emails": record.emails, "phones": record.phones},
        save=_updated(service, argument),
        rows=lambda record: [Row(_("Emails"), shown(record.emails)), Row(_("Phones"), shown(record.phones))],
    )


def _address_group(service, argument: str) -> FieldGroup:
    fields = ("address", "city", "region", "postal_code", "country")
    return FieldGroup(
        key="address",
        title=_("Address"),
        form=AddressForm,
        initial=lambda record: {name: getattr(record, name) for name in fields},
        save=_updated(service, argument),
        rows=lambda record: [Row(AddressForm.base_fields[name].label, shown(getattr(record, name))) for name in fields],
    )


# --- contacts --------------------------------------------------------------------------


class ContactNameForm(forms.Form):
    first_name = forms.CharField(label=_("First name"), required=False)
    last_name = forms.CharField(label=_("Last name"), required=False)
    job_title = forms.CharField(label=_("Job title"), required=False)


class ContactAboutForm(forms.Form):
    birthday = forms.DateField(label=_("Birthday"), required=False, widget=DATE_INPUT)
    owner = person_choice()
    notes = forms.CharField(label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 4}))


def _company_row(record) -> Row:
    if record.company is None:
        return Row(_("Company"), "—")
    return Row(_("Company"), record.company.name, reverse("companies:detail", args=[record.company_id]))


def _owner_name(record) -> str:
    return record.owner.full_name if record.owner else "—"


def _contact_extra(request, contact: Contact) -> dict[str, Any]:
    return {"deals": list(deal_list(actor=request.user, contact=contact)[:DEALS_SHOWN])}


CONTACT_CARD = ClientCard(
    key="contacts",
    record_type="contact",
    model=Contact,
    get=lambda actor, pk: contact_get(actor=actor, contact_id=pk),
    title=lambda contact: contact.full_name,
    groups=[
        FieldGroup(
            key="person",
            title=_("Person"),
            form=ContactNameForm,
            initial=lambda c: {"first_name": c.first_name, "last_name": c.last_name, "job_title": c.job_title},
            save=_updated(contact_update, "contact"),
            rows=lambda c: [
                Row(_("First name"), shown(c.first_name)),
                Row(_("Last name"), shown(c.last_name)),
                Row(_("Job title"), shown(c.job_title)),
                _company_row(c),
            ],
        ),
        _reach_group(contact_update, "contact"),
        _address_group(contact_update, "contact"),
        FieldGroup(
            key="about",
            title=_("More"),
            form=ContactAboutForm,
            initial=lambda c: {"birthday": c.birthday, "owner": c.owner_id, "notes": c.notes},
            save=_updated(contact_update, "contact"),
            rows=lambda c: [
                Row(_("Birthday"), shown(c.birthday)),
                Row(_("Owner"), _owner_name(c)),
                Row(_("Notes"), shown(c.notes)),
            ],
        ),
        custom_fields_group("contact", contact_update, "contact"),
    ],
    template="cards/contact.html",
    more_context=_contact_extra,
)


# --- companies -------------------------------------------------------------------------


class CompanyNameForm(forms.Form):
    name = forms.CharField(label=_("Name"), required=False)
    industry = forms.CharField(label=_("Industry"), required=False)
    website = forms.CharField(label=_("Website"), required=False)


class CompanyAboutForm(forms.Form):
    owner = person_choice()
    notes = forms.CharField(label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 4}))


def _company_extra(request, company: Company) -> dict[str, Any]:
    return {
        "contacts": list(contact_list(actor=request.user, company=company)[:DEALS_SHOWN]),
        "deals": list(deal_list(actor=request.user, company=company)[:DEALS_SHOWN]),
    }


COMPANY_CARD = ClientCard(
    key="companies",
    record_type="company",
    model=Company,
    get=lambda actor, pk: company_get(actor=actor, company_id=pk),
    title=lambda company: company.name,
    groups=[
        FieldGroup(
            key="company",
            title=_("Company"),
            form=CompanyNameForm,
            initial=lambda c: {"name": c.name, "industry": c.industry, "website": c.website},
            save=_updated(company_update, "company"),
            rows=lambda c: [
                Row(_("Name"), shown(c.name)),
                Row(_("Industry"), shown(c.industry)),
                Row(_("Website"), shown(c.website)),
            ],
        ),
        _reach_group(company_update, "company"),
        _address_group(company_update, "company"),
        FieldGroup(
            key="about",
            title=_("More"),
            form=CompanyAboutForm,
            initial=lambda c: {"owner": c.owner_id, "notes": c.notes},
            save=_updated(company_update, "company"),
            rows=lambda c: [Row(_("Owner"), _owner_name(c)), Row(_("Notes"), shown(c.notes))],
        ),
        custom_fields_group("company", company_update, "company"),
    ],
    template="cards/company.html",
    more_context=_company_extra,
)

"""The lead card (declared here, run by crm.cards), its conversion dialog and disqualifying.

Conversion shows the duplicates `lead_conversion_candidates` finds, lets the person
link one of them or create new records, picks the pipeline, and lands on the new deal.
Only the offered candidates can be chosen: an id typed into the request that is not
among them is a field error, never a link to someone else's record.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from crm.cards import ClientCard, FieldGroup, Row, custom_fields_group, errors_onto, person_choice
from crm.clients.cards import shown
from crm.custom_fields.forms import CustomValuesForm
from crm.custom_fields.selectors import custom_fields_for
from crm.deals.selectors import pipeline_list
from crm.errors import DomainError, RecordNotFound
from crm.leads.models import Lead, LeadChannel, LeadStatus
from crm.leads.selectors import lead_conversion_candidates, lead_get
from crm.leads.services import MANUAL_STATUSES, lead_convert, lead_disqualify, lead_set_status, lead_update
from crm.selectors import workspace_settings

CHANNELS = dict(LeadChannel.choices)


class LeadForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), required=False)
    company_name = forms.CharField(label=gettext_lazy("Company"), required=False)
    email = forms.CharField(label=gettext_lazy("Email"), required=False)
    phone = forms.CharField(label=gettext_lazy("Phone"), required=False)
    owner = person_choice()


class LeadMessageForm(forms.Form):
    message = forms.CharField(label=gettext_lazy("Message"), required=False, widget=forms.Textarea(attrs={"rows": 4}))


class LeadStatusForm(forms.Form):
    status = forms.ChoiceField(
        label=gettext_lazy("Status"),
        choices=[(value, label) for value, label in LeadStatus.choices if value in MANUAL_STATUSES],
    )


def _lead_save(actor, lead, data: dict[str, Any]):
    return lead_update(actor=actor, lead=lead, **data)


def _source(lead: Lead) -> str:
    parts = [
        CHANNELS.get(lead.channel, lead.channel),
        lead.utm_source,
        lead.utm_campaign,
        lead.form.name if lead.form else "",
    ]
    return " · ".join(str(part) for part in parts if part) or "—"


LEAD_CARD = ClientCard(
    key="leads",
    record_type="lead",
    model=Lead,
    get=lambda actor, pk: lead_get(actor=actor, lead_id=pk),
    title=lambda lead: lead.name,
    groups=[
        FieldGroup(
            key="lead",
            title=gettext_lazy("Lead"),
            form=LeadForm,
            initial=lambda lead: {
                "name": lead.name,
                "company_name": lead.company_name,
                "email": lead.email,
                "phone": lead.phone,
                "owner": lead.owner_id,
            },
            save=_lead_save,
            rows=lambda lead: [
                Row(gettext_lazy("Name"), shown(lead.name)),
                Row(gettext_lazy("Company"), shown(lead.company_name)),
                Row(gettext_lazy("Email"), shown(lead.email)),
                Row(gettext_lazy("Phone"), shown(lead.phone)),
                Row(gettext_lazy("Owner"), lead.owner.full_name if lead.owner else "—"),
                Row(gettext_lazy("Source"), _source(lead)),
            ],
        ),
        FieldGroup(
            key="message",
            title=gettext_lazy("Message"),
            form=LeadMessageForm,
            initial=lambda lead: {"message": lead.message},
            save=_lead_save,
            rows=lambda lead: [Row(gettext_lazy("Message"), shown(lead.message))],
        ),
        FieldGroup(
            key="status",
            title=gettext_lazy("Status"),
            form=LeadStatusForm,
            initial=lambda lead: {"status": lead.status},
            save=lambda actor, lead, data: lead_set_status(actor=actor, lead=lead, status=data["status"]),
            rows=lambda lead: [
                Row(gettext_lazy("Status"), lead.get_status_display()),
                *([Row(gettext_lazy("Reason"), lead.disqualified_reason)] if lead.disqualified_reason else []),
            ],
        ),
        custom_fields_group("lead", lead_update, "lead"),
    ],
    template="cards/lead.html",
    # A converted lead is history: its card is read-only.
    may_edit=lambda lead: lead.status != LeadStatus.CONVERTED,
)


# --- conversion ------------------------------------------------------------------------

NEW, NONE = "new", "none"


class ConvertForm(forms.Form):
    contact = forms.ChoiceField(label=gettext_lazy("Contact"), widget=forms.RadioSelect)
    company = forms.ChoiceField(label=gettext_lazy("Company"), widget=forms.RadioSelect)
    pipeline = forms.ModelChoiceField(label=gettext_lazy("Pipeline"), queryset=None, empty_label=None)
    deal_title = forms.CharField(label=gettext_lazy("Deal title"), required=False, max_length=200)
    amount = forms.DecimalField(
        label=gettext_lazy("Amount"), required=False, min_value=0, max_digits=14, decimal_places=2
    )
    currency = forms.CharField(label=gettext_lazy("Currency"), required=False, max_length=3)

    def __init__(self, *args, lead: Lead, candidates, actor, **kwargs):
        super().__init__(*args, **kwargs)
        self.candidates = candidates
        self.fields["contact"].choices = [
            *[(str(contact.pk), _contact_label(contact)) for contact in candidates.contacts],
            (NEW, _("Create a new contact “%(name)s”") % {"name": lead.name}),
        ]
        company_choices = [(str(company.pk), company.name) for company in candidates.companies]
        if lead.company_name and not candidates.companies:
            company_choices.append((NEW, _("Create the company “%(name)s”") % {"name": lead.company_name}))
        company_choices.append((NONE, _("No company")))
        self.fields["company"].choices = company_choices
        self.fields["pipeline"].queryset = pipeline_list(actor=actor)
        if not self.is_bound:
            self.initial = {
                "contact": self.fields["contact"].choices[0][0],
                "company": company_choices[0][0],
                "pipeline": next((pipeline for pipeline in self.fields["pipeline"].queryset), None),
                "deal_title": lead.company_name or lead.name,
                "currency": workspace_settings().base_currency,
            }

    def chosen(self, field: str):
        value = self.cleaned_data[field]
        records = self.candidates.contacts if field == "contact" else self.candidates.companies
        return next((record for record in records if str(record.pk) == value), None)


def _contact_label(contact) -> str:
    details = [*contact.emails[:1], *contact.phones[:1]]
    if contact.company_id:
        details.insert(0, contact.company.name)
    return " · ".join([contact.full_name, *details])


def _lead(request: HttpRequest, pk: int) -> Lead:
    try:
        return lead_get(actor=request.user, lead_id=pk)
    except RecordNotFound as missing:
        raise Http404(missing.message) from missing


# The records a conversion may create, whose custom fields it asks for.
CONVERSION_RECORDS = [
    ("contact", gettext_lazy("The new contact's fields")),
    ("company", gettext_lazy("The new company's fields")),
    ("deal", gettext_lazy("The deal's fields")),
]


def _custom_forms(request: HttpRequest) -> list[dict[str, Any]]:
    """One custom fields form per record type that has fields (required ones marked)."""
    sections = []
    for entity, title in CONVERSION_RECORDS:
        fields = custom_fields_for(entity)
        if fields:
            form = CustomValuesForm(request.POST or None, fields=fields, prefix=f"{entity}_cf")
            sections.append({"entity": entity, "title": title, "form": form})
    return sections


def _custom_errors_onto(form: forms.Form, sections: list[dict[str, Any]], error: ValidationError) -> None:
    """`contact.custom_fields.<key>` on the contact section's field, and so on; the rest on the form."""
    rest: dict[str, list] = {}
    by_entity = {section["entity"]: section["form"] for section in sections}
    for name, problems in error.error_dict.items():
        entity, _dot, inner = name.partition(".")
        target = by_entity.get(entity)
        if target is not None and inner.startswith("custom_fields"):
            errors_onto(target, ValidationError({inner: problems}))
        else:
            rest[name] = problems
    if rest:
        errors_onto(form, ValidationError(rest), {"existing_contact": "contact", "existing_company": "company"})


@login_required
def lead_convert_view(request: HttpRequest, pk: int) -> HttpResponse:
    """GET: the conversion form (a dialog on the card, a page without JavaScript) with
    the custom fields of the records it creates; POST: convert through `lead_convert`
    and go to the new deal's card."""
    lead = _lead(request, pk)
    candidates = lead_conversion_candidates(actor=request.user, lead=lead)
    form = ConvertForm(request.POST or None, lead=lead, candidates=candidates, actor=request.user)
    sections = _custom_forms(request)
    sections_valid = all(section["form"].is_valid() for section in sections)
    if request.method == "POST" and form.is_valid() and sections_valid:
        data = form.cleaned_data
        custom = {section["entity"]: section["form"].values(changed_only=False) for section in sections}
        try:
            conversion = lead_convert(
                actor=request.user,
                lead=lead,
                pipeline=data["pipeline"],
                existing_contact=form.chosen("contact"),
                existing_company=form.chosen("company"),
                create_company=data["company"] == NEW,
                deal_title=data["deal_title"],
                amount=data["amount"],
                currency=data["currency"],
                # A person converts: the required fields of what is created must be filled.
                contact_custom_fields=custom.get("contact", {}),
                company_custom_fields=custom.get("company", {}),
                deal_custom_fields=custom.get("deal", {}),
            )
        except ValidationError as error:
            if hasattr(error, "error_dict"):
                _custom_errors_onto(form, sections, error)
            else:
                errors_onto(form, error)
        except DomainError as error:
            errors_onto(form, error, {"existing_contact": "contact", "existing_company": "company"})
        else:
            messages.success(request, _("Lead converted. Here is the new deal."))
            target = reverse("deals:detail", args=[conversion.deal.pk])
            if request.htmx:
                response = HttpResponse(status=204)
                response["HX-Redirect"] = target
                return response
            return redirect(target)
    context = {"lead": lead, "form": form, "candidates": candidates, "custom_sections": sections}
    return render(request, "leads/_convert.html" if request.htmx else "leads/convert.html", context)


@login_required
@require_POST
def lead_disqualify_view(request: HttpRequest, pk: int) -> HttpResponse:
    lead = _lead(request, pk)
    try:
        lead_disqualify(actor=request.user, lead=lead, reason=request.POST.get("reason", ""))
    except (ValidationError, DomainError) as error:
        text = error.message if isinstance(error, DomainError) else " ".join(error.messages)
        messages.error(request, text)
    else:
        messages.success(request, _("Lead disqualified."))
    return redirect(reverse("leads:detail", args=[lead.pk]))

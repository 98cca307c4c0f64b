"""Reads for leads and lead forms, always through the policy layer."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.core.exceptions import ValidationError
from django.db.models import Count, Q, QuerySet
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from crm import access
from crm.access import Action
from crm.clients.models import Company, Contact
from crm.clients.selectors import company_duplicates, contact_duplicates
from crm.errors import RecordNotFound
from crm.leads.models import Lead, LeadForm
from crm.models import Tag
from crm.phones import phone_normalize_or_none
from crm.selectors import workspace_settings

# Form keys are `secrets.token_urlsafe` strings; anything else is not worth a query.
_FORM_KEY = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
CANDIDATES_LIMIT = 20
# What a lead list can be sorted by; the id breaks ties so pages never overlap.
LEAD_ORDERINGS = {
    "created_at": ("created_at", "id"),
    "-created_at": ("-created_at", "-id"),
    "updated_at": ("updated_at", "id"),
    "-updated_at": ("-updated_at", "-id"),
    "name": ("name", "id"),
    "-name": ("-name", "-id"),
}


def _day_start(value: date | datetime, *, next_day: bool = False) -> datetime:
    if isinstance(value, datetime):
        return value if timezone.is_aware(value) else timezone.make_aware(value)
    day = value + timedelta(days=1) if next_day else value
    return timezone.make_aware(datetime.combine(day, time.min))


def lead_list(
    *,
    actor: User | None,
    status: str | None = None,
    owner: User | int | None = None,
    channel: str | None = None,
    utm_source: str | None = None,
    utm_campaign: str | None = None,
    created_from: date | datetime | None = None,
    created_to: date | datetime | None = None,
    tag: Tag | int | None = None,
    form: LeadForm | int | None = None,
    search: str = "",
    ordering: str = "-created_at",
) -> QuerySet[Lead]:
    """Visible leads, newest first, with owner, team, form and tags loaded (two queries
    for any page: the rows and their tags).

    `ordering` is a key of LEAD_ORDERINGS (ValidationError on `ordering`, code
    `invalid_choice`).

    `created_from` / `created_to` take dates (whole days, `created_to` inclusive) or
    aware datetimes (`created_to` exclusive). `search` matches the name (substring, the
    trigram index), the company name, the email (exact, any case) and the phone in any
    local format of the workspace's region.
    """
    if ordering not in LEAD_ORDERINGS:
        raise ValidationError(
            {"ordering": [ValidationError(_("This list cannot be sorted that way."), code="invalid_choice")]}
        )
    leads = access.visible(Lead.objects.all(), actor=actor)
    if status:
        leads = leads.filter(status=status)
    if owner is not None:
        leads = leads.filter(owner=owner)
    if channel:
        leads = leads.filter(channel=channel)
    if utm_source:
        leads = leads.filter(utm_source=utm_source)
    if utm_campaign:
        leads = leads.filter(utm_campaign=utm_campaign)
    if tag is not None:
        leads = leads.filter(tags=tag.pk if isinstance(tag, Tag) else tag)
    if form is not None:
        leads = leads.filter(form=form)
    if created_from is not None:
        leads = leads.filter(created_at__gte=_day_start(created_from))
    if created_to is not None:
        leads = leads.filter(created_at__lt=_day_start(created_to, next_day=True))
    term = (search or "").strip()
    if term:
        lowered = term.lower()
        match = Q(name_lower__contains=lowered) | Q(company_name__icontains=term) | Q(email_lower=lowered)
        phone = phone_normalize_or_none(term, region=workspace_settings().default_phone_region)
        if phone:
            match |= Q(phone=phone)
        leads = leads.alias(name_lower=Lower("name"), email_lower=Lower("email")).filter(match)
    return leads.select_related("owner", "team", "form").prefetch_related("tags").order_by(*LEAD_ORDERINGS[ordering])


def lead_get(*, actor: User | None, lead_id: int) -> Lead:
    """One visible lead; RecordNotFound when it does not exist, is trashed or is not visible."""
    lead = (
        access.visible(Lead.objects.all(), actor=actor)
        .select_related("owner", "team", "form", "converted_contact", "converted_company", "converted_deal")
        .prefetch_related("tags")
        .filter(pk=lead_id)
        .first()
    )
    if lead is None:
        raise RecordNotFound(_("Lead not found."))
    return lead


@dataclass(frozen=True)
class ConversionCandidates:
    """What the conversion dialog offers to reuse instead of creating duplicates."""

    contacts: list[Contact]
    companies: list[Company]


def lead_conversion_candidates(*, actor: User | None, lead: Lead) -> ConversionCandidates:
    """Visible contacts sharing the lead's email or phone, and companies with its company name."""
    contacts = contact_duplicates(
        actor=actor, emails=[lead.email] if lead.email else [], phones=[lead.phone] if lead.phone else []
    )
    companies = company_duplicates(actor=actor, name=lead.company_name)
    return ConversionCandidates(
        contacts=list(contacts.order_by("full_name", "id")[:CANDIDATES_LIMIT]),
        companies=list(companies.order_by("name", "id")[:CANDIDATES_LIMIT]),
    )


def lead_form_list(*, actor: User | None) -> QuerySet[LeadForm]:
    """The workspace's lead forms (administrators only) with their owner, people taking
    turns and number of leads received."""
    forms = access.visible(LeadForm.objects.all(), actor=actor, action=Action.CONFIGURE)
    return (
        forms.select_related("owner", "last_assigned")
        .prefetch_related("round_robin_users")
        .annotate(lead_count=Count("leads", filter=Q(leads__deleted_at__isnull=True)))
        # Meta.ordering does not apply to aggregating queries.
        .order_by("name", "id")
    )


def lead_form_get(*, actor: User | None, form_id: int) -> LeadForm:
    """One lead form for its administrators; RecordNotFound otherwise."""
    form = lead_form_list(actor=actor).filter(pk=form_id).first()
    if form is None:
        raise RecordNotFound(_("Lead form not found."))
    return form


def lead_form_get_public(*, key: str) -> LeadForm:
    """The active form with this public key, for the anonymous endpoint; RecordNotFound
    for unknown, malformed or switched-off keys (all look the same)."""
    if not _FORM_KEY.match(key or ""):
        raise RecordNotFound(_("Form not found."))
    form = LeadForm.objects.filter(key=key, is_active=True).first()
    if form is None:
        raise RecordNotFound(_("Form not found."))
    return form

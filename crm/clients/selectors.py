"""Reads for companies and contacts, always through the policy layer."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from accounts.models import User
from crm import access
from crm.clients.models import Company, Contact
from crm.selectors import workspace_settings
from crm.validation import FieldErrors, clean_emails, clean_phones


def contact_duplicates(*, actor: User | None, emails: list[str], phones: list[str]) -> QuerySet[Contact]:
    """Visible contacts sharing any email (case-insensitive) or phone (any format) with the given ones."""
    ignored = FieldErrors()
    region = workspace_settings().default_phone_region
    wanted_emails = clean_emails(emails, field="emails", errors=ignored)
    wanted_phones = clean_phones(phones, region=region, field="phones", errors=ignored)
    if not wanted_emails and not wanted_phones:
        return Contact.objects.none()
    match = Q()
    if wanted_emails:
        match |= Q(emails__overlap=wanted_emails)
    if wanted_phones:
        match |= Q(phones__overlap=wanted_phones)
    return access.visible(Contact.objects.filter(match), actor=actor).select_related("company")


def company_duplicates(*, actor: User | None, name: str) -> QuerySet[Company]:
    """Visible companies with the same name, whatever the case."""
    if not name.strip():
        return Company.objects.none()
    return access.visible(Company.objects.filter(name__iexact=name.strip()), actor=actor)

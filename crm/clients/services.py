"""Writes for companies and contacts."""

from __future__ import annotations

from datetime import date

from django.db import transaction
from django.utils.translation import gettext as _

from accounts.models import User
from crm import access
from crm.access import Action
from crm.clients.models import Company, Contact
from crm.selectors import workspace_settings
from crm.validation import FieldErrors, clean_emails, clean_phones


@transaction.atomic
def company_create(
    *,
    actor: User | None,
    name: str,
    emails: list[str] | None = None,
    phones: list[str] | None = None,
    website: str = "",
    industry: str = "",
    owner: User | None = None,
    notes: str = "",
    **address: str,
) -> Company:
    """Create a company; emails lowercased, phones in E.164. Raises ValidationError per field."""
    access.require(actor=actor, action=Action.CREATE)
    errors = FieldErrors()
    name = name.strip()
    if not name:
        errors.add("name", _("Enter the company's name."), "required")
    region = workspace_settings().default_phone_region
    clean_emails_ = clean_emails(emails or [], field="emails", errors=errors)
    clean_phones_ = clean_phones(phones or [], region=region, field="phones", errors=errors)
    errors.raise_if_any()
    return Company.objects.create(
        name=name,
        emails=clean_emails_,
        phones=clean_phones_,
        website=website.strip(),
        industry=industry.strip(),
        notes=notes,
        owner=owner if owner is not None else actor,
        created_by=actor,
        updated_by=actor,
        **address,
    )


def contact_full_name(first_name: str, last_name: str) -> str:
    return " ".join(part for part in (first_name.strip(), last_name.strip()) if part)


@transaction.atomic
def contact_create(
    *,
    actor: User | None,
    first_name: str = "",
    last_name: str = "",
    emails: list[str] | None = None,
    phones: list[str] | None = None,
    company: Company | None = None,
    job_title: str = "",
    birthday: date | None = None,
    owner: User | None = None,
    notes: str = "",
    **address: str,
) -> Contact:
    """Create a contact; needs a first or last name. Raises ValidationError per field."""
    access.require(actor=actor, action=Action.CREATE)
    errors = FieldErrors()
    full_name = contact_full_name(first_name, last_name)
    if not full_name:
        errors.add("last_name", _("Enter the contact's name."), "required")
    region = workspace_settings().default_phone_region
    clean_emails_ = clean_emails(emails or [], field="emails", errors=errors)
    clean_phones_ = clean_phones(phones or [], region=region, field="phones", errors=errors)
    errors.raise_if_any()
    return Contact.objects.create(
        first_name=first_name.strip(),
        last_name=last_name.strip(),
        full_name=full_name,
        emails=clean_emails_,
        phones=clean_phones_,
        company=company,
        job_title=job_title.strip(),
        birthday=birthday,
        notes=notes,
        owner=owner if owner is not None else actor,
        created_by=actor,
        updated_by=actor,
        **address,
    )

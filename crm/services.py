"""Workspace-level CRM writes: the settings, at creation and from the Settings page."""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
from django.db import transaction
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.seats import access_settings_update
from crm import access
from crm.access import Action
from crm.models import WorkspaceSettings
from crm.selectors import workspace_settings
from crm.validation import FieldErrors, clean_currency
from tenants.language import workspace_language_set, workspace_time_zone_set

# Sensible defaults from the language a company signs up in; the admin can change them.
DEFAULTS_BY_LANGUAGE = {
    "en": {"default_phone_region": "US", "base_currency": "USD"},
    "ru": {"default_phone_region": "RU", "base_currency": "RUB", "time_zone": "Europe/Moscow"},
    "es": {"default_phone_region": "ES", "base_currency": "EUR", "time_zone": "Europe/Madrid"},
    "ar": {"default_phone_region": "AE", "base_currency": "AED", "time_zone": "Asia/Dubai"},
}


@transaction.atomic
def workspace_settings_create(*, language: str) -> WorkspaceSettings:
    """Create the workspace's CRM settings with defaults fitting `language`."""
    defaults = DEFAULTS_BY_LANGUAGE.get(language, DEFAULTS_BY_LANGUAGE["en"])
    settings, _ = WorkspaceSettings.objects.update_or_create(pk=1, defaults=defaults)
    workspace_time_zone_set(actor=None, time_zone=settings.time_zone)
    return settings


@transaction.atomic
def workspace_settings_update(
    *,
    actor: User | None,
    base_currency: str,
    default_phone_region: str,
    time_zone: str,
    lead_followup_minutes: int,
    stale_deal_days: int,
    language: str,
    idle_timeout_minutes: int,
    allow_parallel_sessions: bool,
) -> WorkspaceSettings:
    """Everything on the Workspace settings page, all or nothing.

    Administrators only (`settings` power: AccessDenied / PermissionRefused). Every
    field problem is raised at once as one ValidationError keyed by field; then nothing
    is written. The seat behaviour (accounts) and the default language (the workspace
    row) are written through their own services in the same transaction.
    """
    access.require(actor=actor, action=Action.CONFIGURE)
    errors = FieldErrors()
    currency = clean_currency(base_currency, field="base_currency", errors=errors)
    region = (default_phone_region or "").strip().upper()
    if region not in phonenumbers.SUPPORTED_REGIONS:
        errors.add("default_phone_region", _("Choose a country from the list."), "invalid_choice")
    try:
        ZoneInfo(time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        errors.add("time_zone", _("Choose a time zone from the list."), "invalid_choice")
    for field, value in (("lead_followup_minutes", lead_followup_minutes), ("stale_deal_days", stale_deal_days)):
        if not isinstance(value, int) or value < 1:
            errors.add(field, _("Enter a whole number of at least 1."), "min_value")
    errors.raise_if_any()
    workspace = WorkspaceSettings.objects.select_for_update().filter(pk=1).first() or workspace_settings()
    workspace.base_currency = currency
    workspace.default_phone_region = region
    workspace.time_zone = time_zone
    workspace.lead_followup_minutes = lead_followup_minutes
    workspace.stale_deal_days = stale_deal_days
    workspace.save()
    access_settings_update(
        actor=actor, idle_timeout_minutes=idle_timeout_minutes, allow_parallel_sessions=allow_parallel_sessions
    )
    workspace_language_set(actor=actor, language=language)
    workspace_time_zone_set(actor=actor, time_zone=time_zone)
    return workspace

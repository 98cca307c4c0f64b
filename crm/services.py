"""Workspace-level CRM writes: settings at creation, tags."""

from __future__ import annotations

from django.db import transaction

from crm.models import WorkspaceSettings

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
    return settings

"""The workspace's default language and time zone (people who have not chosen their own read them)."""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts import roles
from accounts.audit import audit_record
from accounts.models import User
from accounts.policy import require_capability
from tenants.models import Tenant
from tenants.selectors import tenant_current


@transaction.atomic
def workspace_language_set(*, actor: User | None, language: str) -> Tenant:
    """Set the current workspace's default language (one of settings.LANGUAGES).

    Needs the `settings` power (PermissionRefused); ValidationError on `language` for
    anything else. Written to the access audit log when it changes.
    """
    require_capability(actor, roles.SETTINGS)
    if language not in dict(settings.LANGUAGES):
        raise ValidationError(
            {"language": [ValidationError(_("Choose one of the offered languages."), code="invalid_choice")]}
        )
    tenant = tenant_current()
    if tenant is None:
        raise ValueError("no workspace is active")
    if tenant.language != language:
        previous = tenant.language
        Tenant.objects.filter(pk=tenant.pk).update(language=language, updated_at=timezone.now())
        tenant.language = language
        audit_record(actor=actor, action="workspace.language", target=None, changes={"language": [previous, language]})
    return tenant


@transaction.atomic
def workspace_time_zone_set(*, actor: User | None, time_zone: str) -> Tenant:
    """Set the current workspace's time zone (an IANA name such as Europe/Moscow).

    Needs the `settings` power (the system, actor None, sets it at signup); ValidationError
    on `time_zone` for a name the time zone database doesn't know. Every page and e-mail
    then shows times in it, except to people who chose their own.
    """
    require_capability(actor, roles.SETTINGS)
    try:
        ZoneInfo(time_zone)
    except (ZoneInfoNotFoundError, ValueError) as unknown:
        raise ValidationError(
            {"time_zone": [ValidationError(_("Choose a time zone from the list."), code="invalid_choice")]}
        ) from unknown
    tenant = tenant_current()
    if tenant is None:
        raise ValueError("no workspace is active")
    if tenant.time_zone != time_zone:
        Tenant.objects.filter(pk=tenant.pk).update(time_zone=time_zone, updated_at=timezone.now())
        tenant.time_zone = time_zone
    return tenant

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django.db.models import Q
from django.utils import timezone

from crm.models import WorkspaceSettings


def workspace_settings() -> WorkspaceSettings:
    """The current tenant's CRM settings (created with defaults on first use)."""
    settings, _ = WorkspaceSettings.objects.get_or_create(pk=1)
    return settings


def day_range(field: str, start: date | datetime | None, end: date | datetime | None) -> Q:
    """`field` within [start, end]; a bare date means its whole day in the current time zone.

    Both ends are inclusive and either may be left out (no bound on that side).
    """
    condition = Q()
    if start is not None:
        if not isinstance(start, datetime):
            start = timezone.make_aware(datetime.combine(start, time.min))
        condition &= Q(**{f"{field}__gte": start})
    if end is not None:
        if isinstance(end, datetime):
            condition &= Q(**{f"{field}__lte": end})
        else:
            condition &= Q(**{f"{field}__lt": timezone.make_aware(datetime.combine(end + timedelta(days=1), time.min))})
    return condition

"""The workspace's calendar: proposal numbering years, validity and issue dates follow the office's time zone."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.utils import timezone

from crm.selectors import workspace_settings


def zone_named(name: str) -> ZoneInfo:
    """The time zone called `name`, or UTC when the setting holds something unknown."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def workspace_today() -> date:
    return timezone.now().astimezone(zone_named(workspace_settings().time_zone)).date()

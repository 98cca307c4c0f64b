"""The workspace's calendar: proposal numbering years, validity and issue dates follow the office's time zone."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.utils import timezone

from crm.selectors import workspace_settings


def workspace_zone() -> ZoneInfo:
    try:
        return ZoneInfo(workspace_settings().time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def workspace_today() -> date:
    return timezone.now().astimezone(workspace_zone()).date()


def workspace_date(moment: datetime) -> date:
    return moment.astimezone(workspace_zone()).date()

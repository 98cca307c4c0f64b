"""Which time zone a tenant page shows times in: the person's own, else the workspace's.

Both come with rows every request reads anyway (the signed-in user, and the tenant the
host lookup found), so choosing costs no query. Times are stored in UTC; forms read the
times people type in this zone too. The zone is put back after the response, so the next
request served by the same thread starts from UTC.
"""

from __future__ import annotations

from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.utils import timezone


@lru_cache(maxsize=512)
def zone_named(name: str) -> ZoneInfo | None:
    """The zone called `name`, or None for "" and unknown names."""
    if not name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def zone_for(user, tenant) -> ZoneInfo | None:
    """The zone `user` reads times in on `tenant`'s pages (None: UTC)."""
    own = zone_named(getattr(user, "time_zone", "") or "") if user is not None else None
    return own or zone_named(getattr(tenant, "time_zone", "") or "")


class UserTimeZoneMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        tenant = getattr(request, "tenant", None)
        if tenant is None or tenant.is_public:
            return self.get_response(request)
        user = getattr(request, "user", None)
        zone = zone_for(user if user is not None and user.is_authenticated else None, tenant)
        if zone is None:
            return self.get_response(request)
        timezone.activate(zone)
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()

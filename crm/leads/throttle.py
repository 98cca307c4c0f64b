"""Rate limits for the public lead form: per visitor address and per form.

Fixed-window counters in Django's cache. The cache keys carry the tenant schema
(django_tenants.cache.make_key), so one workspace's form traffic never uses another
workspace's budget even when their forms have the same primary key.

Limits come from settings when present (`LEAD_FORM_RATE_PER_IP`,
`LEAD_FORM_RATE_PER_FORM`, each `(count, seconds)`), else the defaults below. With
Redis the counters are exact; the database cache increments with a read and a write,
so under heavy concurrency a few submissions more than the limit may slip through,
which is fine for spam control.
"""

from __future__ import annotations

import ipaddress
import math
import time

from django.conf import settings
from django.core.cache import cache
from django.utils.translation import gettext as _

from crm.errors import DomainError

# A person filling a form twice a minute is plausible; ten times is a script.
DEFAULT_RATE_PER_IP = (10, 60)
# Three hundred leads an hour from one form is far beyond any real campaign's peak.
DEFAULT_RATE_PER_FORM = (300, 60 * 60)


class Throttled(DomainError):
    code = "throttled"
    http_status = 429

    def __init__(self, message: str, *, retry_after: int):
        super().__init__(message)
        self.retry_after = retry_after


def visitor_key(remote_addr: str) -> str:
    """The address a visitor is counted by: the IPv4 address, or the IPv6 /64 network
    (one home or phone gets a whole /64, so single addresses would be free to rotate)."""
    try:
        address = ipaddress.ip_address((remote_addr or "").strip())
    except ValueError:
        return "unknown"
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network(f"{address}/64", strict=False).network_address)
    return str(address)


def _rate(name: str, default: tuple[int, int]) -> tuple[int, int]:
    count, seconds = getattr(settings, name, default)
    return int(count), int(seconds)


def _hit(key: str, seconds: int) -> int:
    """Count one hit in the window `key` names; returns the count including this one."""
    if cache.add(key, 1, timeout=seconds + 5):
        return 1
    try:
        return cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=seconds + 5)
        return 1


def _retry_after(now: float, seconds: int) -> int:
    return max(1, math.ceil(seconds - (now % seconds)))


def lead_form_throttle(*, form_id: int, remote_addr: str) -> None:
    """Count a submission to form `form_id` from `remote_addr`.

    Raises Throttled (with `retry_after` seconds) when the visitor is over the per-address
    limit or the form is over its own limit. A visitor already over their limit is not
    counted against the form, so one flooding address cannot use up the form's budget.
    """
    now = time.time()
    ip_count, ip_seconds = _rate("LEAD_FORM_RATE_PER_IP", DEFAULT_RATE_PER_IP)
    ip_key = f"leadform:{form_id}:ip:{visitor_key(remote_addr)}:{int(now // ip_seconds)}"
    if _hit(ip_key, ip_seconds) > ip_count:
        raise Throttled(
            _("Too many submissions. Please try again in a minute."), retry_after=_retry_after(now, ip_seconds)
        )
    form_count, form_seconds = _rate("LEAD_FORM_RATE_PER_FORM", DEFAULT_RATE_PER_FORM)
    form_key = f"leadform:{form_id}:all:{int(now // form_seconds)}"
    if _hit(form_key, form_seconds) > form_count:
        raise Throttled(
            _("This form is receiving too many submissions. Please try again later."),
            retry_after=_retry_after(now, form_seconds),
        )

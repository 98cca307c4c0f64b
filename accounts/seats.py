"""Named and concurrent seats, counted in PostgreSQL so any number of web nodes agree.

Every change to who holds a seat runs in one transaction holding a transaction-scoped
advisory lock for the tenant (never a session-level one: those leak behind transaction
poolers). Lease times come from the database clock (`now()`), not the web node's.

- A named seat belongs to one person; a concurrent seat is taken by signing in (a
  lease) and freed by signing out, by an administrator, or after the idle timeout.
- Concurrent seats are counted per person: a second browser of the same person reuses
  their seat (or, when parallel sessions are off, ends the other session).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Count, Min, Q
from django.db.models.functions import Now
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts import lease_sql, roles
from accounts.audit import audit_record
from accounts.errors import NoSeatAvailable, SeatLimitReached, SeatNotAssigned
from accounts.models import AccessSettings, LeaseKind, ReleaseReason, SeatLease, SeatType, SeatUsageDay, User
from accounts.policy import require_capability
from config.locks import advisory_xact_lock
from tenants.selectors import tenant_current


@dataclass(frozen=True)
class SeatCapacity:
    named: int
    concurrent: int


def seat_capacity() -> SeatCapacity:
    """What the current tenant pays for: its plan's seats plus seats bought on top."""
    tenant = tenant_current()
    if tenant is None:
        return SeatCapacity(named=0, concurrent=0)
    return SeatCapacity(named=tenant.named_seats, concurrent=tenant.concurrent_seats)


def access_settings() -> AccessSettings:
    settings, _ = AccessSettings.objects.get_or_create(pk=1)
    return settings


@transaction.atomic
def access_settings_update(
    *, actor: User | None, idle_timeout_minutes: int, allow_parallel_sessions: bool
) -> AccessSettings:
    """Change how shared seats behave: the idle time after which a seat frees itself, and
    whether one person may be signed in from several browsers. Needs the `settings`
    power; ValidationError on `idle_timeout_minutes` below 1. Audited when it changes.
    """
    require_capability(actor, roles.SETTINGS)
    if not isinstance(idle_timeout_minutes, int) or idle_timeout_minutes < 1:
        raise ValidationError(
            {"idle_timeout_minutes": [ValidationError(_("Enter at least one minute."), code="min_value")]}
        )
    settings = AccessSettings.objects.select_for_update().filter(pk=1).first() or access_settings()
    before = {
        "idle_timeout_minutes": settings.idle_timeout_minutes,
        "allow_parallel_sessions": settings.allow_parallel_sessions,
    }
    after = {"idle_timeout_minutes": idle_timeout_minutes, "allow_parallel_sessions": bool(allow_parallel_sessions)}
    if before != after:
        settings.idle_timeout_minutes = idle_timeout_minutes
        settings.allow_parallel_sessions = bool(allow_parallel_sessions)
        settings.save(update_fields=["idle_timeout_minutes", "allow_parallel_sessions", "updated_at"])
        audit_record(actor=actor, action="seats.settings", target=settings, changes={"before": before, "after": after})
    return settings


def _lock_seats() -> None:
    """Serialise seat changes of this tenant until the transaction ends."""
    advisory_xact_lock(f"seats:{connection.schema_name}")


def _idle_cutoff(settings: AccessSettings):
    return Now() - timedelta(minutes=settings.idle_timeout_minutes)


def _expire_idle(settings: AccessSettings) -> int:
    return SeatLease.objects.filter(released_at__isnull=True, last_seen_at__lt=_idle_cutoff(settings)).update(
        released_at=Now(), release_reason=ReleaseReason.EXPIRED
    )


def _admin_names() -> str:
    names = list(
        User.objects.filter(is_active=True, role__code=roles.ADMIN)
        .order_by("full_name")
        .values_list("full_name", flat=True)[:3]
    )
    return ", ".join(names) or _("your workspace administrator")


@transaction.atomic
def seat_lease_acquire(
    *, user: User, session_key: str, kind: str = LeaseKind.WEB, ip_address: str | None = None, user_agent: str = ""
) -> SeatLease:
    """Give `user` a seat for the session `session_key`, or refuse.

    Raises SeatNotAssigned when the person has no seat, NoSeatAvailable when every shared
    seat is held by someone else. Never lets more people hold concurrent seats than the
    tenant has, whatever the number of simultaneous sign-ins or web nodes.
    """
    _lock_seats()
    settings = access_settings()
    _expire_idle(settings)
    user.refresh_from_db(fields=["seat_type", "is_active"])
    if user.seat_type == SeatType.NONE or not user.is_active:
        raise SeatNotAssigned(
            _("You have no seat in this workspace yet. Ask %(admins)s to give you one.") % {"admins": _admin_names()}
        )
    active = SeatLease.objects.filter(released_at__isnull=True)
    if not settings.allow_parallel_sessions:
        active.filter(user=user, kind=LeaseKind.WEB).update(released_at=Now(), release_reason=ReleaseReason.REPLACED)
    if user.seat_type == SeatType.CONCURRENT:
        holders = active.filter(seat_type=SeatType.CONCURRENT).values("user").distinct()
        already_holding = holders.filter(user=user).exists()
        capacity = seat_capacity().concurrent
        if not already_holding and holders.count() >= capacity:
            raise _no_seat_available(capacity, settings)
    lease = SeatLease.objects.create(
        user=user,
        session_key=session_key,
        kind=kind,
        seat_type=user.seat_type,
        ip_address=ip_address,
        user_agent=(user_agent or "")[:255],
    )
    _record_peak()
    return lease


def _no_seat_available(capacity: int, settings: AccessSettings) -> NoSeatAvailable:
    oldest = SeatLease.objects.filter(released_at__isnull=True, seat_type=SeatType.CONCURRENT).aggregate(
        oldest=Min("last_seen_at")
    )["oldest"]
    next_free_at = oldest + timedelta(minutes=settings.idle_timeout_minutes) if oldest else None
    message = ngettext(
        "The workspace's %(seats)d shared seat is in use.",
        "All %(seats)d shared seats of the workspace are in use.",
        capacity,
    ) % {"seats": capacity}
    if next_free_at:
        message += " " + _("If nobody comes back, one frees up at %(time)s.") % {
            "time": formats.time_format(timezone.localtime(next_free_at), "TIME_FORMAT")
        }
    message += " " + _("An administrator (%(admins)s) can free a seat now.") % {"admins": _admin_names()}
    return NoSeatAvailable(message, seats=capacity, next_free_at=next_free_at)


def _record_peak() -> None:
    in_use = (
        SeatLease.objects.filter(released_at__isnull=True, seat_type=SeatType.CONCURRENT)
        .values("user")
        .distinct()
        .count()
    )
    today = timezone.localdate()
    day, created = SeatUsageDay.objects.get_or_create(
        day=today, defaults={"peak_concurrent": in_use, "peak_at": timezone.now()}
    )
    if not created and in_use > day.peak_concurrent:
        SeatUsageDay.objects.filter(pk=day.pk, peak_concurrent__lt=in_use).update(
            peak_concurrent=in_use, peak_at=timezone.now()
        )


@dataclass(frozen=True)
class LeaseState:
    """What a request needs to know of its session's lease."""

    released_at: datetime | None
    release_reason: str


def seat_lease_touch(*, session_key: str) -> LeaseState | None:
    """Keep a session's seat. Returns the lease's state (check `released_at`), None if there is none.

    A lease idle for longer than the timeout is released here. Writes at most once per
    `lease_sql.RENEW_AFTER` per session; other requests only read. Every request of every
    signed-in person passes here, so it is one round trip: the read, the database clock,
    the idle timeout and the throttled renewal in one call of a planned-once function.
    """
    with connection.cursor() as cursor:
        cursor.execute(lease_sql.touch(), lease_sql.params(session_key))
        row = cursor.fetchone()
    return None if row is None else lease_state_settle(session_key=session_key, row=row)


def session_with_lease(*, session_key: str) -> tuple[str | None, tuple | None]:
    """A web session's data (None: missing or expired) and the raw state of its lease, read and
    renewed like `seat_lease_touch` in the same round trip; settle the state with
    `lease_state_settle`. Used by accounts.session_store so that the seat check costs no
    round trip of its own. An expired session never renews its lease."""
    with connection.cursor() as cursor:
        cursor.execute(lease_sql.session_with_lease(), lease_sql.params(session_key))
        row = cursor.fetchone()
    if row is None:
        return None, None
    return row[0], (row[1:] if row[1] is not None else None)


def lease_state_settle(*, session_key: str, row: tuple) -> LeaseState:
    """The state of a lease read by the statements above, released first if it sat idle too long."""
    _lease_id, released_at, release_reason, idle_for, idle_minutes, db_now = row
    if released_at is None and idle_for > timedelta(minutes=idle_minutes):
        seat_lease_release(session_key=session_key, reason=ReleaseReason.EXPIRED)
        return LeaseState(released_at=db_now, release_reason=ReleaseReason.EXPIRED)
    return LeaseState(released_at=released_at, release_reason=release_reason)


def seat_lease_release(*, session_key: str, reason: str = ReleaseReason.LOGOUT) -> bool:
    """Free the seat held by a session at once. True when a seat was freed."""
    return bool(
        SeatLease.objects.filter(session_key=session_key, released_at__isnull=True).update(
            released_at=Now(), release_reason=reason
        )
    )


def seat_leases_release_all(*, user: User, reason: str) -> int:
    """End every session of `user` at once (seat taken away, account switched off)."""
    return SeatLease.objects.filter(user=user, released_at__isnull=True).update(
        released_at=Now(), release_reason=reason
    )


def seat_leases_release_everyone(*, reason: str = ReleaseReason.FORCED) -> int:
    """End every session's seat in the current workspace (after a backup is restored)."""
    return SeatLease.objects.filter(released_at__isnull=True).update(released_at=Now(), release_reason=reason)


@transaction.atomic
def seat_lease_force_release(*, actor: User, lease: SeatLease) -> None:
    """An administrator frees a seat; the holder's next request goes to the sign-in page."""
    require_capability(actor, roles.SEATS)
    freed = SeatLease.objects.filter(pk=lease.pk, released_at__isnull=True).update(
        released_at=Now(), release_reason=ReleaseReason.FORCED
    )
    if freed:
        audit_record(actor=actor, action="seat.force_release", target=lease.user, changes={"lease": lease.pk})


@transaction.atomic
def seat_assign(*, actor: User | None, user: User, seat_type: str) -> User:
    """Give `user` a named seat, a place in the shared pool, or no seat.

    Refuses a named seat beyond what the tenant has (code plan_limit_reached). Taking a
    seat away ends the person's sessions.
    """
    require_capability(actor, roles.SEATS)
    if seat_type not in SeatType.values:
        raise ValueError(f"unknown seat type {seat_type!r}")
    _lock_seats()
    if seat_type == SeatType.NAMED and user.seat_type != SeatType.NAMED:
        capacity = seat_capacity().named
        taken = User.objects.filter(seat_type=SeatType.NAMED).count()
        if taken >= capacity:
            raise SeatLimitReached(
                ngettext(
                    "All %(seats)d named seat of your plan is assigned. Take one from someone, switch them to a "
                    "shared seat, or buy more seats on the Billing page.",
                    "All %(seats)d named seats of your plan are assigned. Take one from someone, switch them to a "
                    "shared seat, or buy more seats on the Billing page.",
                    capacity,
                )
                % {"seats": capacity}
            )
    previous = user.seat_type
    User.objects.filter(pk=user.pk).update(seat_type=seat_type, updated_at=timezone.now())
    user.seat_type = seat_type
    if previous != seat_type:
        seat_leases_release_all(user=user, reason=ReleaseReason.SEAT_REMOVED)
        audit_record(actor=actor, action="seat.assign", target=user, changes={"seat": [previous, seat_type]})
    return user


@dataclass(frozen=True)
class SeatOverview:
    named_total: int
    named_assigned: int
    concurrent_total: int
    concurrent_in_use: int


def seat_overview() -> SeatOverview:
    capacity = seat_capacity()
    counts = User.objects.aggregate(named=Count("pk", filter=Q(seat_type=SeatType.NAMED)))
    in_use = (
        SeatLease.objects.filter(released_at__isnull=True, seat_type=SeatType.CONCURRENT)
        .values("user")
        .distinct()
        .count()
    )
    return SeatOverview(capacity.named, counts["named"], capacity.concurrent, in_use)


def seat_holders():
    """Live leases with their holders: who, since when, last activity, IP, browser."""
    settings = access_settings()
    return (
        SeatLease.objects.filter(released_at__isnull=True, last_seen_at__gte=_idle_cutoff(settings))
        .select_related("user")
        .order_by("-last_seen_at")
    )


def seat_usage_history(*, days: int = 30):
    since = timezone.localdate() - timedelta(days=days - 1)
    return SeatUsageDay.objects.filter(day__gte=since).order_by("day")

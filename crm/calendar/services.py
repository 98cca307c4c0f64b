"""Writes of the calendar: a person's feed address (make, revoke) and moving a task in time.

Rescheduling by dragging goes through crm.activities.services.task_reschedule like every
other way of moving a task, so permissions, closed tasks and reminders behave the same.
"""

from __future__ import annotations

import hashlib
import secrets

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from crm.calendar.models import CalendarFeed
from crm.errors import AccessDenied

SECRET_BYTES = 24
PREFIX_LENGTH = 8


def feed_secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@transaction.atomic
def calendar_feed_create(*, actor: User) -> tuple[CalendarFeed, str]:
    """A new secret feed address for `actor`'s own tasks; the previous one stops working.

    Returns the feed and its secret, which is shown once and never stored (only its
    hash is). Refused (AccessDenied) for a switched-off person or an integration.
    """
    if actor is None or not actor.is_active or actor.is_integration:
        raise AccessDenied(_("Only people signed in to this workspace have calendar feeds."))
    CalendarFeed.objects.filter(user=actor, revoked_at__isnull=True).update(
        revoked_at=timezone.now(), updated_at=timezone.now()
    )
    secret = secrets.token_urlsafe(SECRET_BYTES)
    feed = CalendarFeed.objects.create(
        user=actor, token_hash=feed_secret_hash(secret), token_prefix=secret[:PREFIX_LENGTH]
    )
    return feed, secret


@transaction.atomic
def calendar_feed_revoke(*, actor: User) -> int:
    """Stop `actor`'s feed address: calendars subscribed to it get nothing more. Returns
    how many addresses were live (0 or 1)."""
    return CalendarFeed.objects.filter(user=actor, revoked_at__isnull=True).update(
        revoked_at=timezone.now(), updated_at=timezone.now()
    )


def calendar_feed_read(*, feed: CalendarFeed) -> None:
    """Note that a calendar read the feed (at most once an hour: calendars poll often)."""
    now = timezone.now()
    if feed.last_read_at is None or (now - feed.last_read_at).total_seconds() > 3600:
        CalendarFeed.objects.filter(pk=feed.pk).update(last_read_at=now)

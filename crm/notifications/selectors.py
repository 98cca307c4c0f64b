"""Reads of the in-app inbox. A user only ever sees notifications addressed to them."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from crm.errors import RecordNotFound
from crm.notifications.models import Notification

MAX_PAGE = 100


@dataclass(frozen=True)
class InboxCursor:
    """Where the next (older) page of an inbox starts: the last shown (created_at, id)."""

    created_at: datetime
    id: int

    def encode(self) -> str:
        raw = f"{self.created_at.isoformat()}|{self.id}".encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def parse(cls, text: str) -> InboxCursor:
        """Read a cursor a client sent back; a tampered one is a field error, not a 500."""
        broken = ValidationError({"before": [ValidationError(_("This page link is broken."), code="invalid_cursor")]})
        try:
            raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode()
            stamp, _sep, pk = raw.rpartition("|")
            created_at = datetime.fromisoformat(stamp)
            cursor = cls(created_at=created_at, id=int(pk))
        except (ValueError, binascii.Error, UnicodeDecodeError) as error:
            raise broken from error
        if timezone.is_naive(cursor.created_at):
            raise broken
        return cursor


@dataclass(frozen=True)
class InboxPage:
    notifications: list[Notification]
    next_before: InboxCursor | None


def inbox(*, user: User, unread_only: bool = False, limit: int = 20, before: InboxCursor | None = None) -> InboxPage:
    """`user`'s notifications, newest first, one page of at most `limit` (keyset-paginated).

    One query; `next_before` is the cursor of the following page, None on the last one.
    """
    limit = max(1, min(limit, MAX_PAGE))
    queryset = _inbox_queryset(user=user, unread_only=unread_only)
    if before is not None:
        # The redundant `created_at <= ...` bound lets PostgreSQL start the index scan at
        # the cursor instead of filtering every newer row.
        queryset = queryset.filter(
            Q(created_at__lt=before.created_at) | Q(created_at=before.created_at, id__lt=before.id),
            created_at__lte=before.created_at,
        )
    rows = list(queryset[: limit + 1])
    has_more = len(rows) > limit
    rows = rows[:limit]
    next_before = InboxCursor(created_at=rows[-1].created_at, id=rows[-1].pk) if has_more else None
    return InboxPage(notifications=rows, next_before=next_before)


def notification_list(*, user: User, unread_only: bool = False) -> QuerySet[Notification]:
    """`user`'s notifications as a queryset, newest first, ordered by (created_at, id)
    descending, for callers that page by keyset themselves (the API's cursor pages use
    the `notification_inbox_all` index exactly as `inbox()` does)."""
    return _inbox_queryset(user=user, unread_only=unread_only)


def notification_get(*, user: User, notification_id: int) -> Notification:
    """One of `user`'s notifications; RecordNotFound for a missing one or someone else's."""
    notification = _inbox_queryset(user=user, unread_only=False).filter(pk=notification_id).first()
    if notification is None:
        raise RecordNotFound(_("This notification does not exist."))
    return notification


def unread_count(*, user: User) -> int:
    """How many of `user`'s notifications are unread (for the badge in the header)."""
    return _inbox_queryset(user=user, unread_only=True).count()


def _inbox_queryset(*, user: User, unread_only: bool) -> QuerySet[Notification]:
    if user is None or not user.is_active:
        return Notification.objects.none()
    queryset = Notification.objects.filter(recipient=user)
    if unread_only:
        queryset = queryset.filter(read_at__isnull=True)
    return queryset.order_by("-created_at", "-id")


def notifications_since(*, user: User, after_id: int, limit: int = 5) -> tuple[int, int, list[Notification]]:
    """For the browser's poll: (unread count, id of `user`'s newest notification,
    the newest unread ones with an id above `after_id`, at most `limit`, newest first).

    Ids only grow, so "above the newest one the page knew" is what arrived since.
    """
    queryset = _inbox_queryset(user=user, unread_only=False)
    latest = queryset.values_list("id", flat=True).first() or 0
    if latest <= after_id:
        return unread_count(user=user), latest, []
    fresh = list(
        _inbox_queryset(user=user, unread_only=True).filter(id__gt=after_id).order_by("-id")[: max(1, min(limit, 20))]
    )
    return unread_count(user=user), latest, fresh

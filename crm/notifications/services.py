"""Writes for the in-app inbox: putting messages in it and marking them read.

Only the recipient can change their own notifications: another user's notification
looks exactly like a missing one (RecordNotFound), never like a forbidden one.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from crm.errors import RecordNotFound
from crm.notifications.models import Notification, NotificationKind

# Other apps name notification kinds through this module, not through our models.
__all__ = [
    "Message",
    "NotificationKind",
    "notification_mark_read",
    "notifications_mark_all_read",
    "notify",
    "notify_many",
]


@dataclass(frozen=True)
class Message:
    """One inbox entry to be written by `notify_many`."""

    recipient: User
    kind: str
    title: str
    body: str = ""
    url: str = ""


def notify(*, recipient: User, kind: str, title: str, body: str = "", url: str = "") -> Notification:
    """Put a message in `recipient`'s in-app inbox (joins the caller's transaction, if any)."""
    return Notification.objects.create(recipient=recipient, kind=kind, title=title[:255], body=body, url=url)


def notify_many(*, messages: Iterable[Message]) -> list[Notification]:
    """Put many messages in their recipients' inboxes with one INSERT (batch jobs use this)."""
    return Notification.objects.bulk_create(
        Notification(recipient=m.recipient, kind=m.kind, title=m.title[:255], body=m.body, url=m.url) for m in messages
    )


@transaction.atomic
def notification_mark_read(*, user: User, notification_id: int) -> Notification:
    """Mark one of `user`'s notifications read; marking it again keeps the first read time.

    Raises RecordNotFound for a notification that is missing or someone else's.
    """
    notification = Notification.objects.select_for_update().filter(pk=notification_id, recipient=user).first()
    if notification is None:
        raise RecordNotFound(_("This notification does not exist."))
    if notification.read_at is None:
        notification.read_at = timezone.now()
        notification.save(update_fields=["read_at", "updated_at"])
    return notification


@transaction.atomic
def notifications_mark_all_read(*, user: User) -> int:
    """Mark every unread notification of `user` read with one UPDATE; returns how many changed."""
    now = timezone.now()
    return Notification.objects.filter(recipient=user, read_at__isnull=True).update(read_at=now, updated_at=now)

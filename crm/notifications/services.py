from __future__ import annotations

from accounts.models import User
from crm.notifications.models import Notification


def notify(*, recipient: User, kind: str, title: str, body: str = "", url: str = "") -> Notification:
    """Put a message in `recipient`'s in-app inbox."""
    return Notification.objects.create(recipient=recipient, kind=kind, title=title[:255], body=body, url=url)

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from crm.records import Timestamped


class NotificationKind(models.TextChoices):
    TASK_OVERDUE = "task_overdue", _("Overdue task")
    TASK_ASSIGNED = "task_assigned", _("Task assigned")
    LEAD_ASSIGNED = "lead_assigned", _("New lead")
    DEAL_WON = "deal_won", _("Deal won")
    SYSTEM = "system", _("Message")


class Notification(Timestamped):
    """An entry in a user's in-app inbox."""

    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(_("kind"), max_length=20, choices=NotificationKind.choices)
    title = models.CharField(_("title"), max_length=255)
    body = models.TextField(_("text"), blank=True)
    url = models.CharField(_("link"), max_length=500, blank=True)
    read_at = models.DateTimeField(_("read"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        indexes = [
            # Unread badge and the unread-only inbox.
            models.Index(fields=["recipient", "read_at", "-created_at"], name="notification_inbox"),
            # The whole inbox, newest first, paged by (created_at, id).
            models.Index(fields=["recipient", "-created_at", "-id"], name="notification_inbox_all"),
        ]

    def __str__(self) -> str:
        return self.title

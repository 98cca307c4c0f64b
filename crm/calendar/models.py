"""A person's calendar subscription: the secret address Google or Outlook polls.

Only a hash of the secret is kept (like API tokens): a leaked database reveals no feed
address. One live feed per person; making a new one or revoking it kills the old address.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from crm.records import Timestamped


class CalendarFeed(Timestamped):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("person"), on_delete=models.CASCADE, related_name="calendar_feeds"
    )
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    # The first characters of the secret, so a person can tell two addresses apart.
    token_prefix = models.CharField(_("address starts with"), max_length=12, editable=False)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True, editable=False)
    last_read_at = models.DateTimeField(_("last read by a calendar"), null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("calendar feed")
        verbose_name_plural = _("calendar feeds")
        constraints = [
            models.UniqueConstraint(
                fields=["user"], condition=models.Q(revoked_at__isnull=True), name="one_live_calendar_feed_per_user"
            )
        ]

    def __str__(self) -> str:
        return f"{self.token_prefix}… ({self.user_id})"

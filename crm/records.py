"""What every client record shares: timestamps, ownership, authorship and the trash.

Deletion moves a record to the trash (`deleted_at` set); the default manager hides
trashed rows and `all_objects` sees everything, for the trash page and restores.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

# GIN indexes collect new entries in a pending list that every search reads in full
# until it is merged (by vacuum, or once it reaches this size). The default 4 MB made a
# single email or trigram lookup read hundreds of pages after a day's edits (measured:
# 0.3 ms instead of 0.02 ms per lookup); 256 kB keeps writes batched and reads short.
GIN_PENDING_LIST_KB = 256


class Timestamped(models.Model):
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        abstract = True


class LiveManager(models.Manager):
    def get_queryset(self) -> models.QuerySet:
        return super().get_queryset().filter(deleted_at__isnull=True)


class Trashable(models.Model):
    deleted_at = models.DateTimeField(_("moved to trash"), null=True, blank=True, editable=False)
    deleted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", editable=False
    )

    objects = LiveManager()
    all_objects = models.Manager()  # noqa: DJ012 - a manager, not a field

    class Meta:
        abstract = True
        base_manager_name = "all_objects"

    @property
    def is_trashed(self) -> bool:
        return self.deleted_at is not None


class ClientRecord(Timestamped, Trashable):
    """A record someone owns: lead, contact, company, deal, task, quote."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    team = models.ForeignKey(
        "accounts.Team", verbose_name=_("team"), on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", editable=False
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", editable=False
    )

    class Meta(Trashable.Meta):
        abstract = True


class WithCustomFields(models.Model):
    """Values of the workspace's custom fields (crm.custom_fields), keyed by field key.

    Only the services write it, with values cleaned by crm.custom_fields.values; a GIN
    index on it answers filters (`custom_fields @> {"key": value}`) on any field.
    """

    custom_fields = models.JSONField(_("custom fields"), default=dict, db_default={}, blank=True, editable=False)

    class Meta:
        abstract = True

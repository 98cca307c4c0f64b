"""Field history: who changed which field of which record, when, how, from what to what.

One row per field per change. Records are named by type and id (no generic foreign
key, no key across schemas), so the history of a record outlives a stay in the trash,
and a backup carries it with the rest of the schema. When a record is deleted for good
(purged from the trash) its history goes with it: old values are personal data too.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.records import Timestamped


class Channel(models.TextChoices):
    """How a change reached the CRM."""

    WEB = "web", _("Web")
    API = "api", _("API")
    IMPORT = "import", _("Import")
    AUTOMATION = "automation", _("Automation")
    SYSTEM = "system", _("System")


class FieldChange(Timestamped):
    # Not `auto_now_add`: the rows of one save carry one time (crm.history.services
    # stamps them), so a reader can tell which changes were made together.
    created_at = models.DateTimeField(_("changed"), default=timezone.now, editable=False)
    record_type = models.CharField(_("record type"), max_length=20)
    record_id = models.BigIntegerField(_("record"))
    # A model field's name (`job_title`, `owner`), `custom_fields.<key>`, `tags`, or one
    # of the events of crm.history.services.EVENT_FIELDS (`trashed`, `merged_from`...).
    field = models.CharField(_("field"), max_length=80)
    # The values in their stored JSON form; references as their id.
    old_value = models.JSONField(_("old value"), null=True, blank=True)
    new_value = models.JSONField(_("new value"), null=True, blank=True)
    # What a reference was called at the time (a person's or a company's name), since
    # the referenced row may be renamed or deleted later; for an amount, its currency.
    old_label = models.CharField(_("old value (as shown)"), max_length=255, blank=True)
    new_label = models.CharField(_("new value (as shown)"), max_length=255, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("changed by"), on_delete=models.SET_NULL, null=True, related_name="+"
    )
    actor_label = models.CharField(_("changed by (as shown)"), max_length=254, blank=True)
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices, default=Channel.SYSTEM)
    # Changes made together (one import, one bulk action) share a batch: "import:12".
    batch = models.CharField(_("batch"), max_length=40, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("field change")
        verbose_name_plural = _("field changes")
        indexes = [
            # A record's history newest first (the card's timeline, the API), keyset-paged.
            models.Index(fields=["record_type", "record_id", "-created_at", "-id"], name="fieldchange_record"),
            models.Index(fields=["batch"], condition=~models.Q(batch=""), name="fieldchange_batch"),
        ]

    def __str__(self) -> str:
        return f"{self.record_type}:{self.record_id} {self.field}"

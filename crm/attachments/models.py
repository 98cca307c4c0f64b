"""Documents attached to client records (a lead, contact, company or deal).

An attachment belongs to exactly one record, by a plain foreign key per record type
(like tasks and activities do), so visibility follows the record through crm.access,
merging duplicates moves them to the kept record (crm.clients walks the reverse
relations) and a record purged from the trash takes its attachments' rows with it. The bytes live
in the tenant's own media folder (default storage, MEDIA_ROOT/<schema>/) under a random
name; the person's file name is only metadata, shown and sent back on download.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from crm.records import Timestamped

# The record types an attachment can belong to: each is a foreign key of the same name.
RECORD_TYPES = ("lead", "contact", "company", "deal")


def _record_link(to: str, verbose_name) -> models.ForeignKey:
    # No single-column index per link: the composite indexes below lead with it.
    return models.ForeignKey(
        to,
        verbose_name=verbose_name,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="attachments",
        db_index=False,
    )


class Attachment(Timestamped):
    lead = _record_link("leads.Lead", _("lead"))
    contact = _record_link("clients.Contact", _("contact"))
    company = _record_link("clients.Company", _("company"))
    deal = _record_link("deals.Deal", _("deal"))
    original_name = models.CharField(_("file name"), max_length=255)
    content_type = models.CharField(_("content type"), max_length=100)
    size_bytes = models.PositiveBigIntegerField(_("size (bytes)"))
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    # Relative to the tenant's media folder; random, never derived from the file name.
    stored_name = models.CharField(max_length=200, unique=True, editable=False)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("uploaded by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(lead__isnull=False, contact__isnull=True, company__isnull=True, deal__isnull=True)
                    | Q(lead__isnull=True, contact__isnull=False, company__isnull=True, deal__isnull=True)
                    | Q(lead__isnull=True, contact__isnull=True, company__isnull=False, deal__isnull=True)
                    | Q(lead__isnull=True, contact__isnull=True, company__isnull=True, deal__isnull=False)
                ),
                name="attachment_belongs_to_one_record",
            ),
        ]
        indexes = [
            models.Index(fields=["lead", "-created_at"], name="attachment_lead"),
            models.Index(fields=["contact", "-created_at"], name="attachment_contact"),
            models.Index(fields=["company", "-created_at"], name="attachment_company"),
            models.Index(fields=["deal", "-created_at"], name="attachment_deal"),
        ]

    def __str__(self) -> str:
        return self.original_name

    @property
    def record_type(self) -> str:
        return next(name for name in RECORD_TYPES if getattr(self, f"{name}_id") is not None)

    @property
    def record_id(self) -> int:
        return getattr(self, f"{self.record_type}_id")

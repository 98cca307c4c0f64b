from __future__ import annotations

import secrets

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex, OpClass
from django.db import models
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _

from crm.deals.models import SourceData
from crm.records import GIN_PENDING_LIST_KB, ClientRecord, Timestamped, WithCustomFields


def new_form_key() -> str:
    return secrets.token_urlsafe(16)


class LeadAssignment(models.TextChoices):
    OWNER = "owner", _("Always the same person")
    ROUND_ROBIN = "round_robin", _("In turn among several people")


class LeadForm(Timestamped):
    """A capture form on a customer's website; `key` is its public address."""

    name = models.CharField(_("name"), max_length=100)
    key = models.CharField(_("key"), max_length=32, unique=True, default=new_form_key, editable=False)
    is_active = models.BooleanField(_("accepting leads"), default=True)
    allowed_origins = ArrayField(
        models.CharField(max_length=255),
        verbose_name=_("allowed origins"),
        default=list,
        blank=True,
        help_text=_("Sites allowed to post to this form, e.g. https://www.example.com"),
    )
    assignment = models.CharField(
        _("assign new leads"), max_length=12, choices=LeadAssignment.choices, default=LeadAssignment.OWNER
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner of new leads"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    round_robin_users = models.ManyToManyField(
        settings.AUTH_USER_MODEL, verbose_name=_("people taking turns"), blank=True, related_name="+"
    )
    # Who got the previous lead, so round robin continues where it stopped.
    last_assigned = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", editable=False
    )
    thank_you_text = models.TextField(_("thank-you message"), blank=True)
    redirect_url = models.URLField(_("redirect after sending"), max_length=2000, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", editable=False
    )

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("lead form")
        verbose_name_plural = _("lead forms")

    def __str__(self) -> str:
        return self.name


class LeadStatus(models.TextChoices):
    NEW = "new", _("New")
    IN_PROGRESS = "in_progress", _("In progress")
    QUALIFIED = "qualified", _("Qualified")
    DISQUALIFIED = "disqualified", _("Disqualified")
    CONVERTED = "converted", _("Converted")


class LeadChannel(models.TextChoices):
    WEB_FORM = "web_form", _("Website form")
    MANUAL = "manual", _("Entered by hand")
    PHONE = "phone", _("Phone call")
    EMAIL = "email", _("Email")
    REFERRAL = "referral", _("Referral")
    EVENT = "event", _("Event")
    IMPORT = "import", _("Import")
    API = "api", _("API")


class Lead(ClientRecord, SourceData, WithCustomFields):
    name = models.CharField(_("name"), max_length=200)
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    email = models.CharField(_("email"), max_length=254, blank=True)
    company_name = models.CharField(_("company"), max_length=200, blank=True)
    message = models.TextField(_("message"), blank=True)
    status = models.CharField(_("status"), max_length=12, choices=LeadStatus.choices, default=LeadStatus.NEW)
    disqualified_reason = models.CharField(_("reason for disqualifying"), max_length=255, blank=True)
    form = models.ForeignKey(
        LeadForm, verbose_name=_("form"), on_delete=models.SET_NULL, null=True, blank=True, related_name="leads"
    )
    converted_at = models.DateTimeField(_("converted"), null=True, blank=True)
    converted_contact = models.ForeignKey(
        "clients.Contact", on_delete=models.SET_NULL, null=True, blank=True, related_name="source_leads"
    )
    converted_company = models.ForeignKey(
        "clients.Company", on_delete=models.SET_NULL, null=True, blank=True, related_name="source_leads"
    )
    converted_deal = models.ForeignKey(
        "deals.Deal", on_delete=models.SET_NULL, null=True, blank=True, related_name="source_leads"
    )
    tags = models.ManyToManyField("crm.Tag", verbose_name=_("tags"), blank=True, related_name="leads")

    class Meta(ClientRecord.Meta):
        ordering = ["-created_at", "-id"]
        verbose_name = _("lead")
        verbose_name_plural = _("leads")
        indexes = [
            # The trash page: this kind's trashed rows, most recently trashed first (a small index).
            models.Index(fields=["deleted_at", "id"], condition=models.Q(deleted_at__isnull=False), name="lead_trash"),
            models.Index(fields=["status", "-created_at"], name="lead_status_recent"),
            models.Index(fields=["owner", "status"], name="lead_owner_status"),
            models.Index(fields=["created_at"], name="lead_created"),
            models.Index(fields=["utm_source", "utm_medium"], name="lead_utm_source"),
            models.Index(OpClass(Lower("name"), name="text_pattern_ops"), name="lead_name_prefix"),
            GinIndex(OpClass(Lower("name"), name="gin_trgm_ops"), name="lead_name_trgm"),
            models.Index(Lower("email"), name="lead_email"),
            models.Index(fields=["phone"], name="lead_phone"),
            GinIndex(fields=["custom_fields"], name="lead_custom_fields", gin_pending_list_limit=GIN_PENDING_LIST_KB),
        ]

    def __str__(self) -> str:
        return self.name

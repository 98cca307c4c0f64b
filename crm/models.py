"""Workspace-wide CRM settings, tags and exchange rates (app label `crm`).

The records themselves live in the sub-apps: crm.clients, crm.leads, crm.deals,
crm.activities, crm.catalog, crm.notifications.
"""

from __future__ import annotations

from decimal import Decimal

from django.core.validators import MinValueValidator
from django.db import models
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _

from crm.records import Timestamped


class WorkspaceSettings(Timestamped):
    """One row per tenant schema (pk=1): how this company works."""

    base_currency = models.CharField(_("base currency"), max_length=3, default="USD")
    default_phone_region = models.CharField(
        _("default phone region"),
        max_length=2,
        default="US",
        help_text=_("Country whose local phone formats are understood, e.g. RU, ES, AE."),
    )
    time_zone = models.CharField(_("time zone"), max_length=64, default="UTC")
    lead_followup_minutes = models.PositiveIntegerField(
        _("call a new lead within (minutes)"), default=60, validators=[MinValueValidator(1)]
    )
    reminder_interval_minutes = models.PositiveIntegerField(
        _("remind about overdue tasks every (minutes)"), default=60, validators=[MinValueValidator(5)]
    )
    stale_deal_days = models.PositiveIntegerField(_("a deal needs attention after (days without activity)"), default=14)

    class Meta:
        verbose_name = _("workspace settings")
        verbose_name_plural = _("workspace settings")
        constraints = [models.CheckConstraint(condition=models.Q(pk=1), name="workspace_settings_singleton")]

    def __str__(self) -> str:
        return str(_("Workspace settings"))


class Tag(Timestamped):
    name = models.CharField(_("name"), max_length=50)
    color = models.CharField(_("colour"), max_length=7, default="#64748b")

    class Meta:
        ordering = ["name"]
        verbose_name = _("tag")
        verbose_name_plural = _("tags")
        constraints = [models.UniqueConstraint(Lower("name"), name="tag_name_ci_unique")]

    def __str__(self) -> str:
        return self.name


class ExchangeRate(Timestamped):
    """How many base-currency units one unit of `currency` is worth, from `valid_from` on."""

    currency = models.CharField(_("currency"), max_length=3)
    rate = models.DecimalField(
        _("rate to base currency"), max_digits=18, decimal_places=8, validators=[MinValueValidator(Decimal("0"))]
    )
    valid_from = models.DateField(_("valid from"))

    class Meta:
        ordering = ["currency", "-valid_from"]
        verbose_name = _("exchange rate")
        verbose_name_plural = _("exchange rates")
        constraints = [models.UniqueConstraint(fields=["currency", "valid_from"], name="exchange_rate_unique_per_day")]

    def __str__(self) -> str:
        return f"{self.currency} {self.rate} ({self.valid_from})"


class RecordShare(Timestamped):
    """A record explicitly shared with one person (the freelancer's only way in).

    `record_type` is the model name (lead, contact, company, deal, task, quote); ids are
    per type, so no generic foreign key is needed and no key crosses schemas.
    """

    record_type = models.CharField(_("record type"), max_length=20)
    record_id = models.BigIntegerField(_("record"))
    user = models.ForeignKey(
        "accounts.User", verbose_name=_("shared with"), on_delete=models.CASCADE, related_name="record_shares"
    )
    can_edit = models.BooleanField(_("may edit"), default=False)
    shared_by = models.ForeignKey(
        "accounts.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+", editable=False
    )

    class Meta:
        ordering = ["record_type", "record_id", "user"]
        verbose_name = _("shared record")
        verbose_name_plural = _("shared records")
        constraints = [models.UniqueConstraint(fields=["record_type", "record_id", "user"], name="record_share_unique")]
        indexes = [models.Index(fields=["user", "record_type"], name="record_share_user")]

    def __str__(self) -> str:
        return f"{self.record_type}:{self.record_id} → {self.user_id}"

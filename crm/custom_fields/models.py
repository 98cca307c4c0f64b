"""Fields a workspace adds to its records without a programmer (decision 0019).

A definition says what a field is (kind, label in each language, choices, required);
the values live on the records themselves, in their `custom_fields` JSONB column keyed
by the definition's `key`, so a list of a million contacts reads one row per contact
and a filter on a field is an indexed containment test (`custom_fields @> {...}`).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from crm.records import Timestamped


class Entity(models.TextChoices):
    """The record types that carry custom fields (their crm.access record type)."""

    CONTACT = "contact", _("Contacts")
    COMPANY = "company", _("Companies")
    LEAD = "lead", _("Leads")
    DEAL = "deal", _("Deals")


class FieldKind(models.TextChoices):
    TEXT = "text", _("Text")
    LONG_TEXT = "long_text", _("Long text")
    NUMBER = "number", _("Number")
    MONEY = "money", _("Money")
    DATE = "date", _("Date")
    BOOLEAN = "boolean", _("Yes/no")
    CHOICE = "choice", _("Choice")
    MULTI_CHOICE = "multi_choice", _("Multiple choice")
    LINK = "link", _("Link")
    EMAIL = "email", _("Email")
    PHONE = "phone", _("Phone")


# Kinds whose values order and compare as ranges (number and money as JSON numbers,
# dates as ISO text): these can be sorted by and filtered from/to.
RANGE_KINDS = frozenset({FieldKind.NUMBER, FieldKind.MONEY, FieldKind.DATE})
CHOICE_KINDS = frozenset({FieldKind.CHOICE, FieldKind.MULTI_CHOICE})
# Kinds whose values are text a quick search can match.
SEARCHABLE_KINDS = frozenset({FieldKind.TEXT, FieldKind.LONG_TEXT, FieldKind.LINK, FieldKind.EMAIL, FieldKind.PHONE})


class LiveFieldManager(models.Manager):
    def get_queryset(self) -> models.QuerySet:
        return super().get_queryset().filter(removed_at__isnull=True)


class CustomField(Timestamped):
    """One field a tenant administrator added to one record type."""

    entity = models.CharField(_("record type"), max_length=10, choices=Entity.choices)
    # The stable name in `custom_fields`, the API and imports; never changes once made.
    key = models.CharField(_("key"), max_length=40)
    label = models.CharField(_("label"), max_length=100)
    # The label in other languages: {"ru": "...", "es": "...", "ar": "..."}.
    label_translations = models.JSONField(_("label in other languages"), default=dict, blank=True)
    kind = models.CharField(_("kind"), max_length=12, choices=FieldKind.choices)
    required = models.BooleanField(_("required"), default=False)
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    help_text = models.CharField(_("help text"), max_length=255, blank=True)
    # For choice kinds: [{"value": "gold", "label": "Gold", "labels": {"ru": "Золото"}}, ...].
    choices = models.JSONField(_("choices"), default=list, blank=True)
    # For money: the currency every value of this field is in.
    currency = models.CharField(_("currency"), max_length=3, blank=True)
    searchable = models.BooleanField(_("found by quick search"), default=False)
    filterable = models.BooleanField(_("filter and sort lists by it"), default=False)
    # Removal hides the field and keeps its values on the records for 30 days.
    removed_at = models.DateTimeField(_("removed"), null=True, blank=True, editable=False)
    removed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", editable=False
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", editable=False
    )

    objects = LiveFieldManager()
    all_objects = models.Manager()

    class Meta:
        ordering = ["entity", "position", "id"]
        base_manager_name = "all_objects"
        verbose_name = _("custom field")
        verbose_name_plural = _("custom fields")
        constraints = [
            # Keys stay taken while a removed field can still be restored.
            models.UniqueConstraint(fields=["entity", "key"], name="custom_field_key_unique"),
        ]

    def __str__(self) -> str:
        return self.label_in()

    def label_in(self, language: str | None = None) -> str:
        """The label in `language` (default: the active one), else the main label."""
        language = (language or get_language() or "")[:2]
        return (self.label_translations or {}).get(language) or self.label

    def choice_label(self, value: str, language: str | None = None) -> str:
        language = (language or get_language() or "")[:2]
        for choice in self.choices or []:
            if choice.get("value") == value:
                return (choice.get("labels") or {}).get(language) or choice.get("label") or value
        return value

    @property
    def is_removed(self) -> bool:
        return self.removed_at is not None

    @property
    def path(self) -> str:
        """How errors and history name this field: `custom_fields.<key>`."""
        return f"custom_fields.{self.key}"

from __future__ import annotations

from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex, OpClass
from django.db import models
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _

from crm.records import GIN_PENDING_LIST_KB, ClientRecord, WithCustomFields


class PostalAddress(models.Model):
    address = models.CharField(_("street address"), max_length=255, blank=True)
    city = models.CharField(_("city"), max_length=100, blank=True)
    region = models.CharField(_("region"), max_length=100, blank=True)
    postal_code = models.CharField(_("postal code"), max_length=20, blank=True)
    country = models.CharField(_("country"), max_length=2, blank=True, help_text=_("ISO 3166 code, e.g. RU"))

    class Meta:
        abstract = True


class Company(ClientRecord, PostalAddress, WithCustomFields):
    """An account: the organisation we sell to."""

    name = models.CharField(_("name"), max_length=200)
    website = models.URLField(_("website"), max_length=500, blank=True)
    industry = models.CharField(_("industry"), max_length=100, blank=True)
    # Emails are stored lowercased, phones in E.164 (crm.phones): exact lookups use GIN.
    emails = ArrayField(models.CharField(max_length=254), verbose_name=_("emails"), default=list, blank=True)
    phones = ArrayField(models.CharField(max_length=20), verbose_name=_("phones"), default=list, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    tags = models.ManyToManyField("crm.Tag", verbose_name=_("tags"), blank=True, related_name="companies")

    class Meta(ClientRecord.Meta):
        ordering = ["name", "id"]
        verbose_name = _("company")
        verbose_name_plural = _("companies")
        indexes = [
            # The trash page: this kind's trashed rows, most recently trashed first (a small index).
            models.Index(
                fields=["deleted_at", "id"], condition=models.Q(deleted_at__isnull=False), name="company_trash"
            ),
            models.Index(OpClass(Lower("name"), name="text_pattern_ops"), name="company_name_prefix"),
            GinIndex(
                OpClass(Lower("name"), name="gin_trgm_ops"),
                name="company_name_trgm",
                gin_pending_list_limit=GIN_PENDING_LIST_KB,
            ),
            GinIndex(fields=["emails"], name="company_emails", gin_pending_list_limit=GIN_PENDING_LIST_KB),
            GinIndex(fields=["phones"], name="company_phones", gin_pending_list_limit=GIN_PENDING_LIST_KB),
            GinIndex(
                fields=["custom_fields"], name="company_custom_fields", gin_pending_list_limit=GIN_PENDING_LIST_KB
            ),
            models.Index(fields=["owner", "-updated_at"], name="company_owner_recent"),
            # The list page's orderings (a page of 25 must not sort every live row).
            models.Index(fields=["name", "id"], condition=models.Q(deleted_at__isnull=True), name="company_name_order"),
            models.Index(
                fields=["created_at", "id"], condition=models.Q(deleted_at__isnull=True), name="company_created_order"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Contact(ClientRecord, PostalAddress, WithCustomFields):
    """A person, usually at a company; the heart of the client base."""

    first_name = models.CharField(_("first name"), max_length=100, blank=True)
    last_name = models.CharField(_("last name"), max_length=100, blank=True)
    # "First Last", kept by the services for display, sorting and search.
    full_name = models.CharField(_("name"), max_length=201, editable=False)
    company = models.ForeignKey(
        Company, verbose_name=_("company"), on_delete=models.SET_NULL, null=True, blank=True, related_name="contacts"
    )
    job_title = models.CharField(_("job title"), max_length=150, blank=True)
    emails = ArrayField(models.CharField(max_length=254), verbose_name=_("emails"), default=list, blank=True)
    phones = ArrayField(models.CharField(max_length=20), verbose_name=_("phones"), default=list, blank=True)
    birthday = models.DateField(_("birthday"), null=True, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    tags = models.ManyToManyField("crm.Tag", verbose_name=_("tags"), blank=True, related_name="contacts")

    class Meta(ClientRecord.Meta):
        ordering = ["full_name", "id"]
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        indexes = [
            # The trash page: this kind's trashed rows, most recently trashed first (a small index).
            models.Index(
                fields=["deleted_at", "id"], condition=models.Q(deleted_at__isnull=False), name="contact_trash"
            ),
            models.Index(OpClass(Lower("full_name"), name="text_pattern_ops"), name="contact_name_prefix"),
            models.Index(OpClass(Lower("last_name"), name="text_pattern_ops"), name="contact_last_name_prefix"),
            GinIndex(
                OpClass(Lower("full_name"), name="gin_trgm_ops"),
                name="contact_name_trgm",
                gin_pending_list_limit=GIN_PENDING_LIST_KB,
            ),
            GinIndex(fields=["emails"], name="contact_emails", gin_pending_list_limit=GIN_PENDING_LIST_KB),
            GinIndex(fields=["phones"], name="contact_phones", gin_pending_list_limit=GIN_PENDING_LIST_KB),
            GinIndex(
                fields=["custom_fields"], name="contact_custom_fields", gin_pending_list_limit=GIN_PENDING_LIST_KB
            ),
            models.Index(fields=["company"], name="contact_company"),
            models.Index(fields=["owner", "-updated_at"], name="contact_owner_recent"),
            # The list page's orderings (a page of 25 must not sort a million rows).
            models.Index(
                fields=["full_name", "id"], condition=models.Q(deleted_at__isnull=True), name="contact_name_order"
            ),
            models.Index(
                fields=["created_at", "id"], condition=models.Q(deleted_at__isnull=True), name="contact_created_order"
            ),
            models.Index(
                fields=["updated_at", "id"], condition=models.Q(deleted_at__isnull=True), name="contact_updated_order"
            ),
        ]

    def __str__(self) -> str:
        return self.full_name

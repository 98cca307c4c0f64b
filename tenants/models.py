from __future__ import annotations

from decimal import Decimal

from django.db import models
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _
from django_tenants.models import DomainMixin, TenantMixin


class TimeStamped(models.Model):
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        abstract = True


class BackupFrequency(models.TextChoices):
    DAILY = "daily", _("Daily")
    WEEKLY = "weekly", _("Weekly")


class Plan(TimeStamped):
    """What a tenant buys: seats, limits and features. Lives in the public schema."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=80)
    description = models.CharField(_("description"), max_length=255, blank=True)
    named_seats = models.PositiveIntegerField(_("named seats"))
    concurrent_seats = models.PositiveIntegerField(_("concurrent seats"))
    max_contacts = models.PositiveIntegerField(_("contacts"), null=True, blank=True, help_text=_("Empty: unlimited."))
    max_storage_mb = models.PositiveIntegerField(_("storage (MB)"))
    api_requests_per_minute = models.PositiveIntegerField(_("API requests per minute"))
    max_lead_forms = models.PositiveIntegerField(_("lead forms"), null=True, blank=True)
    max_pipelines = models.PositiveIntegerField(_("pipelines"), null=True, blank=True)
    max_integration_tokens = models.PositiveIntegerField(_("integration tokens"), default=0)
    backup_frequency = models.CharField(
        _("backup frequency"), max_length=10, choices=BackupFrequency.choices, default=BackupFrequency.DAILY
    )
    backup_retention_days = models.PositiveIntegerField(_("backup retention (days)"))
    manual_backups_per_day = models.PositiveIntegerField(_("on-demand backups per day"), default=1)
    price_per_seat = models.DecimalField(_("price per seat and month"), max_digits=10, decimal_places=2)
    currency = models.CharField(_("currency"), max_length=3, default="USD")
    trial_days = models.PositiveIntegerField(_("trial days"), default=14)
    grace_days = models.PositiveIntegerField(_("grace period (days)"), default=7)
    # Dunning after the grace period: read-only for this long, then suspended; a suspended
    # workspace's data is kept for `retention_days` (with warnings) before it may be deleted.
    suspend_after_days = models.PositiveIntegerField(_("read-only days before suspension"), default=30)
    retention_days = models.PositiveIntegerField(_("days data is kept once suspended"), default=90)
    features = models.JSONField(_("features"), default=list, blank=True)
    is_public = models.BooleanField(_("offered on the pricing page"), default=True)
    sort_order = models.PositiveSmallIntegerField(_("position on the pricing page"), default=0)

    class Meta:
        ordering = ["sort_order", "code"]
        verbose_name = _("plan")
        verbose_name_plural = _("plans")

    def __str__(self) -> str:
        return self.name

    @property
    def is_free(self) -> bool:
        return self.price_per_seat == Decimal("0")


class TenantStatus(models.TextChoices):
    TRIALING = "trialing", _("Trial")
    ACTIVE = "active", _("Active")
    PAST_DUE = "past_due", _("Payment overdue")
    READ_ONLY = "read_only", _("Read-only")
    SUSPENDED = "suspended", _("Suspended")


class Tenant(TenantMixin, TimeStamped):
    """A client company: one PostgreSQL schema, one subdomain, one plan."""

    # Provisioning creates the schema itself (by replaying the template's DDL), so the
    # model must never run migrations on save().
    auto_create_schema = False
    auto_drop_schema = False

    slug = models.SlugField(_("address"), max_length=40, unique=True)
    name = models.CharField(_("company name"), max_length=120)
    # Only the public schema's own row has no plan.
    plan = models.ForeignKey(
        Plan, verbose_name=_("plan"), on_delete=models.PROTECT, related_name="tenants", null=True, blank=True
    )
    status = models.CharField(_("status"), max_length=12, choices=TenantStatus.choices, default=TenantStatus.TRIALING)
    trial_ends_at = models.DateTimeField(_("trial ends"), null=True, blank=True)
    extra_named_seats = models.PositiveIntegerField(_("extra named seats"), default=0)
    extra_concurrent_seats = models.PositiveIntegerField(_("extra concurrent seats"), default=0)
    # Named seats on the Stripe subscription, as Stripe last confirmed them (billing writes
    # it from webhooks only). Empty until a subscription exists: the plan's seats apply.
    paid_seats = models.PositiveIntegerField(_("paid named seats"), null=True, blank=True)
    status_changed_at = models.DateTimeField(_("status changed"), null=True, blank=True)
    # Start of the dunning clock (first unpaid moment); grace, read-only and suspension
    # periods count from here. Empty while nothing is owed.
    dunning_started_at = models.DateTimeField(_("payment overdue since"), null=True, blank=True)
    retention_warning_sent_at = models.DateTimeField(_("data deletion warning sent"), null=True, blank=True)
    language = models.CharField(_("default language"), max_length=8, default="en")
    # The workspace's time zone (Settings → Workspace), mirrored here from the tenant's
    # own settings so every request can read it with the host lookup, at no extra query.
    time_zone = models.CharField(_("time zone"), max_length=64, default="UTC")
    owner_email = models.EmailField(_("owner email"))
    # Fingerprint of the tenant migrations the schema is at (see schema_template), so a
    # deploy migrates only the schemas that are behind instead of walking every tenant.
    schema_fingerprint = models.CharField(max_length=64, blank=True, editable=False)
    # Usage figures refreshed by a periodic task, for plan limits and the platform admin.
    usage_active_users = models.PositiveIntegerField(_("active users"), default=0)
    usage_storage_bytes = models.PositiveBigIntegerField(_("file storage used (bytes)"), default=0)
    usage_refreshed_at = models.DateTimeField(_("usage refreshed"), null=True, blank=True)

    class Meta:
        ordering = ["slug"]
        verbose_name = _("workspace")
        verbose_name_plural = _("workspaces")
        constraints = [
            models.UniqueConstraint(Lower("slug"), name="tenant_slug_ci_unique"),
            models.CheckConstraint(
                condition=models.Q(plan__isnull=False) | models.Q(schema_name="public"), name="tenant_has_plan"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.slug})"

    @property
    def is_public(self) -> bool:
        return self.schema_name == "public"

    @property
    def named_seats(self) -> int:
        """Paid seats once subscribed (else the plan's trial seats), plus seats staff granted."""
        if self.paid_seats is not None:
            return self.paid_seats + self.extra_named_seats
        return (self.plan.named_seats if self.plan else 0) + self.extra_named_seats

    @property
    def concurrent_seats(self) -> int:
        return (self.plan.concurrent_seats if self.plan else 0) + self.extra_concurrent_seats


class Domain(DomainMixin, TimeStamped):
    class Meta:
        ordering = ["domain"]
        verbose_name = _("domain")
        verbose_name_plural = _("domains")

    def __str__(self) -> str:
        return self.domain


class SchemaTemplate(TimeStamped):
    """The captured DDL of the migrated template schema, replayed for each signup.

    Keyed by a fingerprint of the tenant apps' migration graph: provisioning refuses a
    template captured for other migrations (see tenants/schema_template.py).
    """

    fingerprint = models.CharField(max_length=64, unique=True)
    source_schema = models.CharField(max_length=63)
    sql = models.TextField()
    statement_count = models.PositiveIntegerField()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"template {self.fingerprint[:12]} ({self.statement_count} statements)"


class RunningJob(TimeStamped):
    """A workspace's background job in flight (an import being run or undone), noted in
    the public schema so a recovery sweep visits only the workspaces that have one
    instead of every schema (tenants.running_jobs)."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=20)
    job_id = models.BigIntegerField()

    class Meta:
        ordering = ["kind", "tenant", "job_id"]
        constraints = [models.UniqueConstraint(fields=["tenant", "kind", "job_id"], name="running_job_unique")]
        indexes = [models.Index(fields=["kind", "tenant"], name="running_job_kind")]

    def __str__(self) -> str:
        return f"{self.kind} {self.job_id} ({self.tenant_id})"

"""The backups catalogue, restore/export jobs and maintenance state (public schema).

Nothing here lives in a tenant schema: restoring a schema must not erase the record of
the backup it came from, nor the job that is restoring it. People are referred to by
their id and email inside their tenant (users live in tenant schemas; no FK crosses).
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from tenants.models import Tenant, TimeStamped


class BackupKind(models.TextChoices):
    SCHEDULED = "scheduled", _("Scheduled")
    MANUAL = "manual", _("Manual")
    SAFETY = "safety", _("Safety (before a restore)")


class BackupStatus(models.TextChoices):
    QUEUED = "queued", _("Waiting")
    RUNNING = "running", _("In progress")
    READY = "ready", _("Ready")
    FAILED = "failed", _("Failed")


class Backup(TimeStamped):
    """One archive of one tenant: its schema's data and DDL, its files and a manifest."""

    tenant = models.ForeignKey(Tenant, verbose_name=_("workspace"), on_delete=models.CASCADE, related_name="backups")
    kind = models.CharField(_("kind"), max_length=10, choices=BackupKind.choices)
    status = models.CharField(_("status"), max_length=10, choices=BackupStatus.choices, default=BackupStatus.QUEUED)
    stage = models.CharField(_("stage"), max_length=32, blank=True)
    percent = models.PositiveSmallIntegerField(_("progress"), default=0)
    error = models.TextField(_("error"), blank=True)
    storage_name = models.CharField(max_length=255, blank=True)
    size_bytes = models.PositiveBigIntegerField(_("size"), default=0)
    sha256 = models.CharField(max_length=64, blank=True, help_text="Of the stored (possibly encrypted) archive.")
    encrypted = models.BooleanField(_("encrypted"), default=False)
    key_id = models.CharField(max_length=16, blank=True, help_text="Which encryption key (first hex of its hash).")
    manifest = models.JSONField(default=dict, blank=True)
    migration_fingerprint = models.CharField(max_length=64, blank=True)
    requested_by_id = models.BigIntegerField(null=True, blank=True)
    requested_by_email = models.EmailField(blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("backup")
        verbose_name_plural = _("backups")
        indexes = [models.Index(fields=["tenant", "-created_at"], name="backup_tenant_recent")]

    def __str__(self) -> str:
        return f"{self.tenant_id}:{self.kind}:{self.pk}"

    @property
    def is_ready(self) -> bool:
        return self.status == BackupStatus.READY


class JobKind(models.TextChoices):
    RESTORE = "restore", _("Restore")
    SANDBOX = "sandbox", _("Restore as a sandbox")
    EXPORT = "export", _("Data export")


class JobStatus(models.TextChoices):
    QUEUED = "queued", _("Waiting")
    RUNNING = "running", _("In progress")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


ACTIVE_JOB_STATUSES = [JobStatus.QUEUED, JobStatus.RUNNING]


class Job(TimeStamped):
    """A restore, a restore into a sandbox, or a data export: percent, stage and outcome."""

    tenant = models.ForeignKey(Tenant, verbose_name=_("workspace"), on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(_("kind"), max_length=10, choices=JobKind.choices)
    status = models.CharField(_("status"), max_length=10, choices=JobStatus.choices, default=JobStatus.QUEUED)
    stage = models.CharField(_("stage"), max_length=32, blank=True)
    percent = models.PositiveSmallIntegerField(_("progress"), default=0)
    error = models.TextField(_("error"), blank=True)
    error_code = models.CharField(max_length=40, blank=True)
    backup = models.ForeignKey(Backup, on_delete=models.SET_NULL, null=True, blank=True, related_name="jobs")
    safety_backup = models.ForeignKey(Backup, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    sandbox_tenant = models.ForeignKey(Tenant, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    # A restore's scratch schema, dropped on failure; an export's zip in backup storage.
    work_schema = models.CharField(max_length=63, blank=True)
    output_name = models.CharField(max_length=255, blank=True)
    output_bytes = models.PositiveBigIntegerField(default=0)
    requested_by_id = models.BigIntegerField(null=True, blank=True)
    requested_by_email = models.EmailField(blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("backup job")
        verbose_name_plural = _("backup jobs")
        constraints = [
            # One restore at a time per workspace.
            models.UniqueConstraint(
                fields=["tenant"],
                condition=models.Q(kind="restore", status__in=["queued", "running"]),
                name="backup_one_active_restore",
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.pk} ({self.status})"

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_JOB_STATUSES


class Maintenance(TimeStamped):
    """While a row exists, the tenant's host answers 503 (a page, or JSON on /api/)."""

    # Read with the tenant by the host lookup (tenants.middleware), so no request pays a query.
    tenant = models.OneToOneField(Tenant, on_delete=models.CASCADE, related_name="maintenance")
    job = models.ForeignKey(Job, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    retry_after_seconds = models.PositiveIntegerField(default=120)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"maintenance of {self.tenant_id}"


class RetiredSchema(TimeStamped):
    """A tenant's schema as it was before a restore, kept for a while, then dropped."""

    tenant = models.ForeignKey(Tenant, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    schema_name = models.CharField(max_length=63, unique=True)
    job = models.ForeignKey(Job, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    drop_after = models.DateTimeField()
    dropped_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["drop_after"]

    def __str__(self) -> str:
        return self.schema_name

"""Reading the backups catalogue. Every read for a tenant host is scoped to that tenant:
another workspace's backup or job looks exactly like a missing one."""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tenants.backups.errors import BackupNotFound
from tenants.backups.models import Backup, BackupKind, BackupStatus, Job, Maintenance
from tenants.models import BackupFrequency, Tenant

# A scheduled backup is due a little before its interval is over, so hourly beats don't drift.
SCHEDULE_SLACK = timedelta(hours=1)
FREQUENCY = {BackupFrequency.DAILY: timedelta(days=1), BackupFrequency.WEEKLY: timedelta(days=7)}

STAGES = {
    "verifying": _("checking the archive"),
    "creating_sandbox": _("creating the sandbox workspace"),
    "safety_backup": _("safety backup of the current data"),
    "restoring": _("loading the backup"),
    "migrating": _("updating to the current version"),
    "signing_out": _("signing everyone out"),
    "files": _("copying files"),
    "swapping": _("switching to the restored data"),
    "dumping": _("copying the data"),
    "storing": _("storing the archive"),
    "exporting": _("exporting"),
    "done": _("done"),
}


def backup_list(*, tenant: Tenant) -> QuerySet[Backup]:
    return Backup.objects.filter(tenant=tenant).order_by("-created_at", "-id")


def backup_get(*, tenant: Tenant, backup_id: int) -> Backup:
    backup = Backup.objects.filter(tenant=tenant, pk=backup_id).select_related("tenant").first()
    if backup is None:
        raise BackupNotFound(_("This backup does not exist."))
    return backup


def job_list(*, tenant: Tenant, limit: int = 20) -> list[Job]:
    return list(
        Job.objects.filter(tenant=tenant).select_related("backup", "sandbox_tenant").order_by("-created_at")[:limit]
    )


def job_get(*, tenant: Tenant, job_id: int) -> Job:
    job = Job.objects.filter(tenant=tenant, pk=job_id).select_related("backup", "sandbox_tenant").first()
    if job is None:
        raise BackupNotFound(_("This job does not exist."))
    return job


def job_latest_for_backup(*, backup: Backup) -> Job | None:
    return Job.objects.filter(backup=backup).order_by("-created_at").first()


def maintenance_for(*, tenant: Tenant) -> Maintenance | None:
    """The restore holding `tenant` in maintenance, if any; free when the host lookup
    already brought it along (tenants.middleware), one query otherwise."""
    try:
        return tenant.maintenance
    except Maintenance.DoesNotExist:
        return None


def tenants_due_for_backup(*, now=None) -> QuerySet[Tenant]:
    """Tenants whose last scheduled backup (waiting, running or ready) is older than their
    plan's frequency, minus an hour of slack; oldest-due first."""
    now = now or timezone.now()
    due = Tenant.objects.none()
    for frequency, interval in FREQUENCY.items():
        recent = Backup.objects.filter(
            tenant=OuterRef("pk"),
            kind=BackupKind.SCHEDULED,
            status__in=[BackupStatus.QUEUED, BackupStatus.RUNNING, BackupStatus.READY],
            created_at__gt=now - interval + SCHEDULE_SLACK,
        )
        due = due | Tenant.objects.filter(plan__backup_frequency=frequency).exclude(schema_name="public").filter(
            ~Exists(recent)
        )
    return due.order_by("pk")


def stage_text(stage: str) -> str:
    return str(STAGES.get(stage, stage))

"""Backups, restores, sandboxes and retention: the writes (decision record 8).

Backups and restores name schemas and switch between them by hand, which elsewhere is
forbidden. The long-running functions (`*_run`) are called by Celery tasks; they are not
wrapped in one transaction on purpose: their progress must be visible while they work,
and each dangerous step has its own transaction (the load, the swap).
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import shutil
import tempfile
import threading
import tomllib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from functools import cache, partial
from pathlib import Path

from django.conf import settings
from django.contrib.sessions.models import Session
from django.core.mail import send_mail
from django.core.management import call_command
from django.db import IntegrityError, connection, connections, transaction
from django.db.migrations.loader import MigrationLoader
from django.db.models import Model
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django_tenants.utils import schema_context

from accounts import roles
from accounts.audit import audit_record
from accounts.models import User
from accounts.policy import require_capability
from accounts.seats import seat_leases_release_everyone
from tenants import schema_template
from tenants.backups import archive, schema_dump
from tenants.backups.errors import BackupBusy, BackupCorrupt, BackupError, BackupLimitReached, BackupNotReady
from tenants.backups.models import (
    Backup,
    BackupKind,
    BackupStatus,
    Job,
    JobKind,
    JobStatus,
    Maintenance,
    RetiredSchema,
)
from tenants.backups.selectors import stage_text, tenants_due_for_backup
from tenants.errors import SignupRejected
from tenants.models import Plan, Tenant
from tenants.services import SignupRequest, tenant_delete, tenant_login_url, tenant_signup

logger = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 10


# --- helpers ------------------------------------------------------------------------------


@cache
def app_version() -> str:
    try:
        with open(Path(settings.BASE_DIR) / "pyproject.toml", "rb") as handle:
            return str(tomllib.load(handle)["project"]["version"])
    except (OSError, KeyError, ValueError):
        return "unknown"


def media_folder(schema_name: str) -> Path:
    return Path(settings.MEDIA_ROOT) / (settings.MULTITENANT_RELATIVE_MEDIA_ROOT % schema_name)


def _work_folder(prefix: str) -> Path:
    root = Path(settings.BACKUP_WORK_DIR)
    root.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=prefix, dir=root))


def _stamp(model: type[Model], pk: int, **fields) -> None:
    model.objects.filter(pk=pk).update(**fields, heartbeat_at=timezone.now(), updated_at=timezone.now())


def _progress_reporter(model: type[Model], pk: int, stage: str, start: int, end: int) -> Callable[[float], None]:
    """Percent within [start, end] for a fraction of one stage; writes only when it changes."""
    last = {"percent": -1}

    def report(fraction: float) -> None:
        percent = int(start + (end - start) * max(0.0, min(fraction, 1.0)))
        if percent != last["percent"]:
            last["percent"] = percent
            _stamp(model, pk, stage=stage, percent=percent)

    return report


@contextmanager
def _heartbeat(model: type[Model], pk: int) -> Iterator[None]:
    """Keep `heartbeat_at` fresh while a long step (a big COPY, index builds) runs, so a
    job whose worker died can be told from one that is only slow."""
    stop = threading.Event()

    def beat() -> None:
        try:
            while not stop.wait(HEARTBEAT_SECONDS):
                model.objects.filter(pk=pk).update(heartbeat_at=timezone.now())
        finally:
            connections.close_all()

    thread = threading.Thread(target=beat, name=f"heartbeat-{model.__name__}-{pk}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def _drop_schema(name: str) -> None:
    if not name:
        return
    schema_dump.check_schema_name(name)
    connection.set_schema_to_public()
    with connection.cursor() as cursor:
        cursor.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')


def _audit(*, tenant: Tenant, actor: User | None, action: str, target: Model, changes: dict) -> None:
    """The tenant's own audit log (it lives in the tenant's schema, whoever calls)."""
    with schema_context(tenant.schema_name):
        audit_record(actor=actor, action=action, target=target, changes=changes)


def _describe(error: BaseException) -> str:
    if isinstance(error, BackupError):
        return error.message
    return f"{type(error).__name__}: {error}"[:2000]


# --- backups --------------------------------------------------------------------------------


def backup_request(*, actor: User | None, tenant: Tenant, kind: str = BackupKind.MANUAL) -> Backup:
    """Queue a backup of `tenant` for the worker; returns the catalogue row (status queued).

    Manual backups are limited by the plan (`manual_backups_per_day`, counted over the
    last 24 hours, failed ones excluded): BackupLimitReached beyond it. Two requests at
    the same moment serialise on the tenant's row, so the limit holds under races.
    """
    require_capability(actor, roles.BACKUPS)
    with transaction.atomic():
        tenant = Tenant.objects.select_for_update(of=("self",)).select_related("plan").get(pk=tenant.pk)
        if kind == BackupKind.MANUAL and tenant.plan is not None:
            used = manual_backups_used(tenant=tenant)
            if used >= tenant.plan.manual_backups_per_day:
                raise BackupLimitReached(
                    _("Your plan allows %(count)s on-demand backups a day; try again tomorrow.")
                    % {"count": tenant.plan.manual_backups_per_day}
                )
        backup = Backup.objects.create(
            tenant=tenant,
            kind=kind,
            requested_by_id=actor.pk if actor else None,
            requested_by_email=actor.email if actor else "",
        )
        transaction.on_commit(lambda: queue_backup(backup_id=backup.pk), robust=True)
    return backup


def manual_backups_used(*, tenant: Tenant) -> int:
    since = timezone.now() - timedelta(days=1)
    return (
        Backup.objects.filter(tenant=tenant, kind=BackupKind.MANUAL, created_at__gte=since)
        .exclude(status=BackupStatus.FAILED)
        .count()
    )


def queue_backup(*, backup_id: int, countdown: float = 0) -> None:
    from tenants.backups.tasks import backup_run_task

    backup_run_task.apply_async(kwargs={"backup_id": backup_id}, countdown=countdown)


def backup_take(*, tenant: Tenant, kind: str, actor_email: str = "") -> Backup:
    """Back up `tenant` now, in this process (safety backups, management commands)."""
    backup = Backup.objects.create(tenant=tenant, kind=kind, requested_by_email=actor_email)
    return backup_run(backup_id=backup.pk)


def backup_run(*, backup_id: int) -> Backup:
    """Dump the tenant's schema and files into one archive and store it.

    Idempotent per row: a backup that is not waiting any more is left alone. On any error
    the row is marked failed with the reason and nothing is stored.
    """
    connection.set_schema_to_public()
    claimed = Backup.objects.filter(pk=backup_id, status=BackupStatus.QUEUED).update(
        status=BackupStatus.RUNNING, started_at=timezone.now(), heartbeat_at=timezone.now(), stage="dumping"
    )
    backup = Backup.objects.select_related("tenant").get(pk=backup_id)
    if not claimed:
        return backup
    tenant = backup.tenant
    work = _work_folder(f"backup-{backup.pk}-")
    parts = work / "parts"
    try:
        with _heartbeat(Backup, backup.pk):
            dumped = schema_dump.dump(
                schema=tenant.schema_name,
                folder=parts,
                progress=_progress_reporter(Backup, backup.pk, "dumping", 0, 85),
            )
            _stamp(Backup, backup.pk, stage="files", percent=86)
            files = archive.pack_files(media_folder(tenant.schema_name), parts / archive.FILES_PART)
            manifest = _manifest(backup=backup, tenant=tenant, dumped=dumped, files=files, parts=parts)
            _stamp(Backup, backup.pk, stage="storing", percent=90)
            packed = work / "archive.crmbackup"
            encrypted, key_id = archive.pack(folder=parts, manifest=manifest, target=packed)
            sha256 = archive.file_sha256(packed)
            size = packed.stat().st_size
            stamp = backup.created_at.strftime("%Y%m%dT%H%M%SZ")
            stored = archive.store(
                source=packed, name=f"{tenant.schema_name}/{stamp}-{backup.kind}-{backup.pk}.crmbackup"
            )
    except Exception as error:
        logger.exception("backup failed", extra={"backup": backup.pk, "workspace": tenant.slug})
        _stamp(Backup, backup.pk, status=BackupStatus.FAILED, error=_describe(error), finished_at=timezone.now())
    else:
        _stamp(
            Backup,
            backup.pk,
            status=BackupStatus.READY,
            stage="done",
            percent=100,
            storage_name=stored,
            size_bytes=size,
            sha256=sha256,
            encrypted=encrypted,
            key_id=key_id,
            manifest=manifest,
            migration_fingerprint=manifest["migrations"]["fingerprint"],
            finished_at=timezone.now(),
        )
        logger.info("backup stored", extra={"backup": backup.pk, "workspace": tenant.slug, "bytes": size})
    finally:
        archive.remove_tree(work)
    backup.refresh_from_db()
    if backup.kind == BackupKind.MANUAL and backup.requested_by_email:
        _notify(tenant=tenant, recipient=backup.requested_by_email, subject_kind="backup", ok=backup.is_ready)
    return backup


def _manifest(*, backup: Backup, tenant: Tenant, dumped: schema_dump.SchemaDump, files: dict, parts: Path) -> dict:
    part_facts = {
        archive.SCHEMA_PART: {
            "bytes": (parts / archive.SCHEMA_PART).stat().st_size,
            "sha256": archive.file_sha256(parts / archive.SCHEMA_PART),
        },
        archive.FILES_PART: {
            "bytes": (parts / archive.FILES_PART).stat().st_size,
            "sha256": archive.file_sha256(parts / archive.FILES_PART),
        },
    }
    for table in dumped.tables:
        part_facts[table.part] = {"bytes": table.bytes, "sha256": table.sha256}
    return {
        "format": 1,
        "kind": backup.kind,
        "tenant": {"id": tenant.pk, "slug": tenant.slug, "name": tenant.name},
        "schema": tenant.schema_name,
        "app_version": app_version(),
        "migrations": {"fingerprint": _fingerprint_of(dumped.migrations), "applied": dumped.migrations},
        "created_at": timezone.now().isoformat(),
        "tables": [
            {
                "name": table.name,
                "columns": table.columns,
                "rows": table.rows,
                "part": table.part,
                "bytes": table.bytes,
                "sha256": table.sha256,
            }
            for table in dumped.tables
        ],
        "sequences": dumped.sequences,
        "files": files,
        "parts": part_facts,
        "totals": {
            "rows": sum(table.rows for table in dumped.tables),
            "bytes": sum(facts["bytes"] for facts in part_facts.values()),
        },
    }


def _fingerprint_of(applied: list[list[str]]) -> str:
    return hashlib.sha256("\n".join(f"{app}.{name}" for app, name in sorted(applied)).encode()).hexdigest()


def backup_delete(*, actor: User | None, backup: Backup) -> None:
    """Remove a backup's archive and its catalogue row. Running backups can't be deleted."""
    require_capability(actor, roles.BACKUPS)
    if backup.status == BackupStatus.RUNNING:
        raise BackupNotReady(_("This backup is still being made."))
    _backup_remove(backup)
    _audit(tenant=backup.tenant, actor=actor, action="backup.delete", target=backup, changes={"kind": backup.kind})


def _backup_remove(backup: Backup) -> None:
    if backup.storage_name:
        archive.backup_storage().delete(backup.storage_name)
    Backup.objects.filter(pk=backup.pk).delete()


def backup_download_open(*, actor: User | None, backup: Backup):
    """The stored archive, opened for reading; the download is written to the audit log."""
    require_capability(actor, roles.BACKUPS)
    if not backup.is_ready:
        raise BackupNotReady(_("This backup is not ready."))
    _audit(
        tenant=backup.tenant, actor=actor, action="backup.download", target=backup, changes={"bytes": backup.size_bytes}
    )
    return archive.backup_storage().open(backup.storage_name, "rb")


def export_download_open(*, actor: User | None, job: Job):
    """A finished export's zip, opened for reading; the download is audit logged."""
    require_capability(actor, roles.BACKUPS)
    _audit(tenant=job.tenant, actor=actor, action="export.download", target=job, changes={"bytes": job.output_bytes})
    return archive.backup_storage().open(job.output_name, "rb")


# --- schedule and retention -----------------------------------------------------------------


def backups_schedule_dispatch(*, now=None) -> int:
    """Queue the scheduled backups that are due, spread over BACKUP_SPREAD_SECONDS.

    Each tenant gets a stable offset in the window (its backups happen at about the same
    time every day) and at most BACKUP_SCHEDULE_BATCH are queued per run; the rest are
    picked up by the next run. The queued row is created here, so a second beat run
    before the backup starts does not queue it twice.
    """
    now = now or timezone.now()
    queued = 0
    for tenant in tenants_due_for_backup(now=now)[: settings.BACKUP_SCHEDULE_BATCH]:
        with transaction.atomic():
            backup = Backup.objects.create(tenant=tenant, kind=BackupKind.SCHEDULED)
            transaction.on_commit(
                partial(queue_backup, backup_id=backup.pk, countdown=schedule_offset(tenant)), robust=True
            )
        queued += 1
    logger.info("scheduled backups queued", extra={"tenants": queued})
    return queued


def schedule_offset(tenant: Tenant) -> int:
    """Seconds into the spread window at which this tenant's scheduled backup starts:
    stable per tenant (about the same time every day), uniform across tenants."""
    window = max(int(settings.BACKUP_SPREAD_SECONDS), 1)
    return int(hashlib.sha256(tenant.schema_name.encode()).hexdigest(), 16) % window


def backups_prune(*, now=None) -> int:
    """Delete backups older than their plan's retention (and old exports).

    A backup is kept while it is younger than `plan.backup_retention_days` days. The newest
    ready backup of a tenant is always kept, so a tenant never ends up with none.
    """
    now = now or timezone.now()
    removed = 0
    for plan in Plan.objects.all():
        cutoff = now - timedelta(days=plan.backup_retention_days)
        expired = Backup.objects.filter(tenant__plan=plan, created_at__lt=cutoff).exclude(
            status__in=[BackupStatus.QUEUED, BackupStatus.RUNNING]
        )
        for backup in expired.select_related("tenant"):
            newest = Backup.objects.filter(tenant=backup.tenant, status=BackupStatus.READY).order_by("-created_at")
            if backup.is_ready and newest.values_list("pk", flat=True).first() == backup.pk:
                continue
            _backup_remove(backup)
            removed += 1
    export_cutoff = now - timedelta(days=settings.BACKUP_EXPORT_KEEP_DAYS)
    for job in Job.objects.filter(kind=JobKind.EXPORT, created_at__lt=export_cutoff).exclude(output_name=""):
        archive.backup_storage().delete(job.output_name)
        Job.objects.filter(pk=job.pk).update(output_name="", output_bytes=0)
    return removed


def retired_schemas_drop(*, now=None) -> int:
    """Drop schemas kept after a restore once their time is up (and their old files)."""
    now = now or timezone.now()
    dropped = 0
    for retired in RetiredSchema.objects.filter(drop_after__lte=now, dropped_at__isnull=True):
        _drop_schema(retired.schema_name)
        shutil.rmtree(_retired_media(retired.schema_name), ignore_errors=True)
        RetiredSchema.objects.filter(pk=retired.pk).update(dropped_at=now)
        dropped += 1
    return dropped


def jobs_recover_stale(*, stale_after: timedelta | None = None) -> int:
    """Fail jobs and backups whose worker died (no heartbeat for `stale_after`), undo
    their half-done work (scratch schema, sandbox) and lift the maintenance they set."""
    cutoff = _stale_cutoff(stale_after)
    recovered = 0
    for job in Job.objects.filter(status=JobStatus.RUNNING, heartbeat_at__lt=cutoff):
        _job_abandon(job, _("The job was interrupted (its worker stopped). Nothing was changed; try again."))
        recovered += 1
    for backup in Backup.objects.filter(status=BackupStatus.RUNNING, heartbeat_at__lt=cutoff):
        _stamp(
            Backup,
            backup.pk,
            status=BackupStatus.FAILED,
            error=_("The backup was interrupted (its worker stopped)."),
            finished_at=timezone.now(),
        )
        recovered += 1
    never_started = cutoff - timedelta(seconds=settings.BACKUP_SPREAD_SECONDS)
    recovered += Backup.objects.filter(status=BackupStatus.QUEUED, created_at__lt=never_started).update(
        status=BackupStatus.FAILED, error=_("The backup never started."), finished_at=timezone.now()
    )
    return recovered


def _stale_cutoff(stale_after: timedelta | None = None) -> datetime:
    """A running job or backup whose heartbeat is older than this has lost its worker."""
    stale_after = stale_after if stale_after is not None else timedelta(seconds=settings.BACKUP_STALE_SECONDS)
    return timezone.now() - stale_after


def _job_abandon(job: Job, message: str) -> None:
    if job.work_schema and job.work_schema != job.tenant.schema_name:
        _drop_schema(job.work_schema)
    if job.kind == JobKind.SANDBOX and job.sandbox_tenant_id:
        _sandbox_discard(job)
    shutil.rmtree(_staged_media(job), ignore_errors=True)
    Maintenance.objects.filter(tenant_id=job.tenant_id).delete()
    _stamp(Job, job.pk, status=JobStatus.FAILED, error=message, error_code="interrupted", finished_at=timezone.now())


# --- restore ------------------------------------------------------------------------------------


def restore_request(*, actor: User | None, backup: Backup, sandbox: bool = False, queue: bool = True) -> Job:
    """Queue a restore of `backup` over its tenant (or into a new sandbox tenant).

    Refuses a backup that is not ready, and a second restore while one is under way.
    """
    require_capability(actor, roles.BACKUPS)
    if not backup.is_ready:
        raise BackupNotReady(_("Only a finished backup can be restored."))
    try:
        with transaction.atomic():
            job = Job.objects.create(
                tenant=backup.tenant,
                kind=JobKind.SANDBOX if sandbox else JobKind.RESTORE,
                backup=backup,
                requested_by_id=actor.pk if actor else None,
                requested_by_email=actor.email if actor else "",
            )
            _audit(
                tenant=backup.tenant, actor=actor, action=f"backup.{job.kind}", target=backup, changes={"job": job.pk}
            )
    except IntegrityError as busy:
        if "backup_one_active_restore" not in str(busy):
            raise
        raise BackupBusy(_("A restore of this workspace is already under way.")) from busy
    if queue:
        transaction.on_commit(lambda: _queue_job(job), robust=True)
    return job


def _queue_job(job: Job) -> None:
    from tenants.backups.tasks import restore_run_task

    restore_run_task.apply_async(kwargs={"job_id": job.pk})


def _staged_media(job: Job) -> Path:
    return Path(settings.MEDIA_ROOT) / ".restore" / f"job-{job.pk}"


def _retired_media(schema_name: str) -> Path:
    return Path(settings.MEDIA_ROOT) / ".retired" / schema_name


def restore_run(*, job_id: int) -> Job:
    """Restore a backup over its tenant, or into a new sandbox tenant.

    Order (a failure at any step leaves the live schema and files as they were, lifts the
    maintenance and says which step failed):
    1. fetch and verify the archive (catalogue checksum, decryption, every part's
       checksum) -- nothing has changed yet when this refuses;
    2. maintenance on (the site answers 503), safety backup of the current state;
    3. load into a new scratch schema in one transaction, row counts checked;
    4. migrate it forward when it comes from older migrations;
    5. end every session and seat lease in it (everyone signs in again);
    6. swap: rename live -> retired, scratch -> live, in one transaction;
    7. swap the files folder; maintenance off; email the person who asked.
    A redelivered message finds the job running: when its heartbeat is stale (the worker
    died mid-way) it is abandoned and cleaned up, else left to the worker running it;
    never run twice.
    """
    connection.set_schema_to_public()
    job = Job.objects.select_related("tenant", "backup").get(pk=job_id)
    if job.status == JobStatus.RUNNING:
        # A second delivery while the first still beats its heart is left alone: abandoning
        # would drop the scratch schema under a restore that is still working.
        if job.heartbeat_at and job.heartbeat_at >= _stale_cutoff():
            return job
        _job_abandon(job, _("The job was interrupted (its worker stopped). Nothing was changed; try again."))
        return Job.objects.get(pk=job_id)
    claimed = Job.objects.filter(pk=job_id, status=JobStatus.QUEUED).update(
        status=JobStatus.RUNNING, started_at=timezone.now(), heartbeat_at=timezone.now(), stage="verifying"
    )
    if not claimed:
        return job
    work = _work_folder(f"restore-{job.pk}-")
    stage = "verifying"
    swapped = False
    try:
        with _heartbeat(Job, job.pk):
            if job.backup is None or not job.backup.is_ready:
                raise BackupNotReady(_("This backup no longer exists."))
            manifest = _fetch_verified(job.backup, work)
            if manifest["tenant"]["id"] != job.tenant_id:
                raise BackupCorrupt(_("This archive belongs to another workspace."))
            _refuse_newer_migrations(manifest)
            if job.kind == JobKind.SANDBOX:
                stage = "creating_sandbox"
                target = _sandbox_create(job, manifest)
            else:
                target = job.tenant
                stage = "safety_backup"
                Maintenance.objects.create(tenant=job.tenant, job=job)
                _stamp(Job, job.pk, stage=stage, percent=10)
                safety = backup_take(tenant=job.tenant, kind=BackupKind.SAFETY, actor_email=job.requested_by_email)
                if not safety.is_ready:
                    raise BackupError(
                        _("The safety backup of the current data failed: %(error)s") % {"error": safety.error}
                    )
                Job.objects.filter(pk=job.pk).update(safety_backup=safety)
            stage = "restoring"
            work_schema = f"{target.schema_name[:50]}_r{job.pk}"
            _stamp(Job, job.pk, stage=stage, percent=25, work_schema=work_schema)
            job.work_schema = work_schema
            schema_dump.load(
                folder=work,
                tables=manifest["tables"],
                sequences=manifest["sequences"],
                source_schema=manifest["schema"],
                target_schema=work_schema,
                progress=_progress_reporter(Job, job.pk, stage, 25, 80),
            )
            stage = "migrating"
            _stamp(Job, job.pk, stage=stage, percent=82)
            _migrate_forward(work_schema, manifest)
            stage = "signing_out"
            _stamp(Job, job.pk, stage=stage, percent=88)
            with schema_context(work_schema):
                Session.objects.all().delete()
                seat_leases_release_everyone()
            connection.set_schema_to_public()
            stage = "files"
            _stamp(Job, job.pk, stage=stage, percent=90)
            archive.unpack_files(work / archive.FILES_PART, _staged_media(job))
            stage = "swapping"
            _stamp(Job, job.pk, stage=stage, percent=95)
            _swap(job=job, tenant=target, work_schema=work_schema, keep=job.kind == JobKind.RESTORE)
            swapped = True
            _swap_media(job=job, schema_name=target.schema_name, keep=job.kind == JobKind.RESTORE)
            _audit_restored(job=job, tenant=target)
    except Exception as error:
        logger.exception("restore failed", extra={"job": job.pk, "stage": stage})
        if not swapped:
            _drop_schema(job.work_schema)
            shutil.rmtree(_staged_media(job), ignore_errors=True)
            if job.kind == JobKind.SANDBOX and Job.objects.filter(pk=job.pk, sandbox_tenant__isnull=False).exists():
                _sandbox_discard(Job.objects.select_related("sandbox_tenant").get(pk=job.pk))
        message = _("Step “%(stage)s” failed: %(error)s") % {"stage": stage_text(stage), "error": _describe(error)}
        _stamp(
            Job,
            job.pk,
            status=JobStatus.FAILED,
            error=message,
            error_code=getattr(error, "code", "restore_failed"),
            finished_at=timezone.now(),
        )
    else:
        _stamp(Job, job.pk, status=JobStatus.DONE, stage="done", percent=100, finished_at=timezone.now())
    finally:
        connection.set_schema_to_public()
        Maintenance.objects.filter(tenant_id=job.tenant_id, job_id=job.pk).delete()
        archive.remove_tree(work)
    job = Job.objects.select_related("tenant", "sandbox_tenant").get(pk=job.pk)
    if job.requested_by_email:
        _notify(
            tenant=job.tenant,
            recipient=job.requested_by_email,
            subject_kind=job.kind,
            ok=job.status == JobStatus.DONE,
            job=job,
        )
    return job


def _fetch_verified(backup: Backup, work: Path) -> dict:
    stored = work / "stored.crmbackup"
    archive.fetch(name=backup.storage_name, target=stored, expected_sha256=backup.sha256)
    manifest = archive.unpack(archive=stored, folder=work)
    stored.unlink(missing_ok=True)
    return manifest


def _current_tenant_migrations() -> set[tuple[str, str]]:
    loader = MigrationLoader(None, ignore_no_migrations=True, load=True)
    labels = schema_template.tenant_app_labels()
    return {key for key in loader.disk_migrations if key[0] in labels}


def _refuse_newer_migrations(manifest: dict) -> None:
    applied = {tuple(item) for item in manifest["migrations"]["applied"]}
    labels = schema_template.tenant_app_labels()
    unknown = {key for key in applied if key[0] in labels} - _current_tenant_migrations()
    if unknown:
        raise BackupError(
            _("This backup was made by a newer version of the application (%(count)s unknown migrations).")
            % {"count": len(unknown)},
            code="backup_too_new",
        )


def _migrate_forward(work_schema: str, manifest: dict) -> None:
    applied = {tuple(item) for item in manifest["migrations"]["applied"]}
    if _current_tenant_migrations() - applied:
        call_command("migrate_schemas", tenant=True, schema_name=work_schema, interactive=False, verbosity=0)
    connection.set_schema_to_public()


def _swap(*, job: Job, tenant: Tenant, work_schema: str, keep: bool) -> None:
    """Live schema out, restored schema in, in one transaction (all or nothing)."""
    connection.set_schema_to_public()
    retired = f"{tenant.schema_name[:50]}_old{job.pk}"
    with transaction.atomic():
        Tenant.objects.select_for_update().filter(pk=tenant.pk).first()
        with connection.cursor() as cursor:
            cursor.execute(f'ALTER SCHEMA "{tenant.schema_name}" RENAME TO "{retired}"')
            cursor.execute(f'ALTER SCHEMA "{work_schema}" RENAME TO "{tenant.schema_name}"')
            if not keep:
                cursor.execute(f'DROP SCHEMA "{retired}" CASCADE')
        if keep:
            RetiredSchema.objects.create(
                tenant=tenant,
                schema_name=retired,
                job=job,
                drop_after=timezone.now() + timedelta(hours=settings.BACKUP_KEEP_PREVIOUS_HOURS),
            )
        Tenant.objects.filter(pk=tenant.pk).update(schema_fingerprint=schema_template.migrations_fingerprint())
        Job.objects.filter(pk=job.pk).update(work_schema="")
    job.work_schema = ""


def _swap_media(*, job: Job, schema_name: str, keep: bool) -> None:
    live = media_folder(schema_name)
    staged = _staged_media(job)
    if live.exists():
        if keep:
            retired = _retired_media(f"{schema_name[:50]}_old{job.pk}")
            retired.parent.mkdir(parents=True, exist_ok=True)
            live.rename(retired)
        else:
            shutil.rmtree(live)
    live.parent.mkdir(parents=True, exist_ok=True)
    staged.rename(live)


def _audit_restored(*, job: Job, tenant: Tenant) -> None:
    with schema_context(tenant.schema_name):
        actor = User.objects.filter(email__iexact=job.requested_by_email).first() if job.requested_by_email else None
        audit_record(
            actor=actor,
            action="backup.restored" if job.kind == JobKind.RESTORE else "backup.sandbox_created",
            target=job.backup,
            changes={
                "job": job.pk,
                "by": job.requested_by_email,
                "backup_created_at": job.backup.created_at.isoformat(),
            },
        )
    connection.set_schema_to_public()


# --- sandbox ------------------------------------------------------------------------------------


def _sandbox_slug(tenant: Tenant, backup: Backup) -> str:
    day = backup.created_at.strftime("%Y-%m-%d")
    base = f"{tenant.slug[:18]}-restore-{day}"
    slug = base
    number = 2
    while Tenant.objects.filter(slug=slug).exists():
        slug = f"{base}-{number}"
        number += 1
    return slug


def _sandbox_create(job: Job, manifest: dict) -> Tenant:
    """A new tenant through the real signup (schema, domain, plan); its schema is then
    replaced by the restored one, so the people of the backup sign in with their passwords."""
    source = job.tenant
    plan = source.plan
    try:
        sandbox = tenant_signup(
            request=SignupRequest(
                company_name=_("%(name)s (restored %(day)s)")
                % {"name": source.name, "day": job.backup.created_at.strftime("%Y-%m-%d")},
                slug=_sandbox_slug(source, job.backup),
                admin_name=job.requested_by_email or source.owner_email,
                admin_email=job.requested_by_email or source.owner_email,
                admin_password=secrets.token_urlsafe(24),
                plan=plan.code if plan else "",
                language=source.language,
            )
        )
    except SignupRejected as rejected:
        raise BackupError(
            _("The sandbox workspace could not be created: %(reason)s")
            % {"reason": "; ".join(message for messages in rejected.messages().values() for message in messages)}
        ) from rejected
    Job.objects.filter(pk=job.pk).update(sandbox_tenant=sandbox)
    job.sandbox_tenant = sandbox
    return sandbox


def _sandbox_discard(job: Job) -> None:
    sandbox = job.sandbox_tenant
    if sandbox is not None:
        tenant_delete(tenant=sandbox)
        shutil.rmtree(media_folder(sandbox.schema_name), ignore_errors=True)


# --- verify ---------------------------------------------------------------------------------------


def backup_verify(*, backup: Backup, deep: bool = False) -> dict:
    """Check a backup without restoring it: checksums and decryption; with `deep`, also load
    it into a scratch schema (row counts, constraints and foreign keys checked) and drop it.
    Returns the manifest; raises BackupCorrupt (or the load's error) when it is not sound."""
    work = _work_folder(f"verify-{backup.pk}-")
    scratch = f"zz_verify_{backup.pk}_{secrets.token_hex(3)}"
    try:
        manifest = _fetch_verified(backup, work)
        if deep:
            schema_dump.load(
                folder=work,
                tables=manifest["tables"],
                sequences=manifest["sequences"],
                source_schema=manifest["schema"],
                target_schema=scratch,
                progress=lambda _fraction: None,
            )
        return manifest
    finally:
        if deep:
            _drop_schema(scratch)
        archive.remove_tree(work)


# --- email --------------------------------------------------------------------------------------


def _notify(*, tenant: Tenant, recipient: str, subject_kind: str, ok: bool, job: Job | None = None) -> None:
    """Tell the person who asked that their backup, restore or export is done (or failed)."""
    with translation.override(tenant.language):
        subjects = {
            ("backup", True): _("Your backup of %(name)s is ready"),
            ("backup", False): _("Your backup of %(name)s failed"),
            (JobKind.RESTORE, True): _("%(name)s was restored from a backup"),
            (JobKind.RESTORE, False): _("Restoring %(name)s failed; nothing was changed"),
            (JobKind.SANDBOX, True): _("Your sandbox copy of %(name)s is ready"),
            (JobKind.SANDBOX, False): _("Your sandbox copy of %(name)s could not be made"),
            (JobKind.EXPORT, True): _("Your data export of %(name)s is ready"),
            (JobKind.EXPORT, False): _("Your data export of %(name)s failed"),
        }
        sandbox = job.sandbox_tenant if job is not None else None
        context = {
            "tenant": tenant,
            "ok": ok,
            "kind": subject_kind,
            "job": job,
            "backups_url": tenant_login_url(tenant).replace("/login/", "/backups/"),
            "sandbox_url": tenant_login_url(sandbox) if sandbox is not None and ok else "",
        }
        try:
            send_mail(
                subject=subjects[(subject_kind, ok)] % {"name": tenant.name},
                message=render_to_string("backups/email/done.txt", context),
                from_email=None,
                recipient_list=[recipient],
            )
        except OSError:
            logger.exception("backup email not sent", extra={"workspace": tenant.slug})

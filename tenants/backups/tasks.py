"""Background jobs of backups. Backups and restores are public-schema tasks that carry
their catalogue row's id (the row names the tenant); the export runs inside its tenant."""

from __future__ import annotations

import logging

from celery import shared_task

from config.celery import TenantTask, app
from tenants.backups import exports, services

logger = logging.getLogger(__name__)


@shared_task(acks_late=True)
def backup_run_task(*, backup_id: int) -> None:
    services.backup_run(backup_id=backup_id)


@shared_task(acks_late=True)
def restore_run_task(*, job_id: int) -> None:
    services.restore_run(job_id=job_id)


@app.task(base=TenantTask, acks_late=True)
def export_run_task(*, job_id: int) -> None:
    exports.export_run(job_id=job_id)


@shared_task
def backups_schedule_dispatch() -> int:
    """Hourly: queue the scheduled backups that are due (spread), then prune old ones."""
    queued = services.backups_schedule_dispatch()
    services.backups_prune()
    return queued


@shared_task
def backups_housekeeping() -> None:
    """Every few minutes: recover jobs whose worker died, drop retired schemas whose time is up."""
    services.jobs_recover_stale()
    services.retired_schemas_drop()

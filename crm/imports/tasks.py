"""Background work of imports: running a job, undoing one, and taking over jobs whose
worker died (killed, out of memory, a deploy) so they continue after their last batch.

With a broker that redelivers unacknowledged messages (Redis, RabbitMQ; `acks_late`),
a redelivered run finds the job's heartbeat fresh and leaves it to the run that owns
it. The default PostgreSQL broker forgets a message its worker took, so the recovery
sweep (beat, every two minutes) re-queues every running job that has been silent for
IMPORT_STALE_SECONDS; the new run claims it and skips the rows already committed. The
sweep visits only the workspaces the public list of running jobs names.
"""

from __future__ import annotations

import logging

from celery import shared_task
from django_tenants.utils import schema_context

from config.celery import TenantTask, app
from crm.imports import runner, services
from tenants.running_jobs import running_job_forget, running_jobs

logger = logging.getLogger(__name__)


@app.task(base=TenantTask, acks_late=True)
def import_run_task(*, job_id: int) -> str:
    return runner.import_run(job_id=job_id)


@app.task(base=TenantTask, acks_late=True)
def import_undo_task(*, job_id: int) -> str:
    return services.import_undo_run(job_id=job_id)


@app.task(base=TenantTask)
def imports_recover() -> int:
    """Queue again this workspace's imports whose worker went silent."""
    from crm.imports.models import ImportJob, ImportStatus

    stale = runner.jobs_stale()
    for job_id in stale:
        status = ImportJob.objects.filter(pk=job_id).values_list("status", flat=True).first()
        if status == ImportStatus.UNDOING:
            import_undo_task.delay(job_id=job_id)
        else:
            import_run_task.delay(job_id=job_id)
    if stale:
        logger.warning("stale imports queued again", extra={"jobs": stale})
    return len(stale)


@shared_task
def imports_recover_dispatch() -> int:
    """Look for silent imports in the workspaces that have one in flight: the public list
    of running jobs (tenants.running_jobs) names them, so a sweep costs one query plus a
    visit per such workspace, not a visit to every schema. A job the list still names but
    that has ended (an ending that could not forget it) is dropped from the list here."""
    from crm.imports.models import ImportJob, ImportStatus

    found = 0
    for (tenant_id, schema_name), job_ids in running_jobs(runner.RUNNING_KIND).items():
        with schema_context(schema_name):
            try:
                active = set(
                    ImportJob.objects.filter(
                        pk__in=job_ids, status__in=[ImportStatus.RUNNING, ImportStatus.UNDOING]
                    ).values_list("pk", flat=True)
                )
            except Exception:  # a schema being created or dropped right now
                logger.warning("imports recovery skipped a schema", extra={"schema": schema_name})
                continue
            for ended in set(job_ids) - active:
                running_job_forget(kind=runner.RUNNING_KIND, job_id=ended, tenant_id=tenant_id)
            if active and runner.jobs_stale():
                imports_recover.delay()
                found += 1
    return found

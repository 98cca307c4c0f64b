"""Background work of imports: running a job, undoing one, and taking over jobs whose
worker died (killed, out of memory, a deploy) so they continue after their last batch.

With a broker that redelivers unacknowledged messages (Redis, RabbitMQ; `acks_late`),
a redelivered run finds the job's heartbeat fresh and leaves it to the run that owns
it. The default PostgreSQL broker forgets a message its worker took, so the recovery
sweep (beat, every two minutes) re-queues every running job that has been silent for
IMPORT_STALE_SECONDS; the new run claims it and skips the rows already committed.
"""

from __future__ import annotations

import logging

from celery import shared_task
from django_tenants.utils import get_public_schema_name, get_tenant_model, schema_context

from config.celery import TenantTask, app
from crm.imports import runner, services

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
    """Look for silent imports in every workspace: one indexed query per schema, on a
    partial index that holds only the few active jobs; messages only where needed."""
    from django.db import connection

    from crm.imports.models import ImportJob, ImportStatus

    found = 0
    schemas = (
        get_tenant_model().objects.exclude(schema_name=get_public_schema_name()).values_list("schema_name", flat=True)
    )
    for schema_name in list(schemas):
        with schema_context(schema_name):
            try:
                active = ImportJob.objects.filter(status__in=[ImportStatus.RUNNING, ImportStatus.UNDOING]).exists()
            except Exception:  # a schema being created or dropped right now
                logger.warning("imports recovery skipped a schema", extra={"schema": schema_name})
                connection.close()
                continue
            if active and runner.jobs_stale():
                imports_recover.delay()
                found += 1
    return found

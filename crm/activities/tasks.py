"""Background jobs for tasks: overdue reminders in every workspace.

Beat runs `overdue_reminders_dispatch` every few minutes (CELERY_BEAT_SCHEDULE); it
queues one `overdue_reminders_send` per tenant, carrying the tenant's schema. Running the
dispatch twice (two beat processes) or redelivering a message after a worker died is
harmless: see `crm.activities.reminders` for why each reminder still goes out once.
"""

from __future__ import annotations

import logging
import random

from celery import shared_task
from django_tenants.utils import get_public_schema_name, get_tenant_model, schema_context

from config.celery import TenantTask, app
from crm.activities import reminders

logger = logging.getLogger(__name__)

# How often beat runs the dispatch, and so how late (at most) a reminder may be.
DISPATCH_PERIOD_SECONDS = 5 * 60
# Tenant runs are spread over this window: small next to the period, so reminders stay
# punctual, but enough that thousands of tenants do not hit the database in one second.
DISPATCH_SPREAD_SECONDS = 30


@app.task(base=TenantTask)
def overdue_reminders_send() -> dict[str, int]:
    """Remind the current tenant's users of their overdue tasks (in-app and by email)."""
    run = reminders.overdue_reminders_send()
    return {"reminded": run.reminded, "emailed": run.emailed, "email_failures": run.email_failures}


@shared_task
def overdue_reminders_dispatch(*, spread_seconds: float = DISPATCH_SPREAD_SECONDS) -> int:
    """Queue one reminder run per tenant; returns how many were queued."""
    schemas = list(
        get_tenant_model().objects.exclude(schema_name=get_public_schema_name()).values_list("schema_name", flat=True)
    )
    for schema_name in schemas:
        with schema_context(schema_name):
            # The schema travels in the message headers. A run still queued when the next
            # dispatch comes has nothing left to do, so it expires instead of piling up.
            overdue_reminders_send.apply_async(
                countdown=random.uniform(0, spread_seconds),  # noqa: S311 - jitter, not security
                expires=DISPATCH_PERIOD_SECONDS + spread_seconds,
            )
    logger.info("overdue reminders queued", extra={"tenants": len(schemas)})
    return len(schemas)

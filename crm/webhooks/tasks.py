"""Webhook deliveries in the worker: one attempt per run, retried with exponential backoff.

Attempts are rows first (committed with the change that caused the event), messages
second; `webhook_redeliver_dispatch` (beat) re-queues attempts whose message was lost, so
an event is delivered at least once. Receivers deduplicate by the event id.
"""

from __future__ import annotations

import random

from celery import shared_task
from django_tenants.utils import get_public_schema_name, get_tenant_model, schema_context

from config.celery import TenantTask, app
from crm.webhooks.delivery import retry_delay
from crm.webhooks.selectors import webhook_deliveries_stale
from crm.webhooks.services import webhook_delivery_attempt

REDELIVER_PERIOD_SECONDS = 15 * 60
REDELIVER_SPREAD_SECONDS = 120


@app.task(base=TenantTask, bind=True, max_retries=None)
def webhook_deliver(self, *, delivery_id: int) -> str:
    """Send one pending delivery; on failure, the next attempt runs after a growing delay."""
    following = webhook_delivery_attempt(delivery_id=delivery_id)
    if following is not None:
        raise self.retry(kwargs={"delivery_id": following.pk}, countdown=retry_delay(following.attempt - 1))
    return "done"


@app.task(base=TenantTask)
def webhook_redeliver_stale() -> int:
    """Queue again this workspace's pending attempts whose message never arrived."""
    stale = webhook_deliveries_stale()
    for delivery_id in stale:
        webhook_deliver.delay(delivery_id=delivery_id)
    return len(stale)


@shared_task
def webhook_redeliver_dispatch(*, spread_seconds: float = REDELIVER_SPREAD_SECONDS) -> int:
    """One `webhook_redeliver_stale` per tenant, spread over `spread_seconds`."""
    schemas = list(
        get_tenant_model().objects.exclude(schema_name=get_public_schema_name()).values_list("schema_name", flat=True)
    )
    for schema_name in schemas:
        with schema_context(schema_name):
            webhook_redeliver_stale.apply_async(
                countdown=random.uniform(0, spread_seconds),  # noqa: S311 - jitter, not security
                expires=REDELIVER_PERIOD_SECONDS,
            )
    return len(schemas)

"""Background jobs of custom fields: building a field's indexes, and the daily purge of
fields removed more than 30 days ago in every workspace."""

from __future__ import annotations

import logging
import random

from celery import shared_task
from django.conf import settings
from django.db import OperationalError
from django_tenants.utils import get_public_schema_name, get_tenant_model, schema_context

from config.celery import TenantTask, app
from crm.custom_fields import indexes, services

logger = logging.getLogger(__name__)


@app.task(base=TenantTask, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def custom_field_index_sync(*, field_id: int, entity: str) -> dict[str, list[str]]:
    """Create or drop the field's indexes for its current state (crm.custom_fields.indexes).

    Queued by the services after each change that matters; a sync that runs late or
    twice finds the work done."""
    result = indexes.index_sync(field_id=field_id, entity=entity)
    logger.info(
        "custom field indexes synced",
        extra={"field_id": field_id, "entity": entity, "created": result.created, "dropped": result.dropped},
    )
    return {"created": result.created, "dropped": result.dropped, "kept": result.kept}


@app.task(base=TenantTask)
def custom_fields_purge() -> int:
    """Delete for good this workspace's fields removed more than 30 days ago, and their values."""
    return services.custom_fields_purge_expired()


@shared_task
def custom_fields_purge_dispatch() -> int:
    """Queue one purge per tenant, spread over TENANT_FANOUT_SPREAD_SECONDS (no thundering herd)."""
    schemas = list(
        get_tenant_model().objects.exclude(schema_name=get_public_schema_name()).values_list("schema_name", flat=True)
    )
    window = settings.TENANT_FANOUT_SPREAD_SECONDS
    for schema_name in schemas:
        with schema_context(schema_name):
            # The schema travels in the message headers.
            custom_fields_purge.apply_async(countdown=random.uniform(0, window))  # noqa: S311 - jitter
    logger.info("custom field purges queued", extra={"tenants": len(schemas)})
    return len(schemas)

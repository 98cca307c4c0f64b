"""Webhook deliveries in the worker: one attempt per run, retried with exponential backoff."""

from __future__ import annotations

from config.celery import TenantTask, app
from crm.webhooks.services import retry_delay, webhook_delivery_attempt


@app.task(base=TenantTask, bind=True, max_retries=None)
def webhook_deliver(self, *, delivery_id: int) -> str:
    """Send one pending delivery; on failure, the next attempt runs after a growing delay."""
    following = webhook_delivery_attempt(delivery_id=delivery_id)
    if following is not None:
        raise self.retry(kwargs={"delivery_id": following.pk}, countdown=retry_delay(following.attempt - 1))
    return "done"

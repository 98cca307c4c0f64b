"""Attempts whose Celery message was lost are found again, once they are overdue."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from crm.webhooks.delivery import retry_delay
from crm.webhooks.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint
from crm.webhooks.selectors import STALE_AFTER, webhook_deliveries_stale
from tests.conftest import inside


def attempt(endpoint, *, number: int, age: timedelta, status: str = DeliveryStatus.PENDING) -> WebhookDelivery:
    row = WebhookDelivery.objects.create(
        endpoint=endpoint,
        event="lead.created",
        event_id="6c1c6a4e-0d2a-4b0e-9a51-0d0e6d7e2f10",
        payload={},
        attempt=number,
        status=status,
    )
    WebhookDelivery.objects.filter(pk=row.pk).update(created_at=timezone.now() - age)
    return row


def test_only_pending_attempts_overdue_by_their_backoff_are_stale(tenant_a):
    with inside(tenant_a):
        endpoint = WebhookEndpoint.objects.create(url="https://hooks.example/crm", events=[], secret="s")
        lost_first = attempt(endpoint, number=1, age=STALE_AFTER + timedelta(minutes=1))
        fresh_first = attempt(endpoint, number=1, age=timedelta(minutes=1))
        delivered = attempt(endpoint, number=1, age=timedelta(hours=2), status=DeliveryStatus.DELIVERED)
        # Attempt 3 waits retry_delay(2) before it is due; only past that plus the margin is it lost.
        waiting_retry = attempt(endpoint, number=3, age=STALE_AFTER + timedelta(minutes=1))
        lost_retry = attempt(
            endpoint, number=3, age=timedelta(seconds=retry_delay(2)) + STALE_AFTER + timedelta(minutes=1)
        )

        stale = webhook_deliveries_stale()

    assert lost_first.pk in stale and lost_retry.pk in stale
    assert fresh_first.pk not in stale and delivered.pk not in stale and waiting_retry.pk not in stale

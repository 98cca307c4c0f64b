"""Reads of webhooks and their delivery log, for people with the `settings` power."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts import roles
from accounts.models import User
from accounts.policy import require_capability
from crm.errors import RecordNotFound
from crm.webhooks.delivery import retry_delay
from crm.webhooks.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint


def webhook_endpoint_list(*, actor: User | None, active: bool | None = None) -> QuerySet[WebhookEndpoint]:
    require_capability(actor, roles.SETTINGS)
    endpoints = WebhookEndpoint.objects.all()
    if active is not None:
        endpoints = endpoints.filter(is_active=active)
    return endpoints.order_by("-created_at", "-id")


def webhook_endpoint_get(*, actor: User | None, endpoint_id: int) -> WebhookEndpoint:
    endpoint = webhook_endpoint_list(actor=actor).filter(pk=endpoint_id).first()
    if endpoint is None:
        raise RecordNotFound(_("This webhook does not exist."))
    return endpoint


def webhook_delivery_list(
    *, actor: User | None, endpoint: WebhookEndpoint, event: str | None = None, status: str | None = None
) -> QuerySet[WebhookDelivery]:
    """Every attempt for `endpoint`, newest first."""
    require_capability(actor, roles.SETTINGS)
    deliveries = WebhookDelivery.objects.filter(endpoint=endpoint)
    if event:
        deliveries = deliveries.filter(event=event)
    if status:
        deliveries = deliveries.filter(status=status)
    return deliveries.order_by("-created_at", "-id")


# A pending attempt whose Celery message never arrived (lost with a broker or a worker)
# is picked up again this long after it was due.
STALE_AFTER = timedelta(minutes=15)


def webhook_deliveries_stale(*, now: datetime | None = None, limit: int = 500) -> list[int]:
    """Ids of pending attempts overdue by STALE_AFTER: their message was lost, send again.

    An attempt n > 1 is due `retry_delay(n - 1)` after its row was written (the backoff
    the worker scheduled it with); a first attempt at once.
    """
    now = now or timezone.now()
    candidates = WebhookDelivery.objects.filter(
        status=DeliveryStatus.PENDING, created_at__lt=now - STALE_AFTER
    ).values_list("pk", "attempt", "created_at")
    stale = [
        pk
        for pk, attempt, created_at in candidates.order_by("created_at")[: limit * 4]
        if created_at + timedelta(seconds=retry_delay(attempt - 1) if attempt > 1 else 0) + STALE_AFTER < now
    ]
    return stale[:limit]

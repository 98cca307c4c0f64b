"""Reads of webhooks and their delivery log, for people with the `settings` power."""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from accounts import roles
from accounts.models import User
from accounts.policy import require_capability
from crm.errors import RecordNotFound
from crm.webhooks.models import WebhookDelivery, WebhookEndpoint


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

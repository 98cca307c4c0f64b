"""Writes for outgoing webhooks: endpoints (the `settings` power), events and attempts.

Deliveries are an outbox: `webhook_event_emit` writes one pending delivery per
subscribed endpoint inside the caller's transaction, and queues them for the worker only
when that transaction commits. A rolled-back change sends nothing; a committed one is
never lost between the database and the queue (a stuck pending row can be re-queued).
"""

from __future__ import annotations

import json
import secrets
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts import roles
from accounts.audit import audit_record
from accounts.models import User
from accounts.policy import require_capability
from crm.webhooks import delivery
from crm.webhooks.delivery import retry_delay
from crm.webhooks.events import EVENTS, PING
from crm.webhooks.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint


def _new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


def _clean(*, url: str | None, events: list[str] | None, description: str | None) -> dict[str, Any]:
    errors: dict[str, list[ValidationError]] = {}
    cleaned: dict[str, Any] = {}
    if url is not None:
        url = url.strip()
        try:
            delivery.url_target(url)
        except delivery.UrlRefused as refused:
            errors["url"] = [ValidationError(str(refused), code="invalid")]
        if len(url) > 500:
            errors["url"] = [ValidationError(_("Use at most 500 characters."), code="max_length")]
        cleaned["url"] = url
    if events is not None:
        unknown = sorted(set(events) - set(EVENTS))
        if unknown:
            errors["events"] = [
                ValidationError(_("Unknown events: %(names)s") % {"names": ", ".join(unknown)}, code="invalid")
            ]
        cleaned["events"] = sorted(set(events))
    if description is not None:
        cleaned["description"] = description.strip()[:255]
    if errors:
        raise ValidationError(errors)
    return cleaned


@transaction.atomic
def webhook_endpoint_create(
    *, actor: User | None, url: str, events: list[str], description: str = "", is_active: bool = True
) -> WebhookEndpoint:
    """Register a receiver for `events` (empty: all). Refuses non-http(s) and private addresses."""
    require_capability(actor, roles.SETTINGS)
    cleaned = _clean(url=url, events=events, description=description)
    endpoint = WebhookEndpoint.objects.create(**cleaned, is_active=is_active, secret=_new_secret(), created_by=actor)
    audit_record(actor=actor, action="webhook.create", target=endpoint, changes={"events": endpoint.events})
    return endpoint


@transaction.atomic
def webhook_endpoint_update(
    *,
    actor: User | None,
    endpoint: WebhookEndpoint,
    url: str | None = None,
    events: list[str] | None = None,
    description: str | None = None,
    is_active: bool | None = None,
    rotate_secret: bool = False,
) -> WebhookEndpoint:
    """Change what is given; a rotated secret signs every delivery from now on."""
    require_capability(actor, roles.SETTINGS)
    endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
    for field, value in _clean(url=url, events=events, description=description).items():
        setattr(endpoint, field, value)
    if is_active is not None:
        endpoint.is_active = is_active
    if rotate_secret:
        endpoint.secret = _new_secret()
    endpoint.save()
    audit_record(
        actor=actor,
        action="webhook.update",
        target=endpoint,
        changes={"events": endpoint.events, "is_active": endpoint.is_active, "secret_rotated": rotate_secret},
    )
    return endpoint


@transaction.atomic
def webhook_endpoint_delete(*, actor: User | None, endpoint: WebhookEndpoint) -> None:
    """Remove a receiver with its delivery log; queued attempts find it gone and stop."""
    require_capability(actor, roles.SETTINGS)
    audit_record(actor=actor, action="webhook.delete", target=endpoint, changes={"url": endpoint.url})
    endpoint.delete()


def _envelope(event: str, payload: dict[str, Any]) -> tuple[uuid.UUID, dict[str, Any]]:
    event_id = uuid.uuid4()
    body = {"id": str(event_id), "event": event, "created_at": timezone.now().isoformat(), "data": payload}
    # Stored as JSON exactly as it will be sent (dates, decimals and ids already strings).
    return event_id, json.loads(json.dumps(body, cls=DjangoJSONEncoder))


def _queue_on_commit(deliveries: list[WebhookDelivery]) -> None:
    if not deliveries:
        return
    from crm.webhooks.tasks import webhook_deliver

    ids = [item.pk for item in deliveries]
    transaction.on_commit(lambda: [webhook_deliver.delay(delivery_id=pk) for pk in ids], robust=True)


def webhook_event_emit(*, event: str, payload: dict[str, Any] | Callable[[], dict[str, Any]]) -> list[WebhookDelivery]:
    """Queue `event` for every active endpoint of this workspace subscribed to it.

    Runs inside the caller's transaction: the pending deliveries commit with the change
    and go to the worker after the commit; nothing is sent for a rolled-back change.
    A callable `payload` is built only when some endpoint listens (an import of many
    records pays nothing for events nobody receives).
    """
    endpoints = list(
        WebhookEndpoint.objects.filter(is_active=True)
        .filter(Q(events__contains=[event]) | Q(events=[]))
        .values_list("pk", flat=True)
    )
    if not endpoints:
        return []
    if callable(payload):
        payload = payload()
    event_id, body = _envelope(event, payload)
    deliveries = WebhookDelivery.objects.bulk_create(
        WebhookDelivery(endpoint_id=pk, event=event, event_id=event_id, payload=body) for pk in endpoints
    )
    _queue_on_commit(deliveries)
    return deliveries


@transaction.atomic
def webhook_ping(*, actor: User | None, endpoint: WebhookEndpoint) -> WebhookDelivery:
    """Send a `ping` event to one endpoint, to check the receiver and its signature check."""
    require_capability(actor, roles.SETTINGS)
    event_id, body = _envelope(PING, {"endpoint": endpoint.pk, "message": "ping"})
    sent = WebhookDelivery.objects.create(endpoint=endpoint, event=PING, event_id=event_id, payload=body)
    _queue_on_commit([sent])
    return sent


def webhook_delivery_attempt(*, delivery_id: int) -> WebhookDelivery | None:
    """Make one pending attempt and log its outcome on its row.

    Returns the next attempt's (pending) row when the receiver failed and attempts are
    left, else None. An attempt that is not pending any more (a redelivered message) is
    not sent twice. No transaction is held open while the receiver answers.
    """
    attempt = WebhookDelivery.objects.select_related("endpoint").filter(pk=delivery_id).first()
    if attempt is None or attempt.status != DeliveryStatus.PENDING:
        return None
    endpoint = attempt.endpoint
    if not endpoint.is_active:
        WebhookDelivery.objects.filter(pk=attempt.pk).update(
            status=DeliveryStatus.FAILED, error=_("The webhook is switched off."), updated_at=timezone.now()
        )
        return None
    body = json.dumps(attempt.payload, separators=(",", ":")).encode()
    outcome = delivery.post(
        url=endpoint.url, secret=endpoint.secret, body=body, event=attempt.event, event_id=str(attempt.event_id)
    )
    retry = not outcome.delivered and attempt.attempt < settings.WEBHOOK_MAX_ATTEMPTS
    now = timezone.now()
    next_retry_at = now + timedelta(seconds=retry_delay(attempt.attempt)) if retry else None
    with transaction.atomic():
        logged = WebhookDelivery.objects.filter(pk=attempt.pk, status=DeliveryStatus.PENDING).update(
            status=DeliveryStatus.DELIVERED if outcome.delivered else DeliveryStatus.FAILED,
            response_code=outcome.status,
            response_body=outcome.body[: delivery.RESPONSE_EXCERPT],
            error=outcome.error[:500],
            duration_ms=outcome.duration_ms,
            next_retry_at=next_retry_at,
            updated_at=now,
        )
        if not logged or not retry:
            return None
        return WebhookDelivery.objects.create(
            endpoint=endpoint,
            event=attempt.event,
            event_id=attempt.event_id,
            payload=attempt.payload,
            attempt=attempt.attempt + 1,
            next_retry_at=next_retry_at,
        )

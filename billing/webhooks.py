"""Stripe webhooks: verify, store once, process once.

- `event_verify`: the Stripe-Signature header must verify with the endpoint secret and be
  at most 300 s old (stripe.Webhook.construct_event); anything else is refused.
- `event_record`: one row per Stripe event id (a replay finds the row and adds nothing).
- `event_process` (run by a Celery task with retries): locks the event row, so two
  workers given the same event produce one effect; handlers never trust the payload's
  copy of an object but re-read it from Stripe, so duplicates and out-of-order
  deliveries converge on Stripe's current state. Events for customers we do not know
  are stored and marked ignored.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

import stripe
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from billing import services
from billing.dunning import status_email_send, tenant_billing_apply
from billing.models import Customer, EventStatus, Subscription, WebhookEvent

logger = logging.getLogger(__name__)

TOLERANCE_SECONDS = 300


class WebhookRejected(Exception):
    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def event_verify(*, payload: bytes, signature: str | None) -> dict:
    """The verified event as a dict; WebhookRejected when unsigned, forged, stale or malformed."""
    if not settings.STRIPE_WEBHOOK_SECRET:
        raise WebhookRejected("no webhook secret configured")
    if not signature:
        raise WebhookRejected("unsigned")
    try:
        event = stripe.Webhook.construct_event(
            payload, signature, settings.STRIPE_WEBHOOK_SECRET, tolerance=TOLERANCE_SECONDS
        )
    except stripe.SignatureVerificationError as error:
        raise WebhookRejected(f"signature: {error.user_message or error}") from error
    except ValueError as error:
        raise WebhookRejected("malformed payload") from error
    data = json.loads(payload)
    if not isinstance(data, dict) or not data.get("id") or not data.get("type") or event is None:
        raise WebhookRejected("not an event")
    return data


def event_record(*, data: dict) -> tuple[WebhookEvent, bool]:
    """Store the event once by its Stripe id; returns (row, created)."""
    existing = WebhookEvent.objects.filter(stripe_id=data["id"]).first()
    if existing is not None:
        return existing, False
    try:
        with transaction.atomic():
            event = WebhookEvent.objects.create(
                stripe_id=data["id"],
                type=data["type"][:100],
                stripe_created=datetime.fromtimestamp(int(data.get("created") or 0), tz=UTC),
                livemode=bool(data.get("livemode")),
                payload=data,
            )
    except IntegrityError:
        # The same event delivered twice at the same moment: the other request stored it.
        return WebhookEvent.objects.get(stripe_id=data["id"]), False
    return event, True


def event_process(*, event_id: int, now: datetime | None = None) -> str:
    """Process one stored event exactly once; returns its final status.

    A failure (Stripe unreachable, say) marks the event failed and re-raises, so the
    Celery task retries it; a later attempt processes it from scratch.
    """
    now = now or timezone.now()
    failure: Exception | None = None
    with transaction.atomic():
        event = WebhookEvent.objects.select_for_update().get(pk=event_id)
        if event.status in (EventStatus.PROCESSED, EventStatus.IGNORED):
            return event.status
        event.attempts += 1
        try:
            with transaction.atomic():
                status = _handle(event, now)
        except Exception as error:
            failure = error
            event.status = EventStatus.FAILED
            event.error = f"{type(error).__name__}: {error}"[:2000]
            logger.warning("stripe event failed", extra={"event": event.stripe_id, "type": event.type})
        else:
            event.status = status
            event.error = ""
            event.processed_at = now
        event.save()
    if failure is not None:
        raise failure
    return event.status


def _handle(event: WebhookEvent, now: datetime) -> str:
    obj = (event.payload.get("data") or {}).get("object") or {}
    customer_id = obj.get("id") if obj.get("object") == "customer" else obj.get("customer")
    if isinstance(customer_id, dict):
        customer_id = customer_id.get("id")
    customer = Customer.objects.select_related("tenant").filter(stripe_id=customer_id or "").first()
    if customer is None:
        logger.info("stripe event for an unknown customer ignored", extra={"event": event.stripe_id})
        return EventStatus.IGNORED
    event.tenant = customer.tenant
    handler = HANDLERS.get(event.type)
    if handler is None:
        return EventStatus.IGNORED
    handler(event=event, obj=obj, customer=customer, now=now)
    return EventStatus.PROCESSED


def _subscription_changed(*, event, obj, customer, now) -> None:
    services.subscription_sync(stripe_id=obj["id"], now=now, reason=event.type, event=event)


def _trial_will_end(*, event, obj, customer, now) -> None:
    _subscription_changed(event=event, obj=obj, customer=customer, now=now)
    transaction.on_commit(lambda: status_email_send(tenant_id=customer.tenant_id, status="trial_will_end"), robust=True)


def _invoice_changed(*, event, obj, customer, now) -> None:
    failed_at = event.stripe_created if event.type == "invoice.payment_failed" else None
    invoice = services.invoice_sync(stripe_id=obj["id"], failed_at=failed_at)
    subscription_id = invoice.subscription_stripe_id if invoice is not None else obj.get("subscription")
    if subscription_id:
        services.subscription_sync(stripe_id=subscription_id, now=now, reason=event.type, event=event)


def _customer_changed(*, event, obj, customer, now) -> None:
    services.customer_sync(customer=customer)


def _customer_deleted(*, event, obj, customer, now) -> None:
    """Stripe cancels a deleted customer's subscriptions; our mirror says so too."""
    customer = services.customer_sync(customer=customer)
    if customer.deleted_at is None:
        return
    # Stripe cancels every subscription of a deleted customer at once (localstripe does not).
    Subscription.objects.filter(customer=customer).exclude(status="canceled").update(
        status="canceled", ended_at=now, updated_at=now
    )
    tenant_billing_apply(tenant=customer.tenant, now=now, reason=event.type, event=event)


HANDLERS = {
    "customer.subscription.created": _subscription_changed,
    "customer.subscription.updated": _subscription_changed,
    "customer.subscription.deleted": _subscription_changed,
    "customer.subscription.paused": _subscription_changed,
    "customer.subscription.resumed": _subscription_changed,
    "customer.subscription.trial_will_end": _trial_will_end,
    "invoice.paid": _invoice_changed,
    "invoice.payment_succeeded": _invoice_changed,
    "invoice.payment_failed": _invoice_changed,
    "invoice.finalized": _invoice_changed,
    "invoice.voided": _invoice_changed,
    "payment_method.attached": _customer_changed,
    "payment_method.detached": _customer_changed,
    "customer.updated": _customer_changed,
    "customer.deleted": _customer_deleted,
}

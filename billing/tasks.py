"""Billing jobs. They run on the public schema (billing is shared), so they are plain
Celery tasks, not TenantTask: a webhook names a Stripe customer, not a tenant schema."""

from __future__ import annotations

from datetime import datetime

import stripe
from celery import shared_task
from django.db import OperationalError
from django.utils import timezone

from billing import dunning, webhooks

RETRYABLE = (stripe.APIConnectionError, stripe.APIError, stripe.RateLimitError, OperationalError)


@shared_task(
    autoretry_for=RETRYABLE,
    retry_backoff=5,
    retry_backoff_max=600,
    retry_jitter=True,
    max_retries=10,
)
def webhook_event_process(*, event_id: int) -> str:
    """Process one stored Stripe event; retried with backoff while Stripe or the database is away."""
    return webhooks.event_process(event_id=event_id)


@shared_task
def dunning_sweep(*, now: str | None = None) -> int:
    """Move workspaces along the billing clock. `now` (ISO 8601) lets tests move time."""
    moment = datetime.fromisoformat(now) if now else timezone.now()
    return dunning.dunning_sweep(now=moment)

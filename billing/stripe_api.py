"""The one door to Stripe: a configured client and the idempotency keys of our writes.

The endpoint is configuration (STRIPE_API_BASE), so the product runs against Stripe or
against a local Stripe-compatible server (localstripe) alike. Every write carries an
Idempotency-Key that names the operation (never the library's random one), so a retried
Celery task, a double-clicked button or a network retry repeats nothing at Stripe.
"""

from __future__ import annotations

import functools
import hashlib

import stripe
from django.conf import settings
from django.utils.translation import gettext as _

from billing.errors import BillingNotConfigured

# The HTTP client Stripe requests go through; None lets the library choose. Tests put a
# recording client here to see every outgoing request (still sent for real).
http_client: stripe.HTTPClient | None = None

KEY_PREFIX = "crm"


def client() -> stripe.StripeClient:
    if not settings.STRIPE_API_KEY:
        raise BillingNotConfigured(_("Billing is not set up on this server yet."))
    return _client(settings.STRIPE_API_KEY, settings.STRIPE_API_BASE or stripe.DEFAULT_API_BASE, http_client)


@functools.lru_cache(maxsize=4)
def _client(api_key: str, api_base: str, http: stripe.HTTPClient | None) -> stripe.StripeClient:
    return stripe.StripeClient(api_key, base_addresses={"api": api_base}, http_client=http, max_network_retries=2)


def is_configured() -> bool:
    return bool(settings.STRIPE_API_KEY)


def test_mode() -> bool:
    """Test keys only: Stripe's canonical test cards may be attached server-side."""
    return settings.STRIPE_API_KEY.startswith(("sk_test_", "rk_test_"))


def idempotency_key(operation: str, *parts: object) -> str:
    """`crm:<operation>:<digest of the parts>`: the same operation with the same parts, the same key."""
    digest = hashlib.sha256("\x1f".join(str(part) for part in parts).encode()).hexdigest()[:32]
    return f"{KEY_PREFIX}:{operation}:{digest}"


def write_options(operation: str, *parts: object) -> dict:
    return {"idempotency_key": idempotency_key(operation, *parts)}


def as_dict(obj) -> dict:
    """A Stripe object as plain dicts and lists."""
    return obj.to_dict() if hasattr(obj, "to_dict") else dict(obj)

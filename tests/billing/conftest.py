"""Billing fixtures: a real localstripe on loopback, the real `stripe` client pointed at it,
a recording of every request the client sends, and signed Stripe-format events.

localstripe runs as its own process (infra/localstripe_server.py, bound to 127.0.0.1 on
a free port) for the whole session and is stopped at its end.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import stripe

from billing import stripe_api
from tests.processes import free_port, port_answers, wait_for, worker_env

ROOT = Path(__file__).resolve().parents[2]
API_KEY = "sk_test_billing_suite"
WEBHOOK_SECRET = "whsec_billing_suite_" + "0" * 16


@pytest.fixture(scope="session")
def localstripe(tmp_path_factory) -> Iterator[str]:
    """A localstripe process on 127.0.0.1:<free port>; yields its base URL."""
    port = free_port()
    log = tmp_path_factory.mktemp("localstripe") / "localstripe.log"
    with open(log, "w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "infra.localstripe_server", "--port", str(port)],
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        assert wait_for(lambda: port_answers(port), timeout=30), log.read_text()
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)


def stripe_env(base: str) -> dict[str, str]:
    return {"STRIPE_API_KEY": API_KEY, "STRIPE_API_BASE": base, "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET}


@pytest.fixture
def stripe_settings(settings, localstripe):
    for name, value in stripe_env(localstripe).items():
        setattr(settings, name, value)
    settings.STRIPE_PUBLISHABLE_KEY = ""
    return settings


@dataclass
class Recorded:
    method: str
    url: str
    headers: dict[str, str]
    body: str


class RecordingHTTPClient(stripe.RequestsClient):
    """Stripe's own requests-based client that also notes every request it sends."""

    def __init__(self):
        super().__init__()
        self.recorded: list[Recorded] = []

    def request(self, method, url, headers, post_data=None):
        self.recorded.append(Recorded(method.upper(), url, dict(headers or {}), post_data or ""))
        return super().request(method, url, headers, post_data)

    def writes(self) -> list[Recorded]:
        return [request for request in self.recorded if request.method in ("POST", "DELETE")]


@pytest.fixture
def recorder(stripe_settings, monkeypatch) -> RecordingHTTPClient:
    """Every Stripe request of the test goes through this (and really reaches localstripe)."""
    client = RecordingHTTPClient()
    monkeypatch.setattr(stripe_api, "http_client", client)
    return client


@pytest.fixture
def stripe_client(recorder) -> stripe.StripeClient:
    """The same configured client the product uses (for the test to play Stripe's part)."""
    return stripe_api.client()


@pytest.fixture
def synced_plans(recorder):
    from billing.services import plans_sync

    return {record.plan.code: record for record in plans_sync()}


def sign(payload: bytes, *, secret: str = WEBHOOK_SECRET, timestamp: int | None = None) -> str:
    """A Stripe-Signature header exactly as Stripe builds it (HMAC-SHA256 of `t.payload`)."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def stripe_event(event_type: str, obj: dict, *, created: int | None = None, event_id: str | None = None) -> dict:
    """A Stripe-format event around `obj` (for the events localstripe cannot emit)."""
    return {
        "id": event_id or f"evt_test_{secrets.token_hex(8)}",
        "object": "event",
        "api_version": "2024-06-20",
        "created": int(time.time()) if created is None else created,
        "data": {"object": obj},
        "livemode": False,
        "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None},
        "type": event_type,
    }


def encoded(event: dict) -> bytes:
    return json.dumps(event).encode()


def post_event(client, event: dict, *, signature: str | None = None):
    payload = encoded(event)
    headers = {"HTTP_STRIPE_SIGNATURE": signature if signature is not None else sign(payload)}
    return client.post("/billing/webhook/", data=payload, content_type="application/json", **headers)


def process_env(base: str, **extra: str) -> dict[str, str]:
    return worker_env(**stripe_env(base), **extra)

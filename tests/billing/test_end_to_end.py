"""The whole billing story against real parts: localstripe, a gunicorn serving our app (so
localstripe's own signed webhooks reach /billing/webhook/), a real Celery worker over the
real broker, and time moved by the test (the sweep is given `now`), never slept.

signup → trial → add card → subscribe with 5 seats → add 2 seats (seats follow only after
the webhook) → a renewal payment fails → past_due → grace elapsed → read_only (writes
refused on the web and the API, reads and backups allowed) → pays → active.
"""

from __future__ import annotations

import email
import secrets
import subprocess
import sys
import urllib.parse
import urllib.request
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import requests
from django.test import Client
from django.utils import timezone

from billing.models import Customer, EventStatus, StatusChange, WebhookEvent
from billing.services import plans_sync
from billing.tasks import dunning_sweep
from tenants.models import Tenant, TenantStatus
from tests.billing.conftest import (
    WEBHOOK_SECRET,
    encoded,
    free_port,
    port_answers,
    process_env,
    sign,
    stripe_event,
    wait_for,
)
from tests.conftest import PASSWORD

ROOT = Path(__file__).resolve().parents[2]
SLUG = "billing-e2e"
ADMIN = "erin@e2e.example"

pytestmark = pytest.mark.slow


class Processes:
    def __init__(self, web_url: str, worker_log: Path, outbox: Path):
        self.web_url = web_url
        self.worker_log = worker_log
        self.outbox = outbox

    def subjects(self) -> list[str]:
        found = []
        for path in sorted(self.outbox.glob("*.log")):
            for chunk in path.read_text().split("\n" + "-" * 79 + "\n"):
                if chunk.strip():
                    subject = email.message_from_string(chunk)["Subject"] or ""
                    found.append(str(email.header.make_header(email.header.decode_header(subject))))
        return found


@pytest.fixture(scope="module")
def running(django_db_setup, localstripe, tmp_path_factory) -> Iterator[Processes]:
    """gunicorn + celery worker on the test database, localstripe's webhooks pointed at gunicorn."""
    folder = tmp_path_factory.mktemp("billing-e2e")
    outbox = folder / "outbox"
    outbox.mkdir()
    env = process_env(localstripe, EMAIL_URL=f"filemail:///{outbox}")
    port = free_port()
    started = []
    with open(folder / "web.log", "w") as web_log, open(folder / "worker.log", "w") as worker_log:
        started.append(
            subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "config.wsgi:application", "--bind", f"127.0.0.1:{port}",
                 "--workers", "1", "--threads", "4", "--no-control-socket"],
                cwd=ROOT, env=env, stdout=web_log, stderr=subprocess.STDOUT,
            )
        )  # fmt: skip
        started.append(
            subprocess.Popen(
                [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool", "solo", "-l", "INFO",
                 "--without-heartbeat", "--without-mingle", "--without-gossip"],
                cwd=ROOT, env=env, stdout=worker_log, stderr=subprocess.STDOUT,
            )
        )  # fmt: skip
    register = f"{localstripe}/_config/webhooks/crm-e2e"
    try:
        assert wait_for(lambda: port_answers(port), timeout=60), (folder / "web.log").read_text()
        assert wait_for(lambda: "ready" in (folder / "worker.log").read_text(), timeout=60)
        body = {"url": f"http://localhost:{port}/billing/webhook/", "secret": WEBHOOK_SECRET}
        urllib.request.urlopen(register, data=urllib.parse.urlencode(body).encode(), timeout=5).close()  # noqa: S310
        yield Processes(f"http://localhost:{port}", folder / "worker.log", outbox)
    finally:
        # Stop sending (there is no unregister: a filter on an event that never happens).
        body = {"url": "http://127.0.0.1:9/", "secret": WEBHOOK_SECRET, "events[0]": "none.none"}
        urllib.request.urlopen(register, data=urllib.parse.urlencode(body).encode(), timeout=5).close()  # noqa: S310
        for process in started:
            process.terminate()
        for process in started:
            process.wait(timeout=30)


def token() -> str:
    return secrets.token_hex(16)


def tenant() -> Tenant:
    return Tenant.objects.get(slug=SLUG)


def deliver(web_url: str, event: dict) -> requests.Response:
    """Send an event the way Stripe does: over HTTP, signed with the endpoint secret."""
    payload = encoded(event)
    return requests.post(
        f"{web_url}/billing/webhook/",
        data=payload,
        headers={"Content-Type": "application/json", "Stripe-Signature": sign(payload)},
        timeout=10,
    )


def test_trial_to_paid_to_read_only_and_back_with_real_stripe_webhooks_and_worker(
    committed_db, running, stripe_settings, recorder, stripe_client, mailoutbox
):
    from tenants.services import SignupRequest, tenant_delete, tenant_signup

    plans_sync()
    signed_up = tenant_signup(
        request=SignupRequest(
            company_name="E2E Billing", slug=SLUG, admin_name="Erin Admin", admin_email=ADMIN,
            admin_password=PASSWORD, plan="team",
        )
    )  # fmt: skip
    try:
        # Signup starts a trial with no card.
        assert signed_up.status == TenantStatus.TRIALING
        assert signed_up.trial_ends_at - timezone.now() > timedelta(days=13)
        admin = Client(HTTP_HOST=f"{SLUG}.localhost:8000")
        assert admin.post("/login/", {"username": ADMIN, "password": PASSWORD}).status_code == 302

        # Add a card, subscribe with 5 seats: active at once (Stripe's answer says paid).
        admin.post("/billing/card/test/", {"test_card": "pm_card_visa", "request_token": token()})
        admin.post("/billing/plan/", {"plan": "team", "seats": 5, "request_token": token()})
        assert (tenant().status, tenant().paid_seats) == (TenantStatus.ACTIVE, 5)
        customer = Customer.objects.get(tenant=tenant())
        # localstripe's own signed webhooks reach gunicorn, are verified, stored and processed by the worker.
        assert wait_for(
            lambda: WebhookEvent.objects.filter(
                tenant=tenant(), type="customer.subscription.created", status=EventStatus.PROCESSED
            ).exists(),
            timeout=60,
        ), running.worker_log.read_text()[-3000:]

        # Add 2 seats: Stripe has 7 at once, our seat count only once the webhook says so.
        admin.post("/billing/plan/", {"plan": "team", "seats": 7, "request_token": token()})
        subscription_id = customer.subscriptions.get().stripe_id
        assert stripe_client.v1.subscriptions.retrieve(subscription_id)["quantity"] == 7
        assert tenant().paid_seats == 5
        updated = stripe_client.v1.subscriptions.retrieve(subscription_id).to_dict()
        assert deliver(running.web_url, stripe_event("customer.subscription.updated", updated)).status_code == 200
        assert wait_for(lambda: tenant().paid_seats == 7, timeout=60), running.worker_log.read_text()[-3000:]
        assert tenant().named_seats == 7

        # The renewal fails: the card on file now declines (Stripe's part played through its API).
        admin.post("/billing/card/test/", {"test_card": "pm_card_chargeCustomerFail", "request_token": token()})
        invoice = stripe_client.v1.invoices.create(
            params={"customer": customer.stripe_id, "subscription": subscription_id}
        )
        stripe_client.v1.invoices.pay(invoice["id"])
        failed = stripe_client.v1.invoices.retrieve(invoice["id"]).to_dict()
        assert failed["status"] == "open"
        assert deliver(running.web_url, stripe_event("invoice.payment_failed", failed)).status_code == 200
        assert wait_for(lambda: tenant().status == TenantStatus.PAST_DUE, timeout=60)
        assert admin.post("/", {}).status_code != 403  # past due: still fully working
        assert wait_for(lambda: any("Payment failed" in subject for subject in running.subjects()), timeout=30)

        # The grace period (7 days on Team) elapses: the sweep runs in the worker at a moved clock.
        started = tenant().dunning_started_at
        dunning_sweep.delay(now=(started + timedelta(days=6, hours=23)).isoformat())
        dunning_sweep.delay(now=(started + timedelta(days=7, minutes=1)).isoformat())
        assert wait_for(lambda: tenant().status == TenantStatus.READ_ONLY, timeout=60)
        assert list(StatusChange.objects.filter(tenant=tenant()).values_list("to_status", flat=True))[:1] == [
            TenantStatus.READ_ONLY
        ]
        assert wait_for(lambda: any("read-only" in subject for subject in running.subjects()), timeout=30)

        # Read-only: writes refused on the web and the API; reads, billing and backups go through.
        web_write = admin.post("/", {"note": "x"})
        api_write = admin.post("/api/v1/contacts/", data={"first_name": "X"}, content_type="application/json")
        assert web_write.status_code == 403 and b"This workspace is read-only" in web_write.content
        assert (api_write.status_code, api_write.json()["code"]) == (403, "tenant_read_only")
        assert admin.get("/").status_code == 200
        assert admin.get("/billing/").status_code == 200
        backup = admin.post("/api/v1/backups/", data={}, content_type="application/json")
        assert b"tenant_read_only" not in backup.content

        # Pays with a good card: the open invoice is retried and access is back at once.
        mailoutbox.clear()
        admin.post("/billing/card/test/", {"test_card": "pm_card_visa", "request_token": token()})
        assert tenant().status == TenantStatus.ACTIVE
        assert tenant().dunning_started_at is None
        assert admin.post("/api/v1/contacts/", data={}, content_type="application/json").status_code != 403
        assert stripe_client.v1.invoices.retrieve(invoice["id"])["status"] == "paid"
        assert any("Payment received" in message.subject for message in mailoutbox)
        trail = list(StatusChange.objects.filter(tenant=tenant()).order_by("id").values_list("to_status", flat=True))
        assert trail == ["active", "past_due", "read_only", "active"]
    finally:
        current = Tenant.objects.filter(slug=SLUG).first()
        if current is not None:
            WebhookEvent.objects.filter(tenant=current).delete()
            tenant_delete(tenant=current)

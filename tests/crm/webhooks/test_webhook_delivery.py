"""Webhook deliveries through a real `celery worker`, the real broker and a real HTTP
receiver on loopback: signatures, retry after a receiver failure, tenant isolation."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from crm.clients.models import Contact
from crm.clients.services import contact_create
from crm.webhooks.delivery import SIGNATURE_HEADER, signature_valid
from crm.webhooks.models import WebhookEndpoint
from crm.webhooks.services import webhook_endpoint_create
from tenants.models import Tenant
from tests.conftest import inside
from tests.processes import celery_worker, wait_for

pytestmark = pytest.mark.slow


class Receiver:
    """A small HTTP server on loopback that records requests and answers planned statuses."""

    def __init__(self, statuses: list[int] | None = None):
        self.statuses = list(statuses or [])
        self.requests: list[tuple[dict[str, str], bytes]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append((dict(self.headers), body))
                code = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(code)
                self.end_headers()
                self.wfile.write(b"ok" if code < 300 else b"boom")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/crm"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def worker(django_db_setup, tmp_path_factory) -> Iterator[Path]:
    """A real worker on the test database and broker, retrying webhooks after 1 s, 2 s..."""
    log_file = tmp_path_factory.mktemp("webhook-worker") / "worker.log"
    with celery_worker(
        log_file, WEBHOOK_ALLOW_PRIVATE_URLS="true", WEBHOOK_RETRY_BASE_SECONDS="1", WEBHOOK_TIMEOUT_SECONDS="5"
    ):
        yield log_file


@pytest.fixture
def workspaces(committed_db, worker) -> Iterator[tuple[Tenant, Tenant]]:
    """Acme and Globex on committed data; webhooks and contacts made here are removed after."""
    acme, globex = Tenant.objects.get(slug="acme"), Tenant.objects.get(slug="globex")
    receivers: list[Receiver] = []
    try:
        yield acme, globex
    finally:
        for receiver in receivers:
            receiver.close()
        for tenant in (acme, globex):
            with inside(tenant):
                WebhookEndpoint.objects.all().delete()
                Contact.all_objects.filter(first_name__startswith="Hook").delete()


def test_a_failed_delivery_is_retried_and_both_attempts_are_logged_with_valid_signatures(workspaces):
    acme, _globex = workspaces
    receiver = Receiver(statuses=[500, 200])
    try:
        with inside(acme):
            endpoint = webhook_endpoint_create(actor=None, url=receiver.url, events=["contact.created"])
            contact = contact_create(actor=None, first_name="Hook", last_name="Retry")

        assert wait_for(lambda: len(receiver.requests) >= 2), receiver.requests
        with inside(acme):
            assert wait_for(lambda: endpoint.deliveries.filter(status="delivered").exists())
            first, second = endpoint.deliveries.order_by("attempt")
    finally:
        receiver.close()

    for headers, body in receiver.requests:
        assert signature_valid(secret=endpoint.secret, header=headers[SIGNATURE_HEADER], body=body)
        assert not signature_valid(secret="whsec_wrong", header=headers[SIGNATURE_HEADER], body=body)
        assert headers["X-CRM-Event"] == "contact.created"
    bodies = [json.loads(body) for _headers, body in receiver.requests]
    assert bodies[0] == bodies[1]  # the same event, sent again
    assert bodies[0]["data"]["contact"]["id"] == contact.pk
    assert (first.attempt, first.status, first.response_code, first.response_body) == (1, "failed", 500, "boom")
    assert first.next_retry_at is not None
    assert (second.attempt, second.status, second.response_code) == (2, "delivered", 200)
    assert second.event_id == first.event_id
    assert second.duration_ms is not None


def test_a_workspaces_events_never_reach_another_workspaces_endpoints(workspaces):
    acme, globex = workspaces
    acme_receiver, globex_receiver = Receiver(), Receiver()
    try:
        with inside(acme):
            webhook_endpoint_create(actor=None, url=acme_receiver.url, events=[])
        with inside(globex):
            webhook_endpoint_create(actor=None, url=globex_receiver.url, events=[])
        with inside(acme):
            contact_create(actor=None, first_name="Hook", last_name="Acme only")

        assert wait_for(lambda: len(acme_receiver.requests) == 1)
        time.sleep(1.5)
        with inside(globex):
            contact_create(actor=None, first_name="Hook", last_name="Globex only")
        assert wait_for(lambda: len(globex_receiver.requests) == 1)
        time.sleep(1.0)
    finally:
        acme_receiver.close()
        globex_receiver.close()

    [(_headers, acme_body)] = acme_receiver.requests
    [(_headers, globex_body)] = globex_receiver.requests
    assert json.loads(acme_body)["data"]["contact"]["full_name"] == "Hook Acme only"
    assert json.loads(globex_body)["data"]["contact"]["full_name"] == "Hook Globex only"

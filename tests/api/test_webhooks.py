"""Webhooks over the API: registering receivers, the delivery log, pings, and the events
the CRM services emit (as pending deliveries written with the change)."""

from __future__ import annotations

import pytest

from accounts.models import User
from crm.clients.services import contact_create
from crm.deals.services import deal_create, deal_mark_lost, deal_mark_won
from crm.leads.services import lead_convert, lead_create
from crm.webhooks.models import WebhookDelivery
from tests.api.people import signed_in
from tests.conftest import ALICE_EMAIL, inside

URL = "http://127.0.0.1:9/hook"


def register(api, events: list[str] | None = None, url: str = URL) -> dict:
    response = api.post("/api/v1/webhooks/", {"url": url, "events": events or []})
    assert response.status_code == 201, response.content
    return response.json()


def test_admin_registers_changes_and_deletes_a_webhook(api_a):
    created = register(api_a, ["deal.won", "lead.created"])

    assert created["secret"].startswith("whsec_")
    assert created["events"] == ["deal.won", "lead.created"]
    fetched = api_a.get(f"/api/v1/webhooks/{created['id']}/")
    assert "secret" not in fetched.json()
    changed = api_a.patch(f"/api/v1/webhooks/{created['id']}/", {"is_active": False, "events": ["deal.lost"]})
    assert changed.status_code == 200
    assert (changed.json()["is_active"], changed.json()["events"]) == (False, ["deal.lost"])
    rotated = api_a.patch(f"/api/v1/webhooks/{created['id']}/", {"rotate_secret": True}).json()
    assert rotated["secret"] != created["secret"]
    assert [row["id"] for row in api_a.get("/api/v1/webhooks/", {"active": "false"}).json()["results"]] == [
        created["id"]
    ]
    assert api_a.delete(f"/api/v1/webhooks/{created['id']}/").status_code == 204
    assert api_a.get(f"/api/v1/webhooks/{created['id']}/").status_code == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"url": "ftp://example.com/x", "events": []}, "url"),
        ({"url": "file:///etc/passwd", "events": []}, "url"),
        ({"url": "javascript:alert(1)", "events": []}, "url"),
        ({"url": "http://user:pw@example.com/", "events": []}, "url"),
        ({"url": "http://no-such-host.invalid/", "events": []}, "url"),
        ({"url": "http://127.0.0.1:99999/", "events": []}, "url"),
        ({"url": URL, "events": ["deal.exploded"]}, "events"),
        ({"url": URL, "events": "deal.won"}, "events"),
        ({"url": "x" * 600, "events": []}, "url"),
    ],
)
def test_bad_webhooks_are_refused_with_field_errors(api_a, body, field):
    response = api_a.post("/api/v1/webhooks/", body)

    assert response.status_code == 400, response.content
    assert field in response.json()["errors"]
    assert api_a.get("/api/v1/webhooks/").json()["results"] == []


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/",
        "http://localhost:8000/",
        "http://10.0.0.5/",
        "http://169.254.169.254/latest/",
        "http://[::1]/",
    ],
)
def test_private_and_loopback_receivers_are_refused_unless_allowed(api_a, settings, url):
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = False

    response = api_a.post("/api/v1/webhooks/", {"url": url, "events": []})

    assert response.status_code == 400
    assert "private network" in response.json()["errors"]["url"][0]


def test_a_ping_is_queued_and_listed_in_the_log(api_a, django_capture_on_commit_callbacks):
    hook = register(api_a)

    response = api_a.post(f"/api/v1/webhooks/{hook['id']}/test/")

    assert response.status_code == 202
    assert (response.json()["event"], response.json()["status"], response.json()["attempt"]) == ("ping", "pending", 1)
    log = api_a.get(f"/api/v1/webhooks/{hook['id']}/deliveries/", {"event": "ping"}).json()["results"]
    assert [row["id"] for row in log] == [response.json()["id"]]
    assert api_a.get(f"/api/v1/webhooks/{hook['id']}/deliveries/", {"status": "lost"}).status_code == 400


def test_crm_changes_emit_their_events_to_subscribed_endpoints(api_a, tenant_a):
    everything = register(api_a)
    won_only = register(api_a, ["deal.won"])
    with inside(tenant_a):
        alice = User.objects.select_related("role").get(email=ALICE_EMAIL)
        lead = lead_create(actor=alice, name="Hook Lead", email="hook@example.com")
        lead_convert(actor=alice, lead=lead, deal_title="Hook deal")
        won = deal_create(actor=alice, title="Won deal")
        deal_mark_won(actor=alice, deal=won)
        lost = deal_create(actor=alice, title="Lost deal")
        deal_mark_lost(actor=alice, deal=lost, reason="Price")
        contact_create(actor=alice, first_name="Solo")
        sent_to_all = list(WebhookDelivery.objects.filter(endpoint_id=everything["id"]).order_by("id"))
        sent_to_won = list(WebhookDelivery.objects.filter(endpoint_id=won_only["id"]))

    events = [delivery.event for delivery in sent_to_all]
    assert events.count("lead.created") == 1
    assert events.count("lead.converted") == 1
    assert events.count("contact.created") == 2  # the converted lead's contact and Solo
    assert events.count("deal.created") == 3
    assert events.count("deal.stage_changed") == 2
    assert events.count("deal.won") == 1 and events.count("deal.lost") == 1
    assert [delivery.event for delivery in sent_to_won] == ["deal.won"]
    won_payload = next(d.payload for d in sent_to_all if d.event == "deal.won")
    assert won_payload["data"]["deal"]["title"] == "Won deal"
    assert won_payload["data"]["deal"]["stage"]["kind"] == "won"
    assert all(delivery.status == "pending" for delivery in sent_to_all)


def test_a_switched_off_endpoint_gets_nothing(api_a, tenant_a):
    hook = register(api_a)
    api_a.patch(f"/api/v1/webhooks/{hook['id']}/", {"is_active": False})
    with inside(tenant_a):
        contact_create(actor=None, first_name="Quiet")
        assert not WebhookDelivery.objects.filter(endpoint_id=hook["id"]).exists()


def test_a_sales_rep_cannot_see_or_register_webhooks(tenant_a):
    rep = signed_in(tenant_a, "rita@acme.example")

    assert rep.get("/api/v1/webhooks/").status_code == 403
    assert rep.post("/api/v1/webhooks/", {"url": URL, "events": []}).status_code == 403


def test_webhook_list_queries_are_bounded(api_a, django_assert_max_num_queries):
    for _ in range(5):
        register(api_a)
    with django_assert_max_num_queries(12) as few:
        api_a.get("/api/v1/webhooks/")
    few_queries = len(few.captured_queries)
    for _ in range(10):
        register(api_a)
    with django_assert_max_num_queries(few_queries):
        assert len(api_a.get("/api/v1/webhooks/").json()["results"]) == 15


def test_another_workspaces_webhooks_are_not_found(api_a, api_b):
    hook = register(api_b)

    assert api_a.get(f"/api/v1/webhooks/{hook['id']}/").status_code == 404
    assert api_a.get(f"/api/v1/webhooks/{hook['id']}/deliveries/").status_code == 404
    assert api_a.post(f"/api/v1/webhooks/{hook['id']}/test/").status_code == 404
    assert api_a.patch(f"/api/v1/webhooks/{hook['id']}/", {"url": "http://127.0.0.1:1/"}).status_code == 404
    assert api_a.delete(f"/api/v1/webhooks/{hook['id']}/").status_code == 404
    assert api_a.__class__("globex.localhost:8000", api_a.token).get("/api/v1/webhooks/").status_code == 401
    assert api_b.get(f"/api/v1/webhooks/{hook['id']}/").json()["url"] == URL

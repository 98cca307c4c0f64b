"""Webhook payloads of contacts, leads and deals carry their custom fields, in the API's form."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from crm.clients.services import contact_create
from crm.custom_fields.services import custom_field_create, custom_field_remove
from crm.deals.services import deal_create
from crm.leads.services import lead_convert, lead_create
from crm.webhooks.models import WebhookDelivery
from crm.webhooks.services import webhook_endpoint_create


@pytest.fixture
def private_urls(settings):
    """The receiver is on loopback (nothing is sent: these tests read the stored deliveries)."""
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = True


def _payloads(event: str) -> list[dict]:
    return [delivery.payload["data"] for delivery in WebhookDelivery.objects.filter(event=event).order_by("id")]


def test_created_events_carry_every_live_field(alice, private_urls):
    webhook_endpoint_create(actor=alice, url="http://127.0.0.1:9/crm", events=[])
    custom_field_create(actor=alice, entity="contact", label="Tier", kind="choice", choices=["Gold"])
    custom_field_create(actor=alice, entity="contact", label="Since", kind="date")
    gone = custom_field_create(actor=alice, entity="contact", label="Gone", kind="text")
    custom_field_create(actor=alice, entity="lead", label="Budget", kind="number")
    custom_field_create(actor=alice, entity="deal", label="Seats", kind="number")

    contact_create(actor=alice, last_name="Ivanova", custom_fields={"tier": "Gold", "gone": "x"})
    custom_field_remove(actor=alice, field=gone)
    contact_create(actor=alice, last_name="Petrov", custom_fields={"since": "31.12.2024"})
    lead_create(actor=alice, name="Milton", custom_fields={"budget": "1 000"})
    deal_create(actor=alice, title="TPS", custom_fields={"seats": 12})

    contacts = [data["contact"]["custom_fields"] for data in _payloads("contact.created")]
    assert contacts == [{"tier": "gold", "since": None, "gone": "x"}, {"tier": None, "since": "2024-12-31"}]
    assert _payloads("lead.created")[0]["lead"]["custom_fields"] == {"budget": 1000}
    assert _payloads("deal.created")[0]["deal"]["custom_fields"] == {"seats": 12}


def test_a_conversion_carries_each_records_fields(alice, private_urls):
    webhook_endpoint_create(actor=alice, url="http://127.0.0.1:9/crm", events=["lead.converted"])
    custom_field_create(actor=alice, entity="company", label="Size", kind="number")
    lead = lead_create(actor=alice, name="Anna", company_name="Initech", custom_fields={})

    lead_convert(actor=alice, lead=lead, company_custom_fields={"size": 50})

    (payload,) = _payloads("lead.converted")
    assert payload["company"]["custom_fields"] == {"size": 50}
    assert payload["contact"]["custom_fields"] == {} and payload["deal"]["custom_fields"] == {}


def test_without_endpoints_no_payload_is_built(alice):
    custom_field_create(actor=alice, entity="contact", label="Tier", kind="text")

    with CaptureQueriesContext(connection) as captured:
        contact_create(actor=alice, last_name="Quiet")

    field_reads = [query for query in captured.captured_queries if "custom_fields_customfield" in query["sql"]]
    assert len(field_reads) == 1  # the create's own cleaning, no payload

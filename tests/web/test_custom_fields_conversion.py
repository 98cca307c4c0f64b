"""Creating records in the web UI asks for their custom fields: the lead conversion
dialog (where contacts, companies and deals are created) asks for the required ones
and offers the others, for each record it creates."""

from __future__ import annotations

import pytest

from crm.clients.models import Company, Contact
from crm.clients.services import contact_create
from crm.custom_fields.services import custom_field_create
from crm.deals.models import Deal, Pipeline
from crm.leads.models import Lead, LeadStatus
from crm.leads.services import lead_create

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def lead(alice):
    return lead_create(
        actor=alice, name="Ivan Petrov", email="ivan@roga.example", company_name="Roga i Kopyta", owner=alice
    )


@pytest.fixture
def fields(alice):
    custom_field_create(actor=alice, entity="contact", label="Birthplace", kind="text")
    custom_field_create(actor=alice, entity="company", label="Employees", kind="number", required=True)
    custom_field_create(
        actor=alice, entity="deal", label="Source", kind="choice", choices=["Referral", "Ad"], required=True
    )


def _convert(client, lead, **values):
    data = {
        "contact": "new",
        "company": "new",
        "pipeline": Pipeline.objects.get(is_default=True).pk,
        "deal_title": "Horns",
        "currency": "USD",
        **values,
    }
    return client.post(f"/leads/{lead.pk}/convert/", data, **HTMX)


def test_the_dialog_asks_for_each_new_records_fields(web_alice, lead, fields):
    body = web_alice.get(f"/leads/{lead.pk}/convert/", **HTMX).content.decode()

    assert "The new contact&#x27;s fields" in body or "The new contact's fields" in body
    assert 'name="contact_cf-cf_birthplace"' in body
    assert 'name="company_cf-cf_employees"' in body and 'name="deal_cf-cf_source"' in body
    assert body.count('class="required-mark"') == 2


def test_without_custom_fields_the_dialog_is_unchanged(web_alice, lead):
    body = web_alice.get(f"/leads/{lead.pk}/convert/", **HTMX).content.decode()

    assert "_cf-" not in body


def test_required_fields_left_empty_are_shown_per_record_and_nothing_is_created(web_alice, lead, fields):
    response = _convert(web_alice, lead, **{"contact_cf-cf_birthplace": "Perm"})

    body = response.content.decode()
    assert response.status_code == 200
    assert "“Employees” is required." in body and "“Source” is required." in body
    assert not Deal.objects.exists() and not Contact.objects.exists() and not Company.objects.exists()
    assert Lead.objects.get(pk=lead.pk).status != LeadStatus.CONVERTED


def test_the_values_go_to_the_records_the_conversion_creates(web_alice, lead, fields):
    response = _convert(
        web_alice,
        lead,
        **{"contact_cf-cf_birthplace": "Perm", "company_cf-cf_employees": "1 200", "deal_cf-cf_source": "referral"},
    )

    assert response.status_code == 204, response.content.decode()[:3000]
    deal = Deal.objects.get(title="Horns")
    assert deal.custom_fields == {"source": "referral"}
    assert deal.contact.custom_fields == {"birthplace": "Perm"}
    assert deal.company.custom_fields == {"employees": 1200}


def test_a_linked_existing_contact_keeps_its_own_values(web_alice, alice, lead, fields):
    existing = contact_create(
        actor=alice,
        first_name="Ivan",
        last_name="P.",
        emails=["ivan@roga.example"],
        custom_fields={"birthplace": "Kazan"},
    )

    response = _convert(
        web_alice,
        lead,
        contact=existing.pk,
        company="none",
        **{"contact_cf-cf_birthplace": "Perm", "deal_cf-cf_source": "ad"},
    )

    assert response.status_code == 204, response.content.decode()[:3000]
    assert Contact.objects.get(pk=existing.pk).custom_fields == {"birthplace": "Kazan"}
    assert Deal.objects.get(title="Horns").custom_fields == {"source": "ad"}

"""The lead conversion dialog: duplicates offered, link or create, pipeline, landing on the deal."""

from __future__ import annotations

import pytest

from crm.clients.models import Company, Contact
from crm.clients.services import company_create, contact_create
from crm.deals.models import Deal, Pipeline
from crm.deals.services import pipeline_create
from crm.leads.models import Lead, LeadStatus
from crm.leads.services import lead_create
from tests.conftest import inside


@pytest.fixture
def lead(alice):
    return lead_create(
        actor=alice, name="Ivan Petrov", email="ivan@rogaikopyta.example", company_name="Roga i Kopyta", owner=alice
    )


def test_the_dialog_offers_the_duplicates_found(alice, web_alice, lead, django_assert_max_num_queries):
    company = company_create(actor=alice, name="Roga i Kopyta")
    contact_create(actor=alice, first_name="Ivan", last_name="P.", emails=["ivan@rogaikopyta.example"], company=company)
    with django_assert_max_num_queries(20):
        response = web_alice.get(f"/leads/{lead.pk}/convert/", HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert "Possible duplicates were found" in body
    assert "Ivan P. · Roga i Kopyta · ivan@rogaikopyta.example" in body
    assert "<html" not in body  # a fragment for the dialog
    assert "<html" in web_alice.get(f"/leads/{lead.pk}/convert/").content.decode()  # a page without JavaScript


def test_linking_the_existing_records_lands_on_the_new_deal(alice, web_alice, lead):
    company = company_create(actor=alice, name="Roga i Kopyta")
    contact = contact_create(actor=alice, first_name="Ivan", last_name="P.", emails=["ivan@rogaikopyta.example"])
    other = pipeline_create(actor=alice, name="Partners")
    response = web_alice.post(
        f"/leads/{lead.pk}/convert/",
        {"contact": contact.pk, "company": company.pk, "pipeline": other.pk, "deal_title": "Horns", "currency": "USD"},
        HTTP_HX_REQUEST="true",
    )
    deal = Deal.objects.get(title="Horns")
    assert response.status_code == 204 and response["HX-Redirect"] == f"/deals/{deal.pk}/"
    assert (deal.contact_id, deal.company_id, deal.pipeline_id) == (contact.pk, company.pk, other.pk)
    assert Contact.objects.count() == 1 and Company.objects.count() == 1
    assert Lead.objects.get(pk=lead.pk).status == LeadStatus.CONVERTED


def test_creating_new_records_without_javascript(alice, web_alice, lead):
    pipeline = Pipeline.objects.get(is_default=True)
    response = web_alice.post(
        f"/leads/{lead.pk}/convert/",
        {
            "contact": "new",
            "company": "new",
            "pipeline": pipeline.pk,
            "deal_title": "",
            "amount": "",
            "currency": "USD",
        },
    )
    deal = Deal.objects.get(source_leads=lead)
    assert response.status_code == 302 and response["Location"] == f"/deals/{deal.pk}/"
    assert deal.contact.full_name == "Ivan Petrov" and deal.company.name == "Roga i Kopyta"
    assert "Lead converted" in web_alice.get(response["Location"]).content.decode()


def test_an_id_that_was_not_offered_is_refused(alice, web_alice, lead):
    stranger = contact_create(actor=alice, first_name="Not", last_name="Offered")
    pipeline = Pipeline.objects.get(is_default=True)
    response = web_alice.post(
        f"/leads/{lead.pk}/convert/",
        {"contact": stranger.pk, "company": "none", "pipeline": pipeline.pk, "currency": "USD"},
    )
    assert response.status_code == 200 and 'class="error"' in response.content.decode()
    assert Lead.objects.get(pk=lead.pk).status == LeadStatus.NEW and not Deal.objects.exists()


def test_bad_amount_and_currency_are_field_errors_and_nothing_is_written(alice, web_alice, lead):
    pipeline = Pipeline.objects.get(is_default=True)
    response = web_alice.post(
        f"/leads/{lead.pk}/convert/",
        {"contact": "new", "company": "new", "pipeline": pipeline.pk, "amount": "lots", "currency": "XXX"},
    )
    body = response.content.decode()
    assert response.status_code == 200 and "Enter a number." in body
    assert Lead.objects.get(pk=lead.pk).status == LeadStatus.NEW
    assert not Deal.objects.exists() and not Contact.objects.exists()
    response = web_alice.post(
        f"/leads/{lead.pk}/convert/",
        {"contact": "new", "company": "new", "pipeline": pipeline.pk, "currency": "XXX"},
    )
    assert "three-letter currency code" in response.content.decode()
    assert not Deal.objects.exists() and not Contact.objects.exists() and not Company.objects.exists()


def test_a_converted_lead_card_is_read_only_and_links_the_deal(alice, web_alice, lead):
    pipeline = Pipeline.objects.get(is_default=True)
    web_alice.post(
        f"/leads/{lead.pk}/convert/", {"contact": "new", "company": "none", "pipeline": pipeline.pk, "currency": "USD"}
    )
    deal = Deal.objects.get(source_leads=lead)
    body = web_alice.get(f"/leads/{lead.pk}/").content.decode()
    assert f'href="/deals/{deal.pk}/"' in body and "Convert…" not in body and "?edit=1" not in body
    again = web_alice.post(f"/leads/{lead.pk}/convert/", {"contact": "new", "company": "none", "pipeline": pipeline.pk})
    assert "already been converted" in again.content.decode()


def test_disqualifying_needs_a_reason(alice, web_alice, lead):
    response = web_alice.post(f"/leads/{lead.pk}/disqualify/", {"reason": " "}, follow=True)
    assert "Say why this lead is disqualified." in response.content.decode()
    assert Lead.objects.get(pk=lead.pk).status == LeadStatus.NEW
    web_alice.post(f"/leads/{lead.pk}/disqualify/", {"reason": "Student project"})
    assert Lead.objects.get(pk=lead.pk).status == LeadStatus.DISQUALIFIED


def test_another_workspace_cannot_convert(alice, tenant_a, web_bob):
    with inside(tenant_a):
        lead = lead_create(actor=alice, name="Acme lead", owner=alice)
    assert web_bob.get(f"/leads/{lead.pk}/convert/").status_code == 404
    assert web_bob.post(f"/leads/{lead.pk}/convert/", {"contact": "new"}).status_code == 404
    assert web_bob.post(f"/leads/{lead.pk}/disqualify/", {"reason": "x"}).status_code == 404


def test_a_rep_cannot_convert_a_colleagues_lead(alice, web_rex, lead):
    assert web_rex.get(f"/leads/{lead.pk}/convert/").status_code == 404

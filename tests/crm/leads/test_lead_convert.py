"""lead_convert: one call turns a lead into contact, company and deal, carrying its source."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from crm.activities.models import Activity, ActivityKind, Task, TaskStatus
from crm.clients.models import Company, Contact
from crm.clients.services import company_create, contact_create
from crm.deals.models import Deal, DealStageChange, Pipeline, Stage, StageKind
from crm.errors import Conflict
from crm.leads.models import LeadStatus
from crm.leads.selectors import lead_conversion_candidates
from crm.leads.services import lead_convert, lead_create, lead_disqualify

SOURCE = {
    "utm_source": "yandex",
    "utm_medium": "cpc",
    "utm_campaign": "spring",
    "utm_term": "business consultant",
    "utm_content": "ad_7",
    "source_url": "https://acme.example/consulting?utm_source=yandex",
    "referrer": "https://yandex.ru/search/?text=business+consultant",
}


@pytest.fixture
def lead(alice, rita):
    return lead_create(
        actor=None,
        name="Ivan Petrov",
        phone="+1 212 555 0123",
        email="ivan@romashka.example",
        company_name="Romashka LLC",
        message="Call me after 5pm",
        owner=rita,
        channel="web_form",
        source=SOURCE,
    )


def test_conversion_creates_contact_company_and_deal(rita, lead):
    result = lead_convert(actor=rita, lead=lead)

    contact, company, deal = result.contact, result.company, result.deal
    assert (contact.first_name, contact.last_name) == ("Ivan", "Petrov")
    assert contact.emails == ["ivan@romashka.example"]
    assert contact.phones == ["+12125550123"]
    assert contact.company == company
    assert company.name == "Romashka LLC"
    assert company.website == "https://romashka.example"
    assert (deal.contact, deal.company, deal.owner) == (contact, company, rita)
    assert deal.title == "Romashka LLC"


def test_deal_starts_in_the_first_stage_of_the_default_pipeline(rita, lead):
    deal = lead_convert(actor=rita, lead=lead).deal

    default = Pipeline.objects.get(is_default=True)
    assert deal.pipeline == default
    assert deal.stage == default.stages.order_by("position").first()
    assert DealStageChange.objects.filter(deal=deal, from_stage=None, to_stage=deal.stage).exists()


def test_deal_starts_in_the_first_stage_of_the_chosen_pipeline(rita, lead):
    pipeline = Pipeline.objects.create(name="Partners", position=1)
    first = Stage.objects.create(pipeline=pipeline, name="Intro", position=0, kind=StageKind.OPEN)
    Stage.objects.create(pipeline=pipeline, name="Signed", position=1, kind=StageKind.WON)

    deal = lead_convert(actor=rita, lead=lead, pipeline=pipeline).deal

    assert (deal.pipeline, deal.stage) == (pipeline, first)


def test_deal_carries_all_the_source_data(rita, lead):
    deal = lead_convert(actor=rita, lead=lead).deal

    carried = {field: getattr(deal, field) for field in (*SOURCE, "channel", "search_engine")}
    assert carried == {**SOURCE, "channel": "web_form", "search_engine": "yandex"}


def test_lead_keeps_links_to_what_it_became(rita, lead):
    result = lead_convert(actor=rita, lead=lead)

    lead.refresh_from_db()
    assert lead.status == LeadStatus.CONVERTED
    assert lead.converted_at is not None
    assert (lead.converted_contact, lead.converted_company, lead.converted_deal) == (
        result.contact,
        result.company,
        result.deal,
    )


def test_second_conversion_is_refused(rita, lead):
    lead_convert(actor=rita, lead=lead)

    with pytest.raises(Conflict) as caught:
        lead_convert(actor=rita, lead=lead)

    assert caught.value.code == "already_converted"
    assert Deal.objects.count() == 1
    assert Contact.objects.count() == 1


def test_disqualified_lead_cannot_be_converted(rita, lead):
    lead_disqualify(actor=rita, lead=lead, reason="Student project, no budget")

    with pytest.raises(Conflict) as caught:
        lead_convert(actor=rita, lead=lead)

    assert caught.value.code == "lead_disqualified"
    assert not Deal.objects.exists()


def test_chosen_existing_contact_is_reused(alice, rita, lead):
    company = company_create(actor=alice, owner=rita, name="Romashka")
    existing = contact_create(
        actor=alice, owner=rita, first_name="Ivan", last_name="P.", emails=["ivan@romashka.example"]
    )

    result = lead_convert(actor=rita, lead=lead, existing_contact=existing, create_company=False)

    assert result.contact == existing
    assert Contact.objects.count() == 1
    assert result.deal.contact == existing
    assert result.company is None
    assert Company.objects.get() == company


def test_chosen_contact_gains_the_leads_phone_and_company_but_keeps_its_own(alice, rita, lead):
    existing = contact_create(
        actor=alice, owner=rita, first_name="Ivan", emails=["ivan@romashka.example"], phones=["+12125550999"]
    )

    result = lead_convert(actor=rita, lead=lead, existing_contact=existing)

    existing.refresh_from_db()
    assert existing.emails == ["ivan@romashka.example"]
    assert existing.phones == ["+12125550999", "+12125550123"]
    assert existing.company == result.company
    assert existing.first_name == "Ivan"


def test_existing_contacts_company_is_used_when_the_lead_names_none(alice, rita):
    company = company_create(actor=alice, owner=rita, name="Initech")
    existing = contact_create(actor=alice, owner=rita, first_name="Peter", company=company)
    lead = lead_create(actor=rita, name="Peter", phone="+12125550199")

    result = lead_convert(actor=rita, lead=lead, existing_contact=existing)

    assert result.company == company
    assert result.deal.company == company


def test_company_with_the_same_name_is_reused_rather_than_duplicated(alice, rita, lead):
    company = company_create(actor=alice, owner=rita, name="ROMASHKA llc")

    result = lead_convert(actor=rita, lead=lead)

    assert result.company == company
    assert Company.objects.count() == 1


def test_chosen_existing_company_is_used(alice, rita, lead):
    chosen = company_create(actor=alice, owner=rita, name="Romashka Holding")

    result = lead_convert(actor=rita, lead=lead, existing_company=chosen)

    assert result.company == chosen
    assert result.contact.company == chosen


def test_no_company_is_created_when_asked_not_to(rita, lead):
    result = lead_convert(actor=rita, lead=lead, create_company=False)

    assert result.company is None
    assert not Company.objects.exists()


def test_deal_title_amount_and_currency_can_be_given(rita, lead):
    deal = lead_convert(actor=rita, lead=lead, deal_title="CRM rollout", amount=Decimal("1500.50"), currency="USD").deal

    assert (deal.title, deal.amount, deal.currency) == ("CRM rollout", Decimal("1500.50"), "USD")


def test_bad_amount_is_a_field_error_and_nothing_is_created(rita, lead):
    with pytest.raises(ValidationError) as caught:
        lead_convert(actor=rita, lead=lead, amount="a lot")

    assert "amount" in caught.value.error_dict
    assert not Contact.objects.exists()


def test_unknown_currency_leaves_nothing_behind(rita, lead):
    with pytest.raises(ValidationError):
        lead_convert(actor=rita, lead=lead, currency="XXX")

    assert not Contact.objects.exists()
    assert not Company.objects.exists()
    lead.refresh_from_db()
    assert lead.status == LeadStatus.NEW


def test_conversion_is_all_or_nothing(rita, lead, monkeypatch):
    def deal_storage_down(**kwargs):
        raise RuntimeError("deal storage down")

    monkeypatch.setattr("crm.leads.services.deal_create", deal_storage_down)

    with pytest.raises(RuntimeError):
        lead_convert(actor=rita, lead=lead)

    assert not Contact.objects.exists()
    assert not Company.objects.exists()
    lead.refresh_from_db()
    assert (lead.status, lead.converted_contact) == (LeadStatus.NEW, None)


def test_open_follow_up_task_moves_to_the_new_contact_and_deal(rita, lead):
    result = lead_convert(actor=rita, lead=lead)

    task = Task.objects.get(lead=lead)
    assert task.status == TaskStatus.OPEN
    assert (task.contact, task.deal, task.company) == (result.contact, result.deal, result.company)


def test_conversion_is_on_the_timeline_of_every_record(rita, lead):
    result = lead_convert(actor=rita, lead=lead)

    entry = Activity.objects.get(kind=ActivityKind.LEAD_CONVERTED)
    assert (entry.lead, entry.contact, entry.company, entry.deal) == (lead, result.contact, result.company, result.deal)
    assert entry.author == rita


def test_long_single_word_name_fits_the_contact(rita):
    lead = lead_create(actor=rita, name="X" * 150, phone="+12125550123")

    contact = lead_convert(actor=rita, lead=lead).contact

    assert contact.first_name == "X" * 100


# --- candidates for the conversion dialog -----------------------------------------------------


def test_candidates_are_contacts_sharing_email_or_phone_and_same_named_companies(alice, rita, lead):
    by_email = contact_create(actor=alice, owner=rita, first_name="Ivan", emails=["IVAN@romashka.example"])
    by_phone = contact_create(actor=alice, owner=rita, first_name="Vanya", phones=["(212) 555-0123"])
    contact_create(actor=alice, first_name="Someone", emails=["else@example.com"])
    company = company_create(actor=alice, owner=rita, name="romashka llc")
    company_create(actor=alice, owner=rita, name="Romashka Holding")

    candidates = lead_conversion_candidates(actor=rita, lead=lead)

    assert set(candidates.contacts) == {by_email, by_phone}
    assert candidates.companies == [company]


def test_lead_without_contact_details_has_no_candidates(alice, rita):
    contact_create(actor=alice, first_name="Ivan")
    lead = lead_create(actor=rita, name="Ivan")

    candidates = lead_conversion_candidates(actor=rita, lead=lead)

    assert candidates.contacts == []
    assert candidates.companies == []

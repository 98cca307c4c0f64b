"""Quick search finds records by the custom fields marked searchable, and says which matched."""

from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext

from crm.clients.services import company_create, contact_create
from crm.custom_fields.services import custom_field_create, custom_field_update
from crm.deals.services import deal_create
from crm.leads.services import lead_create
from crm.models import WorkspaceSettings
from crm.search.selectors import SearchKind, quick_search


def _hits(actor, text: str, kind: SearchKind):
    return quick_search(actor=actor, text=text).groups[kind]


def test_a_searchable_text_field_is_matched_in_word_and_named_on_the_hit(alice):
    custom_field_create(actor=alice, entity="contact", label="Contract number", kind="text", searchable=True)
    contact = contact_create(actor=alice, last_name="Ivanova", custom_fields={"contract_number": "AB-2024-0117"})

    (hit,) = _hits(alice, "2024-01", SearchKind.CONTACT)

    assert hit.id == contact.pk
    assert hit.matched == "Contract number"
    assert hit.subtitle == "Contract number: AB-2024-0117"


def test_fields_not_marked_searchable_are_not_searched(alice):
    field = custom_field_create(actor=alice, entity="contact", label="Secret code", kind="text")
    contact_create(actor=alice, last_name="Hidden", custom_fields={"secret_code": "zanzibar"})

    assert _hits(alice, "zanzibar", SearchKind.CONTACT) == []
    custom_field_update(actor=alice, field=field, searchable=True)
    assert len(_hits(alice, "zanzibar", SearchKind.CONTACT)) == 1


def test_a_name_match_comes_first_and_is_not_repeated(alice):
    custom_field_create(actor=alice, entity="contact", label="Nickname", kind="text", searchable=True)
    contact_create(actor=alice, last_name="Zebulon", custom_fields={"nickname": "zebulon the first"})
    contact_create(actor=alice, last_name="Other", custom_fields={"nickname": "zebulon fan"})

    hits = _hits(alice, "zebulon", SearchKind.CONTACT)

    assert [hit.title for hit in hits] == ["Zebulon", "Other"]
    assert [hit.matched for hit in hits] == ["", "Nickname"]


def test_emails_and_phones_in_custom_fields_are_matched_exactly(alice):
    WorkspaceSettings.objects.update_or_create(pk=1, defaults={"default_phone_region": "RU"})
    custom_field_create(actor=alice, entity="company", label="Billing email", kind="email", searchable=True)
    custom_field_create(actor=alice, entity="deal", label="Hotline", kind="phone", searchable=True)
    company = company_create(actor=alice, name="Initech", custom_fields={"billing_email": "Bills@Initech.example"})
    deal = deal_create(actor=alice, title="TPS", custom_fields={"hotline": "+7 912 345-67-89"})

    assert [hit.id for hit in _hits(alice, "bills@initech.example", SearchKind.COMPANY)] == [company.pk]
    (phone_hit,) = _hits(alice, "8 (912) 345 67 89", SearchKind.DEAL)
    assert phone_hit.id == deal.pk and phone_hit.subtitle == "Hotline: 8 (912) 345-67-89"


def test_leads_are_found_by_their_searchable_fields(alice):
    custom_field_create(actor=alice, entity="lead", label="Campaign code", kind="text", searchable=True)
    lead = lead_create(actor=alice, name="Milton", custom_fields={"campaign_code": "SPRING-SALE"})

    assert [hit.id for hit in _hits(alice, "spring", SearchKind.LEAD)] == [lead.pk]


def test_a_rep_finds_only_his_own_records_by_custom_fields(alice, rex):
    custom_field_create(actor=alice, entity="contact", label="Code", kind="text", searchable=True)
    contact_create(actor=alice, last_name="Alices", owner=alice, custom_fields={"code": "shared-word"})
    mine = contact_create(actor=rex, last_name="Rexs", owner=rex, custom_fields={"code": "shared-word"})

    assert [hit.id for hit in _hits(rex, "shared", SearchKind.CONTACT)] == [mine.pk]


def test_searching_costs_one_more_query_for_the_definitions(alice):
    with CaptureQueriesContext(connection) as before:
        quick_search(actor=alice, text="nobody here")
    custom_field_create(actor=alice, entity="contact", label="Code", kind="text", searchable=True)

    with CaptureQueriesContext(connection) as after:
        quick_search(actor=alice, text="nobody here")

    assert len(after) == len(before) + 1  # the contact group's one extra stage

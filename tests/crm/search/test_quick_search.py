"""Quick search across leads, contacts, companies and deals."""

from __future__ import annotations

import pytest

from crm.clients.services import company_create, contact_create
from crm.deals.services import deal_create
from crm.leads.models import Lead
from crm.search.selectors import SearchHit, SearchKind, quick_search
from crm.trash import record_trash
from tests.conftest import inside


def found(results, kind: SearchKind) -> list[str]:
    return [hit.title for hit in results.groups[kind]]


@pytest.fixture
def ivan(alice, region_ru):
    return contact_create(actor=alice, first_name="Ivan", last_name="Petrov", phones=["+7 912 345-67-89"])


# --- phones -------------------------------------------------------------------------


@pytest.mark.parametrize("typed", ["+7 (912) 345-67-89", "8 912 345 67 89", "89123456789", "+79123456789"])
def test_a_phone_in_any_local_format_finds_the_contact(alice, ivan, typed):
    results = quick_search(actor=alice, text=typed)

    assert found(results, SearchKind.CONTACT) == ["Ivan Petrov"]


def test_a_phone_finds_a_lead_and_a_company_too(alice, region_ru):
    Lead.objects.create(name="Website visitor", phone="+79123456789")
    company_create(actor=alice, name="Uralmash", phones=["8 (912) 345-67-89"])

    results = quick_search(actor=alice, text="8 (912) 345 67 89")

    assert found(results, SearchKind.LEAD) == ["Website visitor"]
    assert found(results, SearchKind.COMPANY) == ["Uralmash"]


def test_the_same_digits_mean_another_number_in_another_region(alice, ivan, region_ru):
    region_ru.default_phone_region = "US"
    region_ru.save()

    assert found(quick_search(actor=alice, text="8 912 345 67 89"), SearchKind.CONTACT) == []


# --- emails -------------------------------------------------------------------------


def test_an_email_matches_exactly_whatever_its_case(alice):
    contact_create(actor=alice, last_name="Smith", emails=["john.smith@example.com"])
    company_create(actor=alice, name="Example Inc", emails=["John.Smith@Example.com"])
    Lead.objects.create(name="John from the form", email="John.Smith@example.COM")
    contact_create(actor=alice, last_name="Other", emails=["smith@example.com"])

    results = quick_search(actor=alice, text="JOHN.SMITH@EXAMPLE.COM")

    assert found(results, SearchKind.CONTACT) == ["Smith"]
    assert found(results, SearchKind.COMPANY) == ["Example Inc"]
    assert found(results, SearchKind.LEAD) == ["John from the form"]


# --- names --------------------------------------------------------------------------


def test_a_name_is_found_by_its_start_and_inside_a_word(alice):
    contact_create(actor=alice, first_name="Anna", last_name="Karenina")
    contact_create(actor=alice, first_name="Boris", last_name="Godunov")

    assert found(quick_search(actor=alice, text="ann"), SearchKind.CONTACT) == ["Anna Karenina"]
    assert found(quick_search(actor=alice, text="karen"), SearchKind.CONTACT) == ["Anna Karenina"]
    assert found(quick_search(actor=alice, text="DUNO"), SearchKind.CONTACT) == ["Boris Godunov"]


def test_short_text_matches_only_the_start_of_a_first_or_last_name(alice):
    contact_create(actor=alice, first_name="Anna", last_name="Karenina")
    contact_create(actor=alice, first_name="Boris", last_name="Arkadin")

    assert found(quick_search(actor=alice, text="ar"), SearchKind.CONTACT) == ["Boris Arkadin"]
    assert found(quick_search(actor=alice, text="a"), SearchKind.CONTACT) == ["Anna Karenina", "Boris Arkadin"]


def test_start_matches_come_before_in_word_matches(alice):
    contact_create(actor=alice, first_name="Marianne", last_name="Dashwood")
    contact_create(actor=alice, first_name="Anne", last_name="Elliot")

    titles = found(quick_search(actor=alice, text="anne"), SearchKind.CONTACT)

    assert titles == ["Anne Elliot", "Marianne Dashwood"]


def test_percent_and_underscore_are_plain_characters(alice):
    company_create(actor=alice, name="100% Design")
    company_create(actor=alice, name="1000 Designs")

    assert found(quick_search(actor=alice, text="100%"), SearchKind.COMPANY) == ["100% Design"]


def test_leads_companies_and_deals_are_found_by_name(alice):
    Lead.objects.create(name="Olga Website", company_name="Romashka")
    company_create(actor=alice, name="Olgino Farm")
    deal_create(actor=alice, title="Olgino fence")

    results = quick_search(actor=alice, text="olg")

    assert found(results, SearchKind.LEAD) == ["Olga Website"]
    assert found(results, SearchKind.COMPANY) == ["Olgino Farm"]
    assert found(results, SearchKind.DEAL) == ["Olgino fence"]


def test_a_company_name_finds_its_contacts_and_deals(alice):
    company = company_create(actor=alice, name="Uralmash")
    contact_create(actor=alice, first_name="Pyotr", last_name="Sidorov", company=company)
    deal_create(actor=alice, title="Spare parts", company=company)

    results = quick_search(actor=alice, text="uralm")

    assert found(results, SearchKind.CONTACT) == ["Pyotr Sidorov"]
    assert results.groups[SearchKind.CONTACT][0].subtitle == "Uralmash"
    assert found(results, SearchKind.DEAL) == ["Spare parts"]


# --- shape and limits ---------------------------------------------------------------


def test_hits_are_typed_rows_with_a_key(alice, ivan):
    results = quick_search(actor=alice, text="ivan")

    assert list(results) == [
        SearchHit(
            kind=SearchKind.CONTACT, id=ivan.pk, title="Ivan Petrov", subtitle="+79123456789", key=f"contact/{ivan.pk}"
        )
    ]
    assert set(results.groups) == set(SearchKind)


def test_each_group_is_limited(alice):
    for number in range(12):
        contact_create(actor=alice, first_name="Maria", last_name=f"Number {number:02}")

    results = quick_search(actor=alice, text="maria", limit=5)

    assert len(results.groups[SearchKind.CONTACT]) == 5


def test_blank_text_finds_nothing_without_asking_the_database(alice, django_assert_num_queries):
    with django_assert_num_queries(0):
        results = quick_search(actor=alice, text="   ")

    assert len(results) == 0


# --- never shown --------------------------------------------------------------------


def test_trashed_records_are_never_found(alice, ivan):
    company = company_create(actor=alice, name="Ivanovo Mills")
    lead = Lead.objects.create(name="Ivan from the form")
    deal = deal_create(actor=alice, title="Ivanhoe deal")
    for record in (ivan, company, lead, deal):
        record_trash(actor=alice, record=record)

    results = quick_search(actor=alice, text="ivan")

    assert len(results) == 0


def test_another_workspaces_records_are_never_found(alice, tenant_a, tenant_b):
    with inside(tenant_b):
        contact_create(actor=None, first_name="Ivan", last_name="Globex", emails=["ivan@globex.example"])
        company_create(actor=None, name="Ivanov Globex")
        Lead.objects.create(name="Ivan lead", phone="+79123456789")
        deal_create(actor=None, title="Ivan deal")

    with inside(tenant_a):
        assert len(quick_search(actor=alice, text="ivan")) == 0
        assert len(quick_search(actor=alice, text="ivan@globex.example")) == 0
        assert len(quick_search(actor=alice, text="+79123456789")) == 0


# --- query counts -------------------------------------------------------------------


def test_name_search_runs_a_bounded_number_of_queries(alice, django_assert_max_num_queries):
    company = company_create(actor=alice, name="Nordic Ventures")
    for number in range(10):
        contact_create(actor=alice, first_name="Nora", last_name=f"Nordqvist {number}", company=company)
        deal_create(actor=alice, title=f"Nordic deal {number}", company=company)
        Lead.objects.create(name=f"Nordic lead {number}")

    with django_assert_max_num_queries(10):
        results = quick_search(actor=alice, text="nord")
        rows = [(hit.title, hit.subtitle) for hit in results]

    assert len(rows) == 8 + 8 + 1 + 8


def test_phone_search_runs_a_bounded_number_of_queries(alice, ivan, django_assert_max_num_queries):
    # settings (the phone region), the searchable custom fields, savepoint, SET LOCAL,
    # company ids, lead ids, contact ids and the one contact's row, release
    with django_assert_max_num_queries(9):
        results = quick_search(actor=alice, text="8 912 345 67 89")

    assert len(results) == 1


def test_a_switched_off_user_finds_nothing(alice, rex, ivan):
    rex.is_active = False
    rex.save()

    assert len(quick_search(actor=rex, text="ivan")) == 0

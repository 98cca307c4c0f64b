"""Reading companies and contacts: lists with filters, single records, possible duplicates."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from crm.clients.models import Contact
from crm.clients.selectors import company_get, company_list, contact_get, contact_list, duplicate_groups
from crm.clients.services import company_create, contact_create
from crm.errors import RecordNotFound
from crm.models import Tag
from crm.trash import record_trash
from tests.conftest import inside


def names(queryset) -> list[str]:
    return [str(record) for record in queryset]


# --- contact_list -------------------------------------------------------------------


def test_contact_list_is_ordered_by_name_and_hides_the_trash(alice):
    contact_create(actor=alice, first_name="Zoe", last_name="Young")
    contact_create(actor=alice, first_name="Adam", last_name="Ant")
    gone = contact_create(actor=alice, first_name="Bob", last_name="Gone")
    record_trash(actor=alice, record=gone)

    assert names(contact_list(actor=alice)) == ["Adam Ant", "Zoe Young"]
    assert names(contact_list(actor=alice, ordering="-name")) == ["Zoe Young", "Adam Ant"]


def test_contact_list_filters_by_owner_tag_and_company(alice, rex):
    company = company_create(actor=alice, name="Acme Supplies")
    contact_create(actor=alice, last_name="Mine", tags=["VIP"], company=company)
    contact_create(actor=alice, last_name="Rexs", owner=rex, tags=["VIP"])
    contact_create(actor=alice, last_name="Plain")
    vip = Tag.objects.get(name="VIP")

    assert names(contact_list(actor=alice, owner=rex)) == ["Rexs"]
    assert names(contact_list(actor=alice, tag=vip)) == ["Mine", "Rexs"]
    assert names(contact_list(actor=alice, tag=vip.pk, company=company)) == ["Mine"]


def test_contact_list_filters_by_creation_dates(alice):
    old = contact_create(actor=alice, last_name="Old")
    Contact.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=10))
    contact_create(actor=alice, last_name="New")
    today = timezone.localdate()

    assert names(contact_list(actor=alice, created_from=today)) == ["New"]
    assert names(contact_list(actor=alice, created_to=today - timedelta(days=5))) == ["Old"]


def test_contact_list_searches_name_start_in_word_email_and_phone(alice, region_ru):
    contact_create(actor=alice, first_name="Anna", last_name="Karenina", emails=["anna@rails.example"])
    contact_create(actor=alice, first_name="Ivan", last_name="Petrov", phones=["+79123456789"])

    assert names(contact_list(actor=alice, search="an")) == ["Anna Karenina"]
    assert names(contact_list(actor=alice, search="pe")) == ["Ivan Petrov"]
    assert names(contact_list(actor=alice, search="aren")) == ["Anna Karenina"]
    assert names(contact_list(actor=alice, search="ANNA@Rails.example")) == ["Anna Karenina"]
    assert names(contact_list(actor=alice, search="8 912 345-67-89")) == ["Ivan Petrov"]


def test_unknown_ordering_is_a_field_error(alice):
    with pytest.raises(ValidationError) as caught:
        contact_list(actor=alice, ordering="password")

    assert caught.value.error_dict["ordering"][0].code == "invalid_choice"


def test_contact_list_needs_two_queries_whatever_the_page_size(alice, django_assert_max_num_queries):
    company = company_create(actor=alice, name="Acme Supplies")
    for number in range(15):
        contact_create(actor=alice, last_name=f"Person {number}", company=company, tags=["VIP", f"t{number}"])

    with django_assert_max_num_queries(2):
        rows = [
            (contact.full_name, contact.company.name, contact.owner.email, [tag.name for tag in contact.tags.all()])
            for contact in contact_list(actor=alice)
        ]

    assert len(rows) == 15


def test_company_list_needs_two_queries(alice, django_assert_max_num_queries):
    for number in range(15):
        company_create(actor=alice, name=f"Company {number}", tags=["Partner"])

    with django_assert_max_num_queries(2):
        rows = [
            (company.name, company.owner.email, [tag.name for tag in company.tags.all()])
            for company in company_list(actor=alice)
        ]

    assert len(rows) == 15


def test_company_list_searches_and_filters(alice, rex):
    company_create(actor=alice, name="Northwind Traders", emails=["sales@northwind.example"])
    company_create(actor=alice, name="Contoso", owner=rex)

    assert names(company_list(actor=alice, search="wind")) == ["Northwind Traders"]
    assert names(company_list(actor=alice, search="co")) == ["Contoso"]
    assert names(company_list(actor=alice, search="Sales@Northwind.example")) == ["Northwind Traders"]
    assert names(company_list(actor=alice, owner=rex)) == ["Contoso"]


def test_lists_never_show_another_workspaces_records(alice, tenant_a, tenant_b):
    with inside(tenant_b):
        contact_create(actor=None, last_name="Globex person")
        company_create(actor=None, name="Globex subsidiary")
    with inside(tenant_a):
        assert names(contact_list(actor=alice)) == []
        assert names(company_list(actor=alice)) == []


# --- single records -----------------------------------------------------------------


def test_contact_get_returns_the_contact_with_its_company(alice, django_assert_max_num_queries):
    company = company_create(actor=alice, name="Acme Supplies")
    contact = contact_create(actor=alice, last_name="Smith", company=company, tags=["VIP"])

    with django_assert_max_num_queries(2):
        found = contact_get(actor=alice, contact_id=contact.pk)
        assert found.company.name == "Acme Supplies"
        assert [tag.name for tag in found.tags.all()] == ["VIP"]


def test_contact_get_of_a_trashed_or_missing_contact_is_not_found(alice):
    contact = contact_create(actor=alice, last_name="Smith")
    record_trash(actor=alice, record=contact)

    with pytest.raises(RecordNotFound):
        contact_get(actor=alice, contact_id=contact.pk)
    with pytest.raises(RecordNotFound):
        contact_get(actor=alice, contact_id=10**9)


def test_contact_get_cannot_read_another_workspaces_contact(alice, tenant_a, tenant_b):
    with inside(tenant_b):
        theirs = contact_create(actor=None, last_name="Globex person")
    with inside(tenant_a), pytest.raises(RecordNotFound):
        contact_get(actor=alice, contact_id=theirs.pk)


def test_company_get_of_a_missing_company_is_not_found(alice):
    company = company_create(actor=alice, name="Acme Supplies")

    assert company_get(actor=alice, company_id=company.pk) == company
    with pytest.raises(RecordNotFound):
        company_get(actor=alice, company_id=company.pk + 1000)


# --- possible duplicates ------------------------------------------------------------


def test_duplicate_groups_join_contacts_sharing_an_email_or_a_phone(alice):
    first = contact_create(actor=alice, last_name="One", emails=["shared@example.com"])
    second = contact_create(actor=alice, last_name="Two", emails=["shared@example.com"], phones=["+12025550123"])
    third = contact_create(actor=alice, last_name="Three", phones=["+12025550123"])
    pair_a = contact_create(actor=alice, last_name="Four", phones=["+12025550999"])
    pair_b = contact_create(actor=alice, last_name="Five", phones=["+12025550999"])
    contact_create(actor=alice, last_name="Alone", emails=["alone@example.com"])

    groups = duplicate_groups(actor=alice)

    assert [[contact.pk for contact in group.contacts] for group in groups] == [
        [first.pk, second.pk, third.pk],
        [pair_a.pk, pair_b.pk],
    ]
    assert groups[0].shared_emails == ["shared@example.com"]
    assert groups[0].shared_phones == ["+12025550123"]


def test_duplicate_groups_ignore_the_trash(alice):
    contact_create(actor=alice, last_name="One", emails=["shared@example.com"])
    gone = contact_create(actor=alice, last_name="Two", emails=["shared@example.com"])
    record_trash(actor=alice, record=gone)

    assert duplicate_groups(actor=alice) == []


def test_duplicate_groups_take_three_queries(alice, django_assert_max_num_queries):
    for number in range(10):
        contact_create(actor=alice, last_name=f"Twin {number}", emails=[f"twin{number % 5}@example.com"])

    with django_assert_max_num_queries(3):
        groups = duplicate_groups(actor=alice)
        assert [len(group.contacts) for group in groups] == [2, 2, 2, 2, 2]


def test_a_switched_off_user_sees_no_duplicates(alice, rex):
    contact_create(actor=alice, last_name="One", emails=["shared@example.com"])
    contact_create(actor=alice, last_name="Two", emails=["shared@example.com"])
    rex.is_active = False
    rex.save()

    assert duplicate_groups(actor=rex) == []
    assert names(contact_list(actor=rex)) == []


def test_duplicate_groups_since_a_time_only_involve_recently_changed_contacts(alice):
    old_a = contact_create(actor=alice, last_name="Old A", emails=["old@example.com"])
    old_b = contact_create(actor=alice, last_name="Old B", emails=["old@example.com"])
    long_ago = timezone.now() - timedelta(days=60)
    Contact.objects.filter(pk__in=[old_a.pk, old_b.pk]).update(updated_at=long_ago)
    veteran = contact_create(actor=alice, last_name="Veteran", phones=["+12025550123"])
    Contact.objects.filter(pk=veteran.pk).update(updated_at=long_ago)
    newcomer = contact_create(actor=alice, last_name="Newcomer", phones=["+1 202 555 0123"])

    groups = duplicate_groups(actor=alice, changed_since=timezone.now() - timedelta(days=1))

    assert [[contact.pk for contact in group.contacts] for group in groups] == [[veteran.pk, newcomer.pk]]
    assert groups[0].shared_phones == ["+12025550123"]


def test_contact_list_email_search_is_one_lookup_then_the_page(alice, django_assert_max_num_queries):
    contact_create(actor=alice, last_name="Smith", emails=["john@example.com"], tags=["VIP"])

    with django_assert_max_num_queries(3):
        assert names(contact_list(actor=alice, search="JOHN@example.com")) == ["Smith"]

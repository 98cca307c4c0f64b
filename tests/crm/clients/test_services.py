"""Creating and updating companies and contacts: cleaning, field errors, partial updates."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from crm.clients.models import Contact
from crm.clients.services import company_create, company_update, contact_create, contact_update
from crm.errors import RecordNotFound
from crm.trash import record_trash
from tests.conftest import inside


def codes(error: ValidationError) -> dict[str, list[str]]:
    return {field: [item.code for item in items] for field, items in error.error_dict.items()}


# --- create -------------------------------------------------------------------------


def test_contact_create_cleans_emails_phones_and_name(alice, region_ru):
    contact = contact_create(
        actor=alice,
        first_name="  Ivan ",
        last_name=" Petrov",
        emails=["Ivan.Petrov@Example.COM", "ivan.petrov@example.com", ""],
        phones=["8 (912) 345-67-89", "+7 912 345 67 89"],
    )

    assert contact.full_name == "Ivan Petrov"
    assert contact.emails == ["ivan.petrov@example.com"]
    assert contact.phones == ["+79123456789"]
    assert contact.owner == alice
    assert contact.created_by == alice


def test_contact_create_reports_every_bad_field_with_a_code(alice):
    with pytest.raises(ValidationError) as caught:
        contact_create(actor=alice, first_name=" ", emails=["not-an-email"], phones=["call me"])

    assert codes(caught.value) == {
        "emails": ["invalid_email"],
        "phones": ["invalid_phone"],
        "last_name": ["required"],
    }


def test_contact_create_refuses_a_trashed_company_and_a_future_birthday(alice):
    company = company_create(actor=alice, name="Gone Ltd")
    record_trash(actor=alice, record=company)

    with pytest.raises(ValidationError) as caught:
        contact_create(
            actor=alice, last_name="Smith", company=company, birthday=timezone.localdate() + timedelta(days=1)
        )

    assert codes(caught.value) == {"company": ["trashed"], "birthday": ["invalid"]}


def test_company_create_requires_a_name(alice):
    with pytest.raises(ValidationError) as caught:
        company_create(actor=alice, name="   ")

    assert codes(caught.value) == {"name": ["required"]}


def test_company_create_gives_a_bare_website_a_scheme_and_refuses_nonsense(alice):
    company = company_create(actor=alice, name="Acme Supplies", website="acme-supplies.example")

    assert company.website == "https://acme-supplies.example"
    with pytest.raises(ValidationError) as caught:
        company_create(actor=alice, name="Other", website="not a website", country="Russia")
    assert codes(caught.value) == {"website": ["invalid_url"], "country": ["invalid_country"]}


def test_too_long_text_is_a_field_error_not_a_database_error(alice):
    with pytest.raises(ValidationError) as caught:
        contact_create(actor=alice, last_name="x" * 101, job_title="y" * 151)

    assert codes(caught.value) == {"last_name": ["max_length"], "job_title": ["max_length"]}


def test_create_with_tags_links_them(alice):
    contact = contact_create(actor=alice, last_name="Tagged", tags=["VIP", "partner"])

    assert sorted(tag.name for tag in contact.tags.all()) == ["VIP", "partner"]


# --- update -------------------------------------------------------------------------


def test_contact_update_changes_only_given_fields_and_recomputes_the_name(alice, rex, region_ru):
    contact = contact_create(
        actor=alice, first_name="Ivan", last_name="Petrov", job_title="CEO", emails=["a@b.example"], owner=rex
    )

    updated = contact_update(actor=rex, contact=contact, last_name="Sidorov", phones=["89123456789"])

    assert updated.full_name == "Ivan Sidorov"
    assert updated.phones == ["+79123456789"]
    assert updated.job_title == "CEO"
    assert updated.emails == ["a@b.example"]
    assert updated.updated_by == rex
    assert Contact.objects.get(pk=contact.pk).full_name == "Ivan Sidorov"


def test_contact_update_refuses_removing_both_names(alice):
    contact = contact_create(actor=alice, first_name="Ivan", last_name="Petrov")

    with pytest.raises(ValidationError) as caught:
        contact_update(actor=alice, contact=contact, first_name="", last_name=" ")

    assert codes(caught.value) == {"last_name": ["required"]}
    assert Contact.objects.get(pk=contact.pk).full_name == "Ivan Petrov"


def test_contact_update_reports_bad_email_and_phone_and_changes_nothing(alice):
    contact = contact_create(actor=alice, last_name="Petrov", emails=["old@example.com"])

    with pytest.raises(ValidationError) as caught:
        contact_update(actor=alice, contact=contact, emails=["new@example.com", "broken@"], phones=["12"])

    assert codes(caught.value) == {"emails": ["invalid_email"], "phones": ["invalid_phone"]}
    assert Contact.objects.get(pk=contact.pk).emails == ["old@example.com"]


def test_contact_update_can_clear_the_company(alice):
    company = company_create(actor=alice, name="Acme Supplies")
    contact = contact_create(actor=alice, last_name="Petrov", company=company)

    updated = contact_update(actor=alice, contact=contact, company=None)

    assert updated.company is None


def test_contact_update_of_a_trashed_contact_is_not_found(alice):
    contact = contact_create(actor=alice, last_name="Petrov")
    record_trash(actor=alice, record=contact)

    with pytest.raises(RecordNotFound):
        contact_update(actor=alice, contact=contact, job_title="CTO")


def test_company_update_lowercases_emails_and_refuses_a_blank_name(alice):
    company = company_create(actor=alice, name="Acme Supplies")

    updated = company_update(actor=alice, company=company, emails=["Sales@Acme.EXAMPLE"], industry="Retail")
    assert updated.emails == ["sales@acme.example"]
    assert updated.industry == "Retail"
    assert updated.name == "Acme Supplies"

    with pytest.raises(ValidationError) as caught:
        company_update(actor=alice, company=company, name="")
    assert codes(caught.value) == {"name": ["required"]}


def test_update_replaces_tags(alice):
    company = company_create(actor=alice, name="Acme Supplies", tags=["old"])

    company_update(actor=alice, company=company, tags=["New", "other"])

    assert sorted(tag.name for tag in company.tags.all()) == ["New", "other"]


def test_update_in_another_workspace_cannot_reach_the_record(alice, tenant_b):
    contact = contact_create(actor=alice, last_name="Petrov")

    with inside(tenant_b), pytest.raises(RecordNotFound):
        contact_update(actor=None, contact=contact, job_title="Spy")

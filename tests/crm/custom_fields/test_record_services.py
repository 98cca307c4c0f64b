"""The create and update services of contacts, companies, leads and deals take
`custom_fields`: cleaned, required on a person's create, kept when removed, in history."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from crm.clients.models import Contact
from crm.clients.services import (
    company_create,
    company_update,
    contact_create,
    contact_update,
    contacts_merge,
)
from crm.custom_fields.models import CustomField
from crm.custom_fields.services import custom_field_create, custom_field_remove
from crm.deals.services import deal_create, deal_update
from crm.history.models import FieldChange
from crm.leads.services import lead_convert, lead_create, lead_update


def codes(error: ValidationError) -> dict[str, list[str]]:
    return {name: [problem.code for problem in problems] for name, problems in error.error_dict.items()}


@pytest.fixture
def fields(alice) -> dict[str, CustomField]:
    return {
        "code": custom_field_create(actor=alice, entity="contact", label="Code", kind="text", required=True),
        "tier": custom_field_create(
            actor=alice, entity="contact", label="Tier", kind="choice", choices=["Gold", "Silver"]
        ),
        "since": custom_field_create(actor=alice, entity="contact", label="Since", kind="date"),
    }


def test_a_persons_create_must_fill_the_required_fields(alice, fields):
    with pytest.raises(ValidationError) as error:
        contact_create(actor=alice, last_name="Ivanova", custom_fields={"tier": "Gold"})

    assert codes(error.value) == {"custom_fields.code": ["required"]}
    assert not Contact.objects.filter(last_name="Ivanova").exists()


def test_a_record_made_from_another_skips_the_required_check(alice, fields):
    contact = contact_create(actor=alice, last_name="From a lead")

    assert contact.custom_fields == {}


def test_values_are_stored_cleaned(alice, fields):
    contact = contact_create(
        actor=alice, last_name="Ivanova", custom_fields={"code": " A-1 ", "tier": "silver", "since": "31.12.2024"}
    )

    assert Contact.objects.get(pk=contact.pk).custom_fields == {"code": "A-1", "tier": "silver", "since": "2024-12-31"}


def test_field_errors_come_with_the_records_own_and_nothing_is_written(alice, fields):
    with pytest.raises(ValidationError) as error:
        contact_create(actor=alice, emails=["nope"], custom_fields={"code": "A", "since": "soon", "extra": 1})

    assert codes(error.value) == {
        "emails": ["invalid_email"],
        "last_name": ["required"],
        "custom_fields.since": ["invalid"],
        "custom_fields.extra": ["unknown_field"],
    }


def test_an_update_changes_only_the_keys_given_and_records_their_history(alice, fields):
    contact = contact_create(actor=alice, last_name="Ivanova", custom_fields={"code": "A", "tier": "gold"})

    contact_update(actor=alice, contact=contact, custom_fields={"tier": "Silver", "since": "2024-01-02"})

    assert Contact.objects.get(pk=contact.pk).custom_fields == {"code": "A", "tier": "silver", "since": "2024-01-02"}
    changes = {
        change.field: (change.old_value, change.new_value)
        for change in FieldChange.objects.filter(record_type="contact", record_id=contact.pk)
    }
    assert changes == {"custom_fields.tier": ("gold", "silver"), "custom_fields.since": (None, "2024-01-02")}


def test_an_update_may_leave_a_required_field_empty_but_not_clear_it(alice, fields):
    older = contact_create(actor=alice, last_name="Before the rule")

    contact_update(actor=alice, contact=older, custom_fields={"tier": "gold"})
    filled = contact_create(actor=alice, last_name="After", custom_fields={"code": "B"})
    with pytest.raises(ValidationError) as error:
        contact_update(actor=alice, contact=filled, custom_fields={"code": ""})

    assert Contact.objects.get(pk=older.pk).custom_fields == {"tier": "gold"}
    assert codes(error.value) == {"custom_fields.code": ["required"]}


def test_a_removed_fields_values_survive_updates(alice, fields):
    contact = contact_create(actor=alice, last_name="Ivanova", custom_fields={"code": "A", "tier": "gold"})
    custom_field_remove(actor=alice, field=fields["tier"])

    contact_update(actor=alice, contact=contact, custom_fields={"code": "B"})

    assert Contact.objects.get(pk=contact.pk).custom_fields == {"code": "B", "tier": "gold"}
    with pytest.raises(ValidationError) as error:
        contact_update(actor=alice, contact=contact, custom_fields={"tier": "silver"})
    assert codes(error.value) == {"custom_fields.tier": ["unknown_field"]}


def test_companies_leads_and_deals_have_fields_of_their_own(alice):
    for entity in ("company", "lead", "deal"):
        custom_field_create(actor=alice, entity=entity, label="Budget", kind="money", currency="EUR")

    company = company_create(actor=alice, name="Initech", custom_fields={"budget": "1 000"})
    lead = lead_create(actor=alice, name="Milton", custom_fields={"budget": 5})
    deal = deal_create(actor=alice, title="TPS", custom_fields={"budget": "2,5"})
    company_update(actor=alice, company=company, custom_fields={"budget": None})
    lead_update(actor=alice, lead=lead, custom_fields={"budget": "7"})
    deal_update(actor=alice, deal=deal, custom_fields={"budget": 9.999})

    company.refresh_from_db()
    lead.refresh_from_db()
    deal.refresh_from_db()
    assert (company.custom_fields, lead.custom_fields, deal.custom_fields) == ({}, {"budget": 7}, {"budget": 10})
    with pytest.raises(ValidationError) as error:
        deal_update(actor=alice, deal=deal, custom_fields={"code": "A"})  # a contact's field, not a deal's
    assert codes(error.value) == {"custom_fields.code": ["unknown_field"]}


def test_a_website_lead_skips_the_required_check(alice):
    custom_field_create(actor=alice, entity="lead", label="Budget", kind="number", required=True)

    assert lead_create(actor=None, name="From the website").custom_fields == {}
    with pytest.raises(ValidationError):
        lead_create(actor=alice, name="Typed in", custom_fields={})


def test_converting_a_lead_skips_the_required_fields_of_the_new_records(alice, fields):
    lead = lead_create(actor=alice, name="Anna Petrova", company_name="Initech")

    conversion = lead_convert(actor=alice, lead=lead)

    assert conversion.contact.custom_fields == {}


def test_merging_keeps_the_values_the_primary_lacks(alice, fields):
    primary = contact_create(actor=alice, last_name="Petrov", custom_fields={"code": "P", "tier": "gold"})
    duplicate = contact_create(
        actor=alice, last_name="Petrov", custom_fields={"code": "D", "tier": "silver", "since": "2020-05-05"}
    )

    contacts_merge(actor=alice, primary=primary, duplicates=[duplicate])

    assert Contact.objects.get(pk=primary.pk).custom_fields == {"code": "P", "tier": "gold", "since": "2020-05-05"}


def test_a_persons_conversion_fills_the_new_records_fields_and_reports_each_records_problems(alice, fields):
    custom_field_create(actor=alice, entity="deal", label="Code", kind="text", required=True)
    lead = lead_create(actor=alice, name="Anna Petrova")

    with pytest.raises(ValidationError) as error:
        lead_convert(actor=alice, lead=lead, contact_custom_fields={"tier": "nope"}, deal_custom_fields={})
    conversion = lead_convert(
        actor=alice, lead=lead, contact_custom_fields={"code": "C-1"}, deal_custom_fields={"code": "D-1"}
    )

    assert codes(error.value) == {
        "contact.custom_fields.tier": ["invalid_choice"],
        "contact.custom_fields.code": ["required"],
        "deal.custom_fields.code": ["required"],
    }
    assert (conversion.contact.custom_fields, conversion.deal.custom_fields) == ({"code": "C-1"}, {"code": "D-1"})

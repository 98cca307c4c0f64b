"""The update services record exactly what changed: old → new, per field, in their transaction."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction

from crm.clients.services import company_create, company_update, contact_update
from crm.custom_fields.services import custom_field_create
from crm.deals.services import deal_create, deal_update
from crm.history.models import FieldChange
from crm.leads.services import lead_create, lead_update
from crm.tags import record_tags_set
from tests.crm.history.conftest import changed, history_of


def test_a_contact_update_records_each_changed_field_old_and_new(alice, contact):
    contact_update(actor=alice, contact=contact, job_title="CFO", birthday=date(1980, 5, 17), phones=["+14155550100"])

    assert sorted(changed(contact)) == [
        ("birthday", None, "1980-05-17"),
        ("job_title", "CEO", "CFO"),
        ("phones", [], ["+14155550100"]),
    ]


def test_fields_given_with_their_current_value_are_not_recorded(alice, contact):
    contact_update(actor=alice, contact=contact, job_title="CEO", first_name="Peter", emails=[])

    assert history_of(contact) == []


def test_a_value_cleaned_back_to_the_current_one_is_no_change(alice, contact):
    # The service strips and collapses spaces: "  CEO " is the CEO already stored.
    contact_update(actor=alice, contact=contact, job_title="  CEO ")

    assert history_of(contact) == []


def test_a_reference_is_recorded_by_id_with_the_name_it_had(alice, contact, company):
    other = company_create(actor=alice, name="Initrode")

    contact_update(actor=alice, contact=contact, company=other)
    company_update(actor=alice, company=company, name="Initech Global")

    (row,) = history_of(contact)
    assert (row.field, row.old_value, row.new_value) == ("company", company.pk, other.pk)
    assert (row.old_label, row.new_label) == ("Initech", "Initrode")


def test_the_owner_is_recorded_with_the_persons_name(alice, rex, contact):
    contact_update(actor=alice, contact=contact, owner=rex)

    (row,) = history_of(contact)
    assert (row.field, row.old_value, row.new_value) == ("owner", alice.pk, rex.pk)
    assert (row.old_label, row.new_label) == ("Alice Adams", "Rex Rep")


def test_clearing_a_reference_records_it_with_an_empty_new_side(alice, contact, company):
    contact_update(actor=alice, contact=contact, company=None)

    (row,) = history_of(contact)
    assert (row.old_value, row.new_value, row.old_label, row.new_label) == (company.pk, None, "Initech", "")


def test_custom_fields_are_recorded_one_key_at_a_time(alice, contact, tier):
    custom_field_create(actor=alice, entity="contact", label="Score", kind="number", key="score")
    contact_update(actor=alice, contact=contact, custom_fields={"tier": "gold", "score": "12"})

    contact_update(actor=alice, contact=contact, custom_fields={"tier": "silver"})

    assert changed(contact) == [
        ("custom_fields.score", None, 12),
        ("custom_fields.tier", None, "gold"),
        ("custom_fields.tier", "gold", "silver"),
    ]


def test_clearing_a_custom_field_records_its_old_value(alice, contact, tier):
    contact_update(actor=alice, contact=contact, custom_fields={"tier": "gold"})

    contact_update(actor=alice, contact=contact, custom_fields={"tier": ""})

    assert changed(contact)[-1] == ("custom_fields.tier", "gold", None)


def test_tags_are_recorded_as_one_field_with_the_whole_set(alice, contact):
    contact_update(actor=alice, contact=contact, tags=["VIP", "Partner"])

    contact_update(actor=alice, contact=contact, tags=["vip"])

    assert changed(contact) == [("tags", [], ["Partner", "VIP"]), ("tags", ["Partner", "VIP"], ["VIP"])]


def test_setting_the_same_tags_in_another_case_is_no_change(alice, contact):
    record_tags_set(actor=alice, record=contact, tags=["VIP"])

    record_tags_set(actor=alice, record=contact, tags=["vip", "VIP"])

    assert changed(contact) == [("tags", [], ["VIP"])]


def test_a_new_records_own_values_are_not_history(alice, contact, tier):
    company = company_create(actor=alice, name="Globodyne", tags=["New"], custom_fields={})
    lead = lead_create(actor=alice, name="Ann Lead", tags=["Web"])

    assert history_of(contact) == history_of(company) == history_of(lead) == []


def test_a_company_update_records_its_fields(alice, company):
    company_update(actor=alice, company=company, website="initech.example", city="Austin")

    assert sorted(changed(company)) == [("city", "", "Austin"), ("website", "", "https://initech.example")]


def test_a_lead_update_records_its_fields_and_owner(alice, rex):
    lead = lead_create(actor=alice, name="Ann Lead", email="ann@example.com")

    lead_update(actor=alice, lead=lead, email="ann@initech.example", owner=rex, tags=["Hot"])

    assert sorted(changed(lead)) == [
        ("email", "ann@example.com", "ann@initech.example"),
        ("owner", alice.pk, rex.pk),
        ("tags", [], ["Hot"]),
    ]


def test_a_deal_update_records_amount_with_its_currency_and_not_the_base_amount(alice, contact, euro):
    deal = deal_create(actor=alice, title="Website", amount=Decimal("1000"), currency="USD", contact=contact)

    deal_update(actor=alice, deal=deal, amount=Decimal("1200.5"), currency="EUR", title="Website 2.0")

    rows = {row.field: row for row in history_of(deal)}
    assert set(rows) == {"amount", "currency", "title"}
    assert (rows["amount"].old_value, rows["amount"].new_value) == ("1000.00", "1200.50")
    assert (rows["amount"].old_label, rows["amount"].new_label) == ("USD", "EUR")
    assert (rows["currency"].old_value, rows["currency"].new_value) == ("USD", "EUR")


def test_an_amount_given_in_another_form_is_no_change(alice):
    deal = deal_create(actor=alice, title="Website", amount=Decimal("1000"), currency="USD")

    deal_update(actor=alice, deal=deal, amount=Decimal("1000.000"))

    assert history_of(deal) == []


def test_a_refused_update_records_nothing(alice, contact):
    with pytest.raises(ValidationError):
        contact_update(actor=alice, contact=contact, job_title="CFO", emails=["not an email"])

    assert history_of(contact) == []
    contact.refresh_from_db()
    assert contact.job_title == "CEO"


def test_history_rolls_back_with_the_change_it_belongs_to(alice, contact):
    with pytest.raises(RuntimeError), transaction.atomic():
        contact_update(actor=alice, contact=contact, job_title="CFO")
        assert changed(contact) == [("job_title", "CEO", "CFO")]
        raise RuntimeError("the caller's transaction fails later")

    assert history_of(contact) == []


def test_the_rows_of_one_save_share_one_time(alice, contact):
    contact_update(actor=alice, contact=contact, job_title="CFO", first_name="Pete", city="Austin")

    assert len({row.created_at for row in history_of(contact)}) == 1


def test_the_actor_and_their_email_are_kept_with_each_change(alice, contact):
    contact_update(actor=alice, contact=contact, job_title="CFO")

    (row,) = history_of(contact)
    assert row.actor == alice
    assert row.actor_label == "alice@acme.example"


def test_a_change_by_the_system_has_no_actor(alice, contact):
    contact_update(actor=None, contact=contact, job_title="CFO")

    (row,) = FieldChange.objects.filter(record_id=contact.pk, record_type="contact")
    assert (row.actor, row.actor_label, row.channel) == (None, "", "system")

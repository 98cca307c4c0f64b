"""The benchmark volume loader: COPY, valid rows, indexes and keys back in place."""

from __future__ import annotations

import phonenumbers
import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import Count, Max, OuterRef, Subquery

from crm.activities.models import Activity
from crm.clients.models import Company, Contact
from crm.deals.models import Deal, DealStageChange
from crm.demo.services import demo_bulk_load
from crm.leads.models import Lead


def index_and_key_names() -> set[str]:
    tables = [model._meta.db_table for model in (Company, Contact, Lead, Deal, DealStageChange, Activity)]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema() AND tablename = ANY(%s) "
            "UNION ALL SELECT conname FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid "
            "WHERE t.relnamespace = current_schema()::regnamespace AND t.relname = ANY(%s)",
            [tables, tables],
        )
        return {name for (name,) in cursor.fetchall()}


@pytest.fixture
def loaded(acme):
    return demo_bulk_load(contacts=1000, leads=300, deals=400, activities=2000, seed=11)


def test_load_writes_the_requested_rows(loaded):
    assert Contact.objects.count() == 1000
    assert Company.objects.count() == 50
    assert Lead.objects.count() == 300
    assert Deal.objects.count() == 400
    assert Activity.objects.count() == 2000
    assert loaded.counts["contact"] == 1000


def test_contact_phones_are_valid_e164_and_unique(loaded):
    phones = [phone for row in Contact.objects.values_list("phones", flat=True) for phone in row]

    assert len(phones) == len(set(phones))
    for phone in phones:
        number = phonenumbers.parse(phone)
        assert phonenumbers.is_valid_number(number), phone
        assert phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164) == phone


def test_emails_are_lowercase_and_unique(loaded):
    emails = [email for row in Contact.objects.values_list("emails", flat=True) for email in row]

    assert all(email == email.lower() and "@" in email for email in emails)
    assert len(emails) == len(set(emails))


def test_every_deal_has_a_history_ending_in_its_stage(loaded):
    last_move = DealStageChange.objects.filter(deal=OuterRef("pk")).order_by("-changed_at", "-id")
    deals = Deal.objects.annotate(last_stage=Subquery(last_move.values("to_stage")[:1]))

    assert not deals.exclude(last_stage=Subquery(Deal.objects.filter(pk=OuterRef("pk")).values("stage")[:1])).exists()
    assert DealStageChange.objects.filter(from_stage__isnull=True).count() == 400


def test_converted_leads_point_at_existing_records(loaded):
    converted = Lead.objects.filter(status="converted")

    assert converted.exists()
    assert not converted.filter(converted_contact__isnull=True).exists()
    assert converted.exclude(converted_deal=None).count() > 0


def test_indexes_and_foreign_keys_are_back_after_load(acme):
    before = index_and_key_names()

    demo_bulk_load(contacts=200, leads=50, deals=50, activities=300, seed=2)

    assert index_and_key_names() == before


def test_sequences_continue_after_loaded_ids(loaded):
    from crm.clients.services import contact_create

    contact = contact_create(actor=None, first_name="Next", last_name="One")

    assert contact.pk > Contact.objects.exclude(pk=contact.pk).aggregate(top=Max("pk"))["top"]


def test_some_contacts_have_long_timelines(loaded):
    busiest = (
        Activity.objects.exclude(contact=None).values("contact").annotate(n=Count("id")).order_by("-n").first()["n"]
    )

    assert busiest >= 20


def test_negative_volume_is_a_field_error(acme):
    with pytest.raises(ValidationError) as caught:
        demo_bulk_load(contacts=-1, leads=0, deals=0, activities=0)

    assert caught.value.error_dict["contacts"][0].code == "invalid"

"""Bulk writers (the import engine, merges, a removed stage): many records' history at once."""

from __future__ import annotations

import pytest
from django.db import transaction

from config.request_context import change_source_bound
from crm.clients.services import contact_create
from crm.history.models import FieldChange
from crm.history.services import Change, field_change_rows, field_changes_copy, records_changes_record


def _rows(contacts, actor):
    rows = []
    for contact in contacts:
        changes = [Change("job_title", "", "CFO"), Change("custom_fields.tier", None, "gold")]
        rows.extend(field_change_rows(record_type="contact", record_id=contact.pk, changes=changes, actor=actor))
    return rows


def _stored(contacts):
    rows = FieldChange.objects.filter(record_type="contact", record_id__in=[c.pk for c in contacts])
    return sorted(
        rows.values_list("record_id", "field", "old_value", "new_value", "actor_id", "actor_label", "channel", "batch")
    )


@pytest.fixture
def contacts(alice):
    return [contact_create(actor=alice, first_name=f"Person {number}") for number in range(3)]


def test_rows_inserted_with_copy_read_like_rows_inserted_by_the_orm(alice, contacts):
    with change_source_bound("import", "import:5"):
        first, second = contacts[:2], contacts[2:]
        FieldChange.objects.bulk_create(_rows(first, alice))
        written = field_changes_copy(_rows(second, alice))

    assert written == 2
    by_orm, by_copy = _stored(first), _stored(second)
    assert [row[1:] for row in by_copy] == [row[1:] for row in by_orm[:2]]
    assert by_copy[0][6:] == ("import", "import:5")
    assert (by_copy[0][1], by_copy[0][3]) == ("custom_fields.tier", "gold")  # JSON, not text
    assert FieldChange.objects.filter(record_id=second[0].pk, new_value="gold").exists()


def test_copied_rows_roll_back_with_the_transaction(alice, contacts):
    with pytest.raises(RuntimeError), transaction.atomic():
        field_changes_copy(_rows(contacts, alice))
        raise RuntimeError("the import's chunk fails")

    assert _stored(contacts) == []


def test_copied_rows_take_ids_from_the_sequence(alice, contacts):
    FieldChange.objects.bulk_create(_rows(contacts[:1], alice))
    field_changes_copy(_rows(contacts[1:], alice))
    FieldChange.objects.bulk_create(_rows(contacts[:1], alice))

    ids = list(FieldChange.objects.filter(record_type="contact").order_by("id").values_list("id", flat=True))
    assert len(ids) == len(set(ids)) == 8


def test_many_records_changes_are_written_at_one_time(alice, contacts):
    records_changes_record(
        record_type="contact",
        changes_by_id={contact.pk: [Change("city", "", "Austin")] for contact in contacts},
        actor=alice,
    )

    rows = FieldChange.objects.filter(record_type="contact", field="city")
    assert rows.count() == 3
    assert len(set(rows.values_list("created_at", flat=True))) == 1

"""Reading a record's history: visibility, order and pages, and how each change reads."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone, translation

from accounts.models import User
from config.request_context import change_source_bound
from crm.catalog.services import product_create, product_update
from crm.clients.services import company_update, contact_create, contact_update, contacts_merge
from crm.custom_fields.models import CustomField
from crm.custom_fields.services import custom_field_remove
from crm.deals.services import deal_create, deal_update
from crm.errors import RecordNotFound
from crm.history.models import FieldChange
from crm.history.selectors import HistoryCursor, history_record_get, record_history
from crm.history.services import Change, field_changes_record, history_batch
from crm.leads.services import lead_create, lead_set_status
from crm.trash import record_restore, record_trash
from tests.conftest import inside


def _one(actor, record, **filters):
    (entry,) = record_history(actor=actor, record=record, **filters).entries
    return entry


# --- whose history ----------------------------------------------------------------------


def test_a_record_is_found_through_its_own_selector(alice, contact):
    assert history_record_get(actor=alice, record_type="contact", record_id=contact.pk) == contact


def test_another_workspaces_record_looks_missing(alice, tenant_a, tenant_b):
    with inside(tenant_b):
        bob = User.objects.select_related("role").get(email="bob@globex.example")
        theirs = contact_create(actor=bob, first_name="Hank", last_name="Scorpio")
        contact_update(actor=bob, contact=theirs, job_title="Villain")

    with inside(tenant_a), pytest.raises(RecordNotFound):
        history_record_get(actor=alice, record_type="contact", record_id=theirs.pk)


def test_a_record_the_actor_cannot_see_looks_missing(alice, rex, contact):
    contact_update(actor=alice, contact=contact, job_title="CFO")

    with pytest.raises(RecordNotFound):
        history_record_get(actor=rex, record_type="contact", record_id=contact.pk)
    with pytest.raises(RecordNotFound):
        record_history(actor=rex, record=contact)


def test_a_trashed_record_looks_missing_like_its_card(alice, contact):
    record_trash(actor=alice, record=contact)

    with pytest.raises(RecordNotFound):
        history_record_get(actor=alice, record_type="contact", record_id=contact.pk)


def test_an_unknown_record_type_looks_missing(alice, contact):
    with pytest.raises(RecordNotFound):
        history_record_get(actor=alice, record_type="task", record_id=contact.pk)


# --- order and pages --------------------------------------------------------------------


def test_changes_come_newest_first(alice, contact):
    contact_update(actor=alice, contact=contact, job_title="CFO")
    contact_update(actor=alice, contact=contact, job_title="CTO")

    page = record_history(actor=alice, record=contact)

    assert [(entry.old_value, entry.new_value) for entry in page.entries] == [("CFO", "CTO"), ("CEO", "CFO")]
    assert page.next_before is None


def test_pages_follow_each_other_without_gaps_or_repeats_when_times_tie(alice, contact):
    at = timezone.now() - timedelta(days=1)
    for number in range(7):
        changes = [Change(field="city", old=str(number), new=str(number + 1)), Change(field="region", old="", new="x")]
        field_changes_record(record=contact, changes=changes, actor=alice, at=at + timedelta(seconds=number // 3))

    seen, before = [], None
    while True:
        page = record_history(actor=alice, record=contact, limit=3, before=before)
        seen.extend(entry.id for entry in page.entries)
        if page.next_before is None:
            break
        before = HistoryCursor.parse(page.next_before.encode())

    everything = FieldChange.objects.filter(record_type="contact", record_id=contact.pk).order_by("-created_at", "-id")
    assert seen == list(everything.values_list("id", flat=True))
    assert len(seen) == 14


def test_a_tampered_cursor_is_a_field_error():
    with pytest.raises(ValidationError) as refused:
        HistoryCursor.parse("bm90IGEgY3Vyc29y")

    assert refused.value.error_dict["before"][0].code == "invalid_cursor"


def test_filters_pick_a_field_a_channel_and_a_start(alice, contact):
    contact_update(actor=alice, contact=contact, job_title="CFO", city="Austin")
    with change_source_bound("import", "import:3"):
        contact_update(actor=alice, contact=contact, city="Dallas")
    FieldChange.objects.filter(record_id=contact.pk, field="job_title").update(
        created_at=timezone.now() - timedelta(days=10)
    )

    by_field = record_history(actor=alice, record=contact, field="city").entries
    by_channel = record_history(actor=alice, record=contact, channel="import").entries
    recent = record_history(actor=alice, record=contact, since=timezone.localdate() - timedelta(days=1)).entries

    assert [entry.new_value for entry in by_field] == ["Dallas", "Austin"]
    assert [entry.new_value for entry in by_channel] == ["Dallas"]
    assert {entry.field for entry in recent} == {"city"}


def test_an_unknown_channel_is_a_field_error(alice, contact):
    with pytest.raises(ValidationError) as refused:
        record_history(actor=alice, record=contact, channel="fax")

    assert refused.value.error_dict["channel"][0].code == "invalid_choice"


def test_a_page_is_a_bounded_number_of_queries(alice, contact, tier, django_assert_max_num_queries):
    for number in range(30):
        contact_update(
            actor=alice,
            contact=contact,
            job_title=f"Title {number}",
            phones=[f"+1415555{number:04d}"],
            custom_fields={"tier": "gold" if number % 2 else "silver"},
        )

    # the visibility check, the page, the custom fields' labels, the phone region
    with django_assert_max_num_queries(4):
        page = record_history(actor=alice, record=contact, limit=90)

    assert len(page.entries) == 90


# --- how a change reads -----------------------------------------------------------------


def test_a_field_reads_with_its_label_and_both_values(alice, contact):
    contact_update(actor=alice, contact=contact, job_title="CFO")

    entry = _one(alice, contact)

    assert (entry.field, entry.field_label, entry.old_display, entry.new_display) == (
        "job_title",
        "Job title",
        "CEO",
        "CFO",
    )
    assert (entry.actor, entry.actor_name, entry.channel, entry.channel_label) == (
        alice,
        "Alice Adams",
        "system",
        "System",
    )


def test_labels_and_choices_read_in_the_readers_language(alice):
    lead = lead_create(actor=alice, name="Ann Lead", phone="+14155550100")
    lead_set_status(actor=alice, lead=lead, status="in_progress")

    with translation.override("es"):
        entry = _one(alice, lead)

    assert entry.field_label == "Estado"
    assert (entry.old_value, entry.old_display) == ("new", "Nuevo")
    assert entry.new_display == "En curso"


def test_dates_and_amounts_read_in_the_readers_format_with_their_currency(alice, contact, euro):
    contact_update(actor=alice, contact=contact, birthday=date(1980, 5, 17))
    deal = deal_create(actor=alice, title="Website", amount=Decimal("1000"), currency="EUR")
    deal_update(actor=alice, deal=deal, amount=Decimal("12500.5"))

    with translation.override("ru"):
        birthday = _one(alice, contact)
        amount = _one(alice, deal)

    assert birthday.new_display == "17.05.1980"
    assert amount.old_display == "1\xa0000,00 EUR"
    assert amount.new_display == "12\xa0500,50 EUR"


def test_yes_and_no_for_booleans(alice):
    product = product_create(actor=alice, sku="WEB-1", name="Website", price="1000")
    product_update(actor=alice, product=product, is_active=False)

    entry = _one(alice, product)

    assert (entry.field_label, entry.old_display, entry.new_display) == ("On sale", "Yes", "No")


def test_custom_values_read_through_the_fields_definition(alice, contact, tier):
    contact_update(actor=alice, contact=contact, custom_fields={"tier": "gold"})

    with translation.override("ru"):
        entry = _one(alice, contact)

    assert (entry.field, entry.field_label, entry.old_display, entry.new_display) == (
        "custom_fields.tier",
        "Уровень",
        "",
        "Золото",
    )


def test_a_removed_custom_field_still_reads_with_its_label(alice, contact, tier):
    contact_update(actor=alice, contact=contact, custom_fields={"tier": "gold"})

    custom_field_remove(actor=alice, field=tier)

    assert _one(alice, contact).field_label == "Tier"


def test_a_purged_custom_field_shows_its_key(alice, contact, tier):
    contact_update(actor=alice, contact=contact, custom_fields={"tier": "gold"})

    CustomField.all_objects.filter(pk=tier.pk).delete()

    entry = _one(alice, contact)
    assert (entry.field_label, entry.new_display) == ("tier", "gold")


def test_a_reference_reads_as_it_was_called_then(alice, rex, contact, company):
    contact_update(actor=alice, contact=contact, owner=rex, company=None)
    company_update(actor=alice, company=company, name="Initech Global")
    User.objects.filter(pk=rex.pk).update(full_name="Rex Renamed")

    entries = {entry.field: entry for entry in record_history(actor=alice, record=contact).entries}

    assert (entries["company"].old_display, entries["company"].new_display) == ("Initech", "")
    assert (entries["owner"].old_display, entries["owner"].new_display) == ("Alice Adams", "Rex Rep")


def test_a_long_text_is_shortened_for_the_card_and_kept_whole(alice, contact):
    notes = "A long story about this customer. " * 10
    contact_update(actor=alice, contact=contact, notes=notes)

    entry = _one(alice, contact)

    assert entry.new_display == notes
    assert len(entry.new_short) <= 80 and entry.new_short.endswith("…")
    assert entry.shortened


def test_a_change_by_someone_removed_since_reads_with_their_email(alice, contact):
    contact_update(actor=alice, contact=contact, job_title="CFO")
    FieldChange.objects.filter(record_id=contact.pk).update(actor=None)

    assert _one(alice, contact).actor_name == "alice@acme.example"


def test_a_change_by_nobody_reads_as_the_system_or_the_import(alice, contact):
    contact_update(actor=None, contact=contact, job_title="CFO")
    with change_source_bound("import", "import:12"):
        contact_update(actor=None, contact=contact, job_title="CTO")

    imported, system = record_history(actor=alice, record=contact).entries

    assert (system.actor_name, system.batch_label) == ("The system", "")
    assert (imported.actor_name, imported.channel_label, imported.batch_label) == (
        "An import",
        "Import",
        "in import #12",
    )


def test_a_bulk_actions_changes_say_so(alice, contact):
    with history_batch("bulk"):
        contact_update(actor=alice, contact=contact, job_title="CFO")

    assert _one(alice, contact).batch_label == "in a bulk action"


def test_events_read_as_sentences(alice, contact):
    other = contact_create(actor=alice, first_name="Pete", last_name="Gibbons")
    contacts_merge(actor=alice, primary=contact, duplicates=[other])
    record_trash(actor=alice, record=contact)
    record_restore(actor=alice, record=contact)

    summaries = [entry.summary for entry in record_history(actor=alice, record=contact).entries if entry.summary]
    assert summaries == [
        "Restored from the trash",
        "Moved to the trash",
        f"Merged with the duplicate Pete Gibbons (#{other.pk})",
    ]

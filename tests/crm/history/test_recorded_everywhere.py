"""Every service that changes a record's fields leaves its history: leads, deals, merges,
products, quotes, the trash, bulk actions."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from crm.activities.models import Activity, ActivityKind
from crm.activities.services import task_create
from crm.catalog.services import (
    product_create,
    product_deactivate,
    product_update,
    quote_accept,
    quote_create,
    quote_line_add,
    quote_mark_sent,
    quote_update,
)
from crm.clients.services import companies_merge, company_create, contact_create, contact_update, contacts_merge
from crm.deals.models import Deal, Pipeline, StageKind
from crm.deals.services import (
    deal_create,
    deal_mark_lost,
    deal_mark_won,
    deal_move_stage,
    deal_reopen,
    deal_update,
    stage_add,
    stage_delete,
)
from crm.history.models import FieldChange
from crm.leads.models import Lead
from crm.leads.services import lead_convert, lead_create, lead_disqualify, lead_set_status
from crm.trash import record_restore, record_trash, trash_purge_older_than
from tests.crm.history.conftest import changed, history_of


def _stages():
    pipeline = Pipeline.objects.get(is_default=True)
    return {stage.name: stage for stage in pipeline.stages.all()}, pipeline


# --- leads ------------------------------------------------------------------------------


def test_a_lead_status_change_is_recorded(alice):
    lead = lead_create(actor=alice, name="Ann Lead", phone="+14155550100")

    lead_set_status(actor=alice, lead=lead, status="in_progress")

    assert changed(lead) == [("status", "new", "in_progress")]


def test_disqualifying_records_the_status_and_the_reason_at_the_notes_time(alice):
    lead = lead_create(actor=alice, name="Ann Lead", phone="+14155550100")

    lead_disqualify(actor=alice, lead=lead, reason="No budget")

    assert sorted(changed(lead)) == [("disqualified_reason", "", "No budget"), ("status", "new", "disqualified")]
    note = Activity.objects.get(lead=lead, kind=ActivityKind.NOTE)
    assert {row.created_at for row in history_of(lead)} == {note.occurred_at}


def test_reopening_a_disqualified_lead_clears_the_reason_in_the_history(alice):
    lead = lead_create(actor=alice, name="Ann Lead", phone="+14155550100")
    lead_disqualify(actor=alice, lead=lead, reason="No budget")

    lead_set_status(actor=alice, lead=Lead.objects.get(pk=lead.pk), status="new")

    assert sorted(changed(lead)[2:]) == [("disqualified_reason", "No budget", ""), ("status", "disqualified", "new")]


def test_converting_records_the_status_and_the_links_to_what_the_lead_became(alice):
    lead = lead_create(actor=alice, name="Ann Lead", email="ann@initech.example", company_name="Initech")

    conversion = lead_convert(actor=alice, lead=lead, deal_title="Initech website")

    rows = {row.field: row for row in history_of(lead)}
    assert set(rows) == {"status", "converted_contact", "converted_company", "converted_deal"}
    assert (rows["status"].old_value, rows["status"].new_value) == ("new", "converted")
    assert (rows["converted_contact"].new_value, rows["converted_contact"].new_label) == (
        conversion.contact.pk,
        "Ann Lead",
    )
    assert (rows["converted_deal"].new_value, rows["converted_deal"].new_label) == (
        conversion.deal.pk,
        "Initech website",
    )
    assert rows["converted_company"].new_label == "Initech"


def test_converting_into_an_existing_contact_records_what_the_contact_gained(alice):
    existing = contact_create(actor=alice, first_name="Ann", last_name="Lead")
    lead = lead_create(actor=alice, name="Ann Lead", email="ann@initech.example")

    lead_convert(actor=alice, lead=lead, existing_contact=existing, create_company=False)

    assert changed(existing) == [("emails", [], ["ann@initech.example"])]


# --- deals ------------------------------------------------------------------------------


def test_a_stage_move_is_recorded_with_the_stage_names(alice):
    stages, _pipeline = _stages()
    deal = deal_create(actor=alice, title="Website", stage=stages["New"])

    deal_move_stage(actor=alice, deal=deal, stage=stages["Needs discovery"])

    (row,) = history_of(deal)
    assert (row.field, row.old_value, row.new_value) == ("stage", stages["New"].pk, stages["Needs discovery"].pk)
    assert (row.old_label, row.new_label) == ("New", "Needs discovery")
    move = Activity.objects.get(deal=deal, kind=ActivityKind.STAGE_CHANGE)
    assert row.created_at == move.occurred_at


def test_losing_records_the_stage_and_the_reason_and_reopening_clears_it(alice):
    stages, _pipeline = _stages()
    deal = deal_create(actor=alice, title="Website", stage=stages["Needs discovery"])

    deal = deal_mark_lost(actor=alice, deal=deal, reason="Too expensive")
    deal_reopen(actor=alice, deal=Deal.objects.get(pk=deal.pk))

    assert [(field, old, new) for field, old, new in changed(deal) if field == "lost_reason"] == [
        ("lost_reason", "", "Too expensive"),
        ("lost_reason", "Too expensive", ""),
    ]
    assert [row.new_label for row in history_of(deal) if row.field == "stage"] == ["Lost", "Needs discovery"]


def test_a_new_reason_for_a_lost_deal_is_recorded_on_its_own(alice):
    deal = deal_mark_lost(actor=alice, deal=deal_create(actor=alice, title="Website"), reason="Too expensive")

    deal_mark_lost(actor=alice, deal=Deal.objects.get(pk=deal.pk), reason="Chose a competitor")

    assert changed(deal)[-1] == ("lost_reason", "Too expensive", "Chose a competitor")


def test_winning_is_recorded_as_a_stage_change(alice):
    deal = deal_create(actor=alice, title="Website")

    deal_mark_won(actor=alice, deal=deal)

    (row,) = history_of(deal)
    assert row.field == "stage"
    assert row.new_label == Pipeline.objects.get(is_default=True).stages.get(kind=StageKind.WON).name


def test_deals_moved_out_of_a_removed_stage_get_a_history_entry_each(alice):
    _stages_by_name, pipeline = _stages()
    doomed = stage_add(actor=alice, pipeline=pipeline, name="Doomed")
    first = deal_create(actor=alice, title="One", stage=doomed)
    second = deal_create(actor=alice, title="Two", stage=doomed)
    target = pipeline.stages.get(name="New")

    stage_delete(actor=alice, stage=doomed, move_deals_to=target)

    for deal in (first, second):
        (row,) = history_of(deal)
        assert (row.field, row.old_label, row.new_label) == ("stage", "Doomed", "New")


# --- merges -----------------------------------------------------------------------------


def test_a_merge_records_what_the_primary_gained_and_where_it_came_from(alice, rex):
    company = company_create(actor=alice, name="Initech")
    primary = contact_create(actor=alice, first_name="Peter", last_name="Gibbons", emails=["peter@initech.example"])
    duplicate = contact_create(
        actor=alice,
        first_name="Pete",
        last_name="Gibbons",
        emails=["pete@home.example"],
        company=company,
        job_title="Engineer",
        city="Austin",
        tags=["Friend"],
    )

    contacts_merge(actor=alice, primary=primary, duplicates=[duplicate])

    rows = {row.field: row for row in history_of(primary)}
    assert set(rows) == {"emails", "company", "job_title", "city", "tags", "merged_from"}
    assert rows["emails"].new_value == ["peter@initech.example", "pete@home.example"]
    assert (rows["company"].new_value, rows["company"].new_label) == (company.pk, "Initech")
    assert (rows["merged_from"].new_value, rows["merged_from"].new_label) == (duplicate.pk, "Pete Gibbons")
    assert rows["tags"].new_value == ["Friend"]
    batches = {row.batch for row in FieldChange.objects.filter(record_id__in=[primary.pk, duplicate.pk])}
    assert len(batches) == 1 and batches.pop().startswith("merge:")


def test_a_merged_duplicate_says_where_it_went_and_that_it_was_trashed(alice):
    primary = contact_create(actor=alice, first_name="Peter", last_name="Gibbons")
    duplicate = contact_create(actor=alice, first_name="Pete", last_name="Gibbons")

    contacts_merge(actor=alice, primary=primary, duplicates=[duplicate])

    assert [(row.field, row.new_value, row.new_label) for row in history_of(duplicate)] == [
        ("merged_into", primary.pk, "Peter Gibbons"),
        ("trashed", True, ""),
    ]


def test_records_pointing_at_a_merged_duplicate_record_their_new_link(alice):
    primary = company_create(actor=alice, name="Initech")
    duplicate = company_create(actor=alice, name="Initech Inc")
    person = contact_create(actor=alice, first_name="Peter", last_name="Gibbons", company=duplicate)
    deal = deal_create(actor=alice, title="Website", company=duplicate)

    companies_merge(actor=alice, primary=primary, duplicates=[duplicate])

    for record in (person, deal):
        (row,) = history_of(record)
        assert (row.field, row.old_value, row.new_value) == ("company", duplicate.pk, primary.pk)
        assert (row.old_label, row.new_label) == ("Initech Inc", "Initech")


# --- products and quotes ----------------------------------------------------------------


def test_a_products_price_name_sku_and_sale_are_recorded(alice):
    product = product_create(actor=alice, sku="WEB-1", name="Website", price="1000", currency="EUR")

    product_update(actor=alice, product=product, price="1250.5", name="Website, large", sku="WEB-2")
    product_deactivate(actor=alice, product=product)

    rows = {row.field: row for row in history_of(product)}
    assert set(rows) == {"price", "name", "sku", "is_active"}
    assert (rows["price"].old_value, rows["price"].new_value, rows["price"].new_label) == ("1000.00", "1250.50", "EUR")
    assert (rows["is_active"].old_value, rows["is_active"].new_value) == (True, False)


def test_a_refused_product_change_records_nothing(alice):
    product_create(actor=alice, sku="WEB-1", name="Website", price="1000")
    other = product_create(actor=alice, sku="WEB-2", name="Hosting", price="10")

    with pytest.raises(ValidationError):
        product_update(actor=alice, product=other, sku="web-1", price="20")

    assert history_of(other) == []


def test_a_quotes_status_and_header_are_recorded(alice):
    product = product_create(actor=alice, sku="WEB-1", name="Website", price="1000")
    quote = quote_create(actor=alice, title="Website proposal")
    quote_update(actor=alice, quote=quote, title="Website proposal v2")
    quote_line_add(actor=alice, quote=quote, product=product, quantity=1)

    quote = quote_mark_sent(actor=alice, quote=quote)
    quote_accept(actor=alice, quote=quote)

    assert changed(quote) == [
        ("title", "Website proposal", "Website proposal v2"),
        ("status", "draft", "sent"),
        ("status", "sent", "accepted"),
    ]


# --- the trash --------------------------------------------------------------------------


def test_moving_to_the_trash_and_restoring_are_recorded(alice, contact):
    record_trash(actor=alice, record=contact)
    record_restore(actor=alice, record=contact)

    assert changed(contact) == [("trashed", False, True), ("trashed", True, False)]


def test_trashing_a_task_keeps_no_field_history(alice):
    task = task_create(actor=alice, title="Call", due_at=timezone.now() + timedelta(days=1), owner=alice)

    record_trash(actor=alice, record=task)

    assert not FieldChange.objects.filter(record_type="task").exists()


def test_a_record_deleted_for_good_takes_its_history_with_it(alice, contact):
    other = contact_create(actor=alice, first_name="Stays", last_name="Here", job_title="CEO")
    contact_update(actor=alice, contact=contact, job_title="CFO")
    contact_update(actor=alice, contact=other, job_title="CFO")
    record_trash(actor=alice, record=contact)

    trash_purge_older_than(days=0, now=timezone.now() + timedelta(seconds=1))

    assert history_of(contact) == []
    assert changed(other) == [("job_title", "CEO", "CFO")]


def test_amounts_are_kept_as_exact_decimal_text(alice):
    deal = deal_create(actor=alice, title="Website", amount=Decimal("0.10"))

    deal_update(actor=alice, deal=deal, amount=Decimal("0.30"))

    assert changed(deal) == [("amount", "0.10", "0.30")]

"""The trash: deleting moves records there, an administrator restores, old ones are purged."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from crm.activities.models import Activity, ActivityKind, Task
from crm.activities.services import activity_log, task_create
from crm.catalog.models import Product, Quote
from crm.clients.models import Company, Contact
from crm.clients.selectors import contact_get
from crm.clients.services import company_create, contact_create
from crm.deals.models import Deal
from crm.deals.services import deal_create
from crm.errors import AccessDenied, Conflict, RecordNotFound
from crm.leads.models import Lead
from crm.trash import record_restore, record_trash, trash_list, trash_purge_older_than
from tests.conftest import inside


def test_trashing_hides_the_record_and_says_who_and_when(alice):
    contact = contact_create(actor=alice, last_name="Smith")

    record_trash(actor=alice, record=contact)

    assert not Contact.objects.filter(pk=contact.pk).exists()
    trashed = Contact.all_objects.get(pk=contact.pk)
    assert trashed.deleted_by == alice
    assert timezone.now() - trashed.deleted_at < timedelta(minutes=1)
    assert contact.is_trashed


def test_a_sales_rep_may_move_their_records_to_the_trash(alice, rex):
    contact = contact_create(actor=alice, last_name="Smith", owner=rex)

    record_trash(actor=rex, record=contact)

    assert Contact.all_objects.get(pk=contact.pk).deleted_by == rex


def test_trashing_twice_is_refused(alice):
    contact = contact_create(actor=alice, last_name="Smith")
    record_trash(actor=alice, record=contact)

    with pytest.raises(Conflict) as caught:
        record_trash(actor=alice, record=contact)

    assert caught.value.code == "already_trashed"


def test_an_administrator_restores_a_record(alice):
    contact = contact_create(actor=alice, last_name="Smith")
    record_trash(actor=alice, record=contact)

    record_restore(actor=alice, record=contact)

    assert contact_get(actor=alice, contact_id=contact.pk).deleted_by is None


def test_restoring_is_refused_to_a_sales_rep(alice, rex):
    contact = contact_create(actor=alice, last_name="Smith")
    record_trash(actor=alice, record=contact)

    with pytest.raises(AccessDenied):
        record_restore(actor=rex, record=contact)

    assert Contact.all_objects.get(pk=contact.pk).deleted_at is not None


def test_restoring_a_live_record_is_refused(alice):
    contact = contact_create(actor=alice, last_name="Smith")

    with pytest.raises(Conflict) as caught:
        record_restore(actor=alice, record=contact)

    assert caught.value.code == "not_trashed"


def test_a_restored_contact_keeps_its_trashed_company(alice):
    company = company_create(actor=alice, name="Acme Supplies")
    contact = contact_create(actor=alice, last_name="Smith", company=company)
    record_trash(actor=alice, record=company)
    record_trash(actor=alice, record=contact)

    record_restore(actor=alice, record=contact)

    restored = contact_get(actor=alice, contact_id=contact.pk)
    assert restored.company == company
    assert restored.company.is_trashed


def test_restoring_a_product_whose_sku_was_reused_is_a_conflict(alice):
    old = Product.objects.create(sku="SVC-1", name="Audit", price=Decimal("100"), currency="USD")
    record_trash(actor=alice, record=old)
    Product.objects.create(sku="svc-1", name="New audit", price=Decimal("120"), currency="USD")

    with pytest.raises(Conflict) as caught:
        record_restore(actor=alice, record=old)

    assert caught.value.code == "restore_conflict"
    assert Product.all_objects.get(pk=old.pk).deleted_at is not None


def test_a_model_without_a_trash_is_a_programming_error(alice):
    with pytest.raises(TypeError):
        record_trash(actor=alice, record=alice)


# --- the trash page -----------------------------------------------------------------


def trashed_one_of_each(alice) -> dict[str, object]:
    company = company_create(actor=alice, name="Acme Supplies")
    contact = contact_create(actor=alice, last_name="Smith")
    records = {
        "lead": Lead.objects.create(name="A lead"),
        "contact": contact,
        "company": company,
        "deal": deal_create(actor=alice, title="A deal"),
        "task": task_create(actor=alice, title="A task", due_at=timezone.now(), owner=alice),
        "quote": Quote.objects.create(number="Q-T-1", title="A quote", currency="USD"),
        "product": Product.objects.create(sku="P-1", name="A product", price=Decimal("1"), currency="USD"),
        "activity": activity_log(actor=alice, kind=ActivityKind.NOTE, subject="A note", contact=contact),
    }
    for record in records.values():
        record_trash(actor=alice, record=record)
    return records


def test_trash_list_shows_every_kind_most_recent_first(alice, django_assert_max_num_queries):
    records = trashed_one_of_each(alice)

    with django_assert_max_num_queries(8):
        entries = trash_list(actor=alice)
        who = {entry.deleted_by.email for entry in entries}

    assert {entry.kind for entry in entries} == set(records)
    assert entries[0].kind == "activity"
    assert who == {alice.email}


def test_trash_list_narrows_to_one_kind(alice):
    trashed_one_of_each(alice)
    contact_create(actor=alice, last_name="Live")

    entries = trash_list(actor=alice, kind="contact")

    assert [(entry.kind, entry.title) for entry in entries] == [("contact", "Smith")]


def test_trash_list_refuses_an_unknown_kind(alice):
    with pytest.raises(ValidationError) as caught:
        trash_list(actor=alice, kind="users")

    assert caught.value.error_dict["kind"][0].code == "invalid_choice"


def test_trash_list_never_shows_another_workspaces_trash(alice, tenant_a, tenant_b):
    with inside(tenant_b):
        record_trash(actor=None, record=contact_create(actor=None, last_name="Globex person"))

    with inside(tenant_a):
        assert trash_list(actor=alice) == []


def test_trash_in_another_workspace_cannot_reach_the_record(alice, tenant_b):
    contact = contact_create(actor=alice, last_name="Smith")

    with inside(tenant_b), pytest.raises(RecordNotFound):
        record_trash(actor=None, record=contact)


# --- purge --------------------------------------------------------------------------


def test_purge_deletes_only_what_is_older_than_the_retention(alice):
    old = contact_create(actor=alice, last_name="Old")
    recent = contact_create(actor=alice, last_name="Recent")
    record_trash(actor=alice, record=old)
    record_trash(actor=alice, record=recent)
    Contact.all_objects.filter(pk=old.pk).update(deleted_at=timezone.now() - timedelta(days=31))

    purged = trash_purge_older_than(days=30)

    assert purged["contact"] == 1
    assert not Contact.all_objects.filter(pk=old.pk).exists()
    assert Contact.all_objects.filter(pk=recent.pk).exists()


def test_purging_a_contact_keeps_the_deals_call_on_the_deal(alice):
    contact = contact_create(actor=alice, last_name="Old")
    deal = deal_create(actor=alice, title="Website", contact=contact)
    call = activity_log(actor=alice, kind=ActivityKind.CALL, subject="Call", contact=contact, deal=deal)
    note = activity_log(actor=alice, kind=ActivityKind.NOTE, subject="Only about the contact", contact=contact)
    record_trash(actor=alice, record=contact)

    trash_purge_older_than(days=0, now=timezone.now() + timedelta(seconds=1))

    kept = Activity.objects.get(pk=call.pk)
    assert kept.contact_id is None
    assert kept.deal_id == deal.pk
    assert not Activity.all_objects.filter(pk=note.pk).exists()
    assert Deal.objects.get(pk=deal.pk).contact_id is None


def test_purge_leaves_live_records_alone(alice):
    company = company_create(actor=alice, name="Live Ltd")
    task = task_create(actor=alice, title="Live task", due_at=timezone.now(), owner=alice, company=company)

    purged = trash_purge_older_than(days=0, now=timezone.now() + timedelta(days=1))

    assert set(purged.values()) == {0}
    assert Company.objects.filter(pk=company.pk).exists()
    assert Task.objects.filter(pk=task.pk).exists()

"""Merging duplicate contacts and companies: everything moves, or nothing does."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import DatabaseError, connection
from django.utils import timezone

from crm.activities.models import Activity, ActivityKind, Task
from crm.activities.services import activity_log, task_create
from crm.catalog.models import Quote
from crm.clients.models import Company, Contact
from crm.clients.services import companies_merge, company_create, contact_create, contacts_merge
from crm.deals.models import Deal
from crm.deals.services import deal_create
from crm.errors import Conflict, RecordNotFound
from crm.leads.models import Lead
from crm.trash import record_trash
from tests.conftest import inside


@pytest.fixture
def pair(alice):
    """Ivan twice: the primary with little filled in, the duplicate with a deal, a task, a call..."""
    primary = contact_create(actor=alice, first_name="Ivan", last_name="Petrov", emails=["ivan@work.example"])
    duplicate = contact_create(
        actor=alice,
        first_name="Ivan",
        last_name="Petrov",
        emails=["IVAN@home.example", "ivan@work.example"],
        phones=["+79123456789"],
        job_title="Buyer",
        city="Perm",
        tags=["VIP"],
    )
    return primary, duplicate


def linked_to(contact: Contact, alice) -> dict:
    deal = deal_create(actor=alice, title="Website", contact=contact)
    task = task_create(actor=alice, title="Call back", due_at=timezone.now() + timedelta(hours=1), owner=alice)
    Task.objects.filter(pk=task.pk).update(contact=contact)
    call = activity_log(actor=alice, kind=ActivityKind.CALL, subject="First call", contact=contact)
    quote = Quote.objects.create(number="Q-TEST-1", title="Offer", currency="USD", contact=contact)
    lead = Lead.objects.create(name="Ivan Petrov", converted_contact=contact)
    return {"deal": deal, "task": task, "call": call, "quote": quote, "lead": lead}


def test_contacts_merge_moves_deals_tasks_activities_quotes_and_leads(alice, pair):
    primary, duplicate = pair
    linked = linked_to(duplicate, alice)

    contacts_merge(actor=alice, primary=primary, duplicates=[duplicate])

    assert Deal.objects.get(pk=linked["deal"].pk).contact_id == primary.pk
    assert Task.objects.get(pk=linked["task"].pk).contact_id == primary.pk
    assert Activity.objects.get(pk=linked["call"].pk).contact_id == primary.pk
    assert Quote.objects.get(pk=linked["quote"].pk).contact_id == primary.pk
    assert Lead.objects.get(pk=linked["lead"].pk).converted_contact_id == primary.pk


def test_contacts_merge_unites_emails_phones_tags_and_fills_empty_fields(alice, pair):
    primary, duplicate = pair

    merged = contacts_merge(actor=alice, primary=primary, duplicates=[duplicate])

    merged.refresh_from_db()
    assert merged.emails == ["ivan@work.example", "ivan@home.example"]
    assert merged.phones == ["+79123456789"]
    assert merged.job_title == "Buyer"
    assert merged.city == "Perm"
    assert [tag.name for tag in merged.tags.all()] == ["VIP"]
    assert merged.updated_by == alice


def test_contacts_merge_keeps_the_primarys_own_values(alice, pair):
    primary, duplicate = pair
    Contact.objects.filter(pk=primary.pk).update(job_title="Director")
    primary.refresh_from_db()

    merged = contacts_merge(actor=alice, primary=primary, duplicates=[duplicate])

    assert merged.job_title == "Director"


def test_contacts_merge_trashes_the_duplicates_and_notes_it_on_the_primary(alice, pair):
    primary, duplicate = pair

    contacts_merge(actor=alice, primary=primary, duplicates=[duplicate])

    trashed = Contact.all_objects.get(pk=duplicate.pk)
    assert trashed.deleted_at is not None
    assert trashed.deleted_by == alice
    note = Activity.objects.get(contact=primary, kind=ActivityKind.NOTE)
    assert "Merged 1 duplicate" in note.subject
    assert f"#{duplicate.pk}" in note.body


def test_contacts_merge_is_all_or_nothing(alice, pair):
    """Given the database refuses the last step (trashing the duplicate), nothing has changed."""
    primary, duplicate = pair
    linked = linked_to(duplicate, alice)
    with connection.cursor() as cursor:
        cursor.execute(
            """
            CREATE FUNCTION refuse_contact_trash() RETURNS trigger LANGUAGE plpgsql AS
            $$ BEGIN RAISE EXCEPTION 'injected failure'; END $$;
            CREATE TRIGGER refuse_contact_trash BEFORE UPDATE ON clients_contact FOR EACH ROW
            WHEN (NEW.deleted_at IS NOT NULL) EXECUTE FUNCTION refuse_contact_trash();
            """
        )

    with pytest.raises(DatabaseError, match="injected failure"):
        contacts_merge(actor=alice, primary=primary, duplicates=[duplicate])

    assert Deal.objects.get(pk=linked["deal"].pk).contact_id == duplicate.pk
    assert Task.objects.get(pk=linked["task"].pk).contact_id == duplicate.pk
    assert Activity.objects.get(pk=linked["call"].pk).contact_id == duplicate.pk
    assert Lead.objects.get(pk=linked["lead"].pk).converted_contact_id == duplicate.pk
    assert Contact.objects.get(pk=primary.pk).emails == ["ivan@work.example"]
    assert Contact.objects.get(pk=duplicate.pk).tags.count() == 1
    assert not Activity.objects.filter(contact=primary, kind=ActivityKind.NOTE).exists()


def test_merging_a_contact_with_itself_is_refused(alice, pair):
    primary, _duplicate = pair

    with pytest.raises(Conflict) as caught:
        contacts_merge(actor=alice, primary=primary, duplicates=[primary])

    assert caught.value.code == "merge_with_itself"


def test_merging_nothing_is_refused(alice, pair):
    primary, _duplicate = pair

    with pytest.raises(Conflict) as caught:
        contacts_merge(actor=alice, primary=primary, duplicates=[])

    assert caught.value.code == "merge_nothing"


def test_merging_a_trashed_contact_is_refused(alice, pair):
    primary, duplicate = pair
    record_trash(actor=alice, record=duplicate)

    with pytest.raises(Conflict) as caught:
        contacts_merge(actor=alice, primary=primary, duplicates=[duplicate])

    assert caught.value.code == "merge_trashed"


def test_merging_into_a_trashed_primary_is_refused(alice, pair):
    primary, duplicate = pair
    record_trash(actor=alice, record=primary)

    with pytest.raises(Conflict) as caught:
        contacts_merge(actor=alice, primary=primary, duplicates=[duplicate])

    assert caught.value.code == "merge_trashed"


def test_a_shared_tag_is_linked_once(alice, pair):
    primary, duplicate = pair
    other = contact_create(actor=alice, last_name="Petrov", tags=["vip", "Partner"])
    primary.tags.add(*duplicate.tags.all())

    merged = contacts_merge(actor=alice, primary=primary, duplicates=[duplicate, other])

    assert sorted(tag.name for tag in merged.tags.all()) == ["Partner", "VIP"]


def test_merge_cannot_reach_another_workspaces_contacts(alice, pair, tenant_b):
    primary, duplicate = pair

    with inside(tenant_b), pytest.raises(RecordNotFound):
        contacts_merge(actor=None, primary=primary, duplicates=[duplicate])


def test_companies_merge_moves_contacts_and_deals(alice):
    primary = company_create(actor=alice, name="Acme Supplies")
    duplicate = company_create(actor=alice, name="ACME supplies", website="acme.example", phones=["+12025550123"])
    employee = contact_create(actor=alice, last_name="Smith", company=duplicate)
    deal = deal_create(actor=alice, title="Supplies", company=duplicate)

    merged = companies_merge(actor=alice, primary=primary, duplicates=[duplicate])

    assert Contact.objects.get(pk=employee.pk).company_id == primary.pk
    assert Deal.objects.get(pk=deal.pk).company_id == primary.pk
    assert merged.website == "https://acme.example"
    assert merged.phones == ["+12025550123"]
    assert Company.all_objects.get(pk=duplicate.pk).deleted_at is not None
    assert Activity.objects.filter(company=primary, kind=ActivityKind.NOTE).count() == 1


def test_merging_a_company_with_itself_is_refused(alice):
    company = company_create(actor=alice, name="Acme Supplies")

    with pytest.raises(Conflict) as caught:
        companies_merge(actor=alice, primary=company, duplicates=[company])

    assert caught.value.code == "merge_with_itself"

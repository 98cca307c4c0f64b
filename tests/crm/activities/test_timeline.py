"""The client card's timeline: order, scope, keyset pages, query bounds, isolation."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from crm.activities.models import Activity, ActivityKind, Direction
from crm.activities.selectors import TimelineCursor, timeline
from crm.activities.services import activity_log, call_log, email_log, meeting_log, note_add
from crm.clients.services import company_create, contact_create
from crm.deals.models import Pipeline
from crm.deals.services import deal_create, deal_move_stage
from crm.errors import AccessDenied
from crm.leads.services import lead_create
from tests.conftest import inside


@pytest.fixture
def start():
    return timezone.now() - timedelta(days=30)


def test_the_timeline_shows_every_kind_of_entry_newest_first(alice, contact, start):
    deal = deal_create(actor=alice, title="Website", contact=contact)
    call_log(actor=alice, direction=Direction.INBOUND, contact=contact, occurred_at=start)
    email_log(actor=alice, direction="sent", subject="Hello", contact=contact, occurred_at=start + timedelta(hours=1))
    meeting_log(actor=alice, subject="Demo", contact=contact, occurred_at=start + timedelta(hours=2))
    note_add(actor=alice, body="Likes blue", contact=contact, occurred_at=start + timedelta(hours=3))
    activity_log(actor=alice, kind=ActivityKind.QUOTE_SENT, contact=contact, occurred_at=start + timedelta(hours=4))
    deal_move_stage(actor=alice, deal=deal, stage=Pipeline.objects.get(is_default=True).stages.order_by("position")[1])

    page = timeline(actor=alice, contact=contact)

    assert [a.kind for a in page.activities] == [
        ActivityKind.STAGE_CHANGE,
        ActivityKind.QUOTE_SENT,
        ActivityKind.NOTE,
        ActivityKind.MEETING,
        ActivityKind.EMAIL,
        ActivityKind.CALL,
    ]
    assert page.next_before is None


def test_pages_follow_each_other_without_gaps_or_repeats_even_when_times_tie(alice, contact, start):
    # Pairs of entries share a time: the id breaks the tie.
    made = [
        note_add(actor=alice, body=f"Note {n}", contact=contact, occurred_at=start + timedelta(minutes=n // 2))
        for n in range(25)
    ]

    seen, before = [], None
    while True:
        page = timeline(actor=alice, contact=contact, limit=4, before=before)
        seen.extend(page.activities)
        if page.next_before is None:
            break
        before = TimelineCursor.parse(page.next_before.encode())

    assert [a.pk for a in seen] == [a.pk for a in sorted(made, key=lambda a: (a.occurred_at, a.pk), reverse=True)]


def test_a_companys_timeline_includes_its_contacts_but_not_other_companies(alice, company, contact, start):
    other = company_create(actor=alice, name="Globodyne")
    stranger = contact_create(actor=alice, first_name="Sam", company=other)
    on_company = note_add(actor=alice, body="Signed NDA", company=company, occurred_at=start)
    on_contact = call_log(actor=alice, direction="outbound", contact=contact, occurred_at=start + timedelta(hours=1))
    note_add(actor=alice, body="Not ours", company=other, occurred_at=start)
    note_add(actor=alice, body="Not ours either", contact=stranger, occurred_at=start)

    page = timeline(actor=alice, company=company)

    assert [a.pk for a in page.activities] == [on_contact.pk, on_company.pk]


def test_an_entry_on_both_the_company_and_its_contact_appears_once(alice, company, contact, start):
    both = note_add(actor=alice, body="Both", company=company, contact=contact, occurred_at=start)

    assert [a.pk for a in timeline(actor=alice, company=company).activities] == [both.pk]


def test_trashed_entries_are_not_on_the_timeline(alice, contact, start):
    kept = note_add(actor=alice, body="Keep", contact=contact, occurred_at=start)
    trashed = note_add(actor=alice, body="Oops", contact=contact, occurred_at=start)
    Activity.all_objects.filter(pk=trashed.pk).update(deleted_at=timezone.now())

    assert [a.pk for a in timeline(actor=alice, contact=contact).activities] == [kept.pk]


def test_a_deals_timeline_shows_the_deals_entries_only(alice, contact, start):
    deal = deal_create(actor=alice, title="Website", contact=contact)
    on_deal = note_add(actor=alice, body="Budget ok", deal=deal, occurred_at=start)
    note_add(actor=alice, body="Contact only", contact=contact, occurred_at=start)

    assert [a.pk for a in timeline(actor=alice, deal=deal).activities] == [on_deal.pk]


def test_a_leads_timeline_shows_the_leads_entries(alice, start):
    lead = lead_create(actor=alice, name="Walter White", email="walter@example.com")
    call = call_log(actor=alice, direction="outbound", outcome="No answer", lead=lead, occurred_at=timezone.now())

    assert call.pk in [a.pk for a in timeline(actor=alice, lead=lead).activities]


def test_a_contact_timeline_page_is_two_queries(alice, rita, contact, start, django_assert_max_num_queries):
    for n in range(60):
        note_add(actor=alice if n % 2 else rita, body=f"Note {n}", contact=contact, occurred_at=start + timedelta(n))

    # The access check on the card itself, then the page.
    with django_assert_max_num_queries(2):
        page = timeline(actor=alice, contact=contact, limit=50)
        authors = {a.author.full_name for a in page.activities}

    assert len(page.activities) == 50
    assert authors == {"Alice Adams", "Rita Rep"}


def test_a_company_timeline_page_is_three_queries(alice, company, start, django_assert_max_num_queries):
    for n in range(10):
        person = contact_create(actor=alice, first_name=f"Person {n}", company=company)
        note_add(actor=alice, body=f"Note {n}", contact=person, occurred_at=start + timedelta(n))

    # The access check on the card, its contacts, then the page.
    with django_assert_max_num_queries(3):
        page = timeline(actor=alice, company=company)
        [a.author.full_name for a in page.activities]

    assert len(page.activities) == 10


def test_the_timeline_needs_exactly_one_record(alice, contact, company):
    with pytest.raises(ValueError):
        timeline(actor=alice)
    with pytest.raises(ValueError):
        timeline(actor=alice, contact=contact, company=company)


def test_a_tampered_cursor_is_a_field_error():
    with pytest.raises(ValidationError) as caught:
        TimelineCursor.parse("not-a-cursor")

    assert caught.value.error_dict["before"][0].code == "invalid_cursor"


def test_a_switched_off_user_cannot_read_a_timeline(alice, rita, contact):
    rita.is_active = False
    rita.save()

    with pytest.raises(AccessDenied):
        timeline(actor=rita, contact=contact)


def test_another_workspace_sees_nothing_of_this_timeline(alice, contact, tenant_b, start):
    note_add(actor=alice, body="Acme secret", contact=contact, occurred_at=start)

    with inside(tenant_b):
        page = timeline(actor=None, contact=contact)

    assert page.activities == []

"""Field changes on the card's timeline (crm.activities.selectors.timeline): one entry per
save among the activities, in time order, paged without cutting a save."""

from __future__ import annotations

import base64
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from crm.activities.selectors import TimelineCursor, timeline
from crm.activities.services import note_add
from crm.clients.services import company_update, contact_update
from crm.deals.models import Pipeline
from crm.deals.services import deal_create, deal_move_stage
from crm.history.selectors import ChangeGroup
from crm.history.services import Change, field_changes_record
from crm.leads.services import lead_create, lead_disqualify


def _kinds(page) -> list[str]:
    return [
        "save:" + ",".join(sorted(change.field for change in entry.entries))
        if isinstance(entry, ChangeGroup)
        else entry.kind
        for entry in page.entries
    ]


def _all_pages(actor, limit: int, **record) -> list:
    entries, before = [], None
    while True:
        page = timeline(actor=actor, limit=limit, before=before, show="all", **record)
        assert len(page.entries) <= limit
        entries.extend(page.entries)
        if page.next_before is None:
            return entries
        before = TimelineCursor.parse(page.next_before.encode())


def test_a_save_is_one_entry_among_the_activities_newest_first(alice, contact):
    note_add(actor=alice, body="First call went well", contact=contact)
    contact_update(actor=alice, contact=contact, job_title="CFO", phones=["+14155550100"], tags=["VIP"])
    note_add(actor=alice, body="Sent the proposal", contact=contact)

    page = timeline(actor=alice, contact=contact, show="all")

    assert _kinds(page) == ["note", "save:job_title,phones,tags", "note"]
    save = page.entries[1]
    assert (save.count, save.first.actor_name, save.via) == (3, "Alice Adams", "by the system")
    assert [activity.kind for activity in page.activities] == ["note", "note"]


def test_saves_by_different_people_or_far_apart_are_separate_entries(alice, rex, contact):
    now = timezone.now()
    field_changes_record(record=contact, changes=[Change("city", "", "Austin")], actor=alice, at=now)
    field_changes_record(record=contact, changes=[Change("region", "", "TX")], actor=rex, at=now)
    field_changes_record(
        record=contact, changes=[Change("country", "", "US")], actor=alice, at=now - timedelta(minutes=5)
    )

    page = timeline(actor=alice, contact=contact, show="all")

    assert _kinds(page) == ["save:region", "save:city", "save:country"]


def test_only_activities_is_the_timeline_as_it_was(alice, contact):
    contact_update(actor=alice, contact=contact, job_title="CFO")
    note = note_add(actor=alice, body="Hello", contact=contact)

    page = timeline(actor=alice, contact=contact, show="activities")

    assert page.entries == page.activities == [note]


def test_only_changes_leaves_the_activities_out(alice, contact):
    contact_update(actor=alice, contact=contact, job_title="CFO")
    note_add(actor=alice, body="Hello", contact=contact)

    page = timeline(actor=alice, contact=contact, show="changes")

    assert _kinds(page) == ["save:job_title"]
    assert page.activities == []


def test_the_default_is_the_activities_callers_knew(alice, contact):
    contact_update(actor=alice, contact=contact, job_title="CFO")

    assert timeline(actor=alice, contact=contact).entries == []


def test_a_stage_move_shows_once_by_its_activity_and_by_itself_among_changes_only(alice):
    deal = deal_create(actor=alice, title="Website")
    stage = Pipeline.objects.get(is_default=True).stages.order_by("position")[1]
    deal_move_stage(actor=alice, deal=deal, stage=stage)

    everything = timeline(actor=alice, deal=deal, show="all")
    changes = timeline(actor=alice, deal=deal, show="changes")

    assert _kinds(everything) == ["stage_change"]
    assert _kinds(changes) == ["save:stage"]


def test_a_disqualification_shows_once_by_its_note(alice):
    lead = lead_create(actor=alice, name="Ann Lead", phone="+14155550100")
    lead_disqualify(actor=alice, lead=lead, reason="No budget")

    assert _kinds(timeline(actor=alice, lead=lead, show="all")) == ["note"]


def test_quick_saves_of_one_field_are_separate_entries(alice, contact):
    contact_update(actor=alice, contact=contact, job_title="CFO")
    contact_update(actor=alice, contact=contact, job_title="CTO")

    page = timeline(actor=alice, contact=contact, show="changes")

    assert [[change.new_value for change in entry.entries] for entry in page.entries] == [["CTO"], ["CFO"]]


def test_at_one_moment_a_companys_save_comes_before_a_contacts_activity(alice, company, contact):
    at = timezone.now() - timedelta(hours=1)
    note_add(actor=alice, body="About the person", contact=contact, occurred_at=at)
    field_changes_record(record=company, changes=[Change("city", "", "Austin")], actor=alice, at=at)

    assert _kinds(timeline(actor=alice, company=company, show="all")) == ["save:city", "note"]


def test_a_companys_timeline_holds_its_own_changes_not_its_contacts(alice, company, contact):
    company_update(actor=alice, company=company, city="Austin")
    contact_update(actor=alice, contact=contact, job_title="CFO")
    note_add(actor=alice, body="About the person", contact=contact)

    page = timeline(actor=alice, company=company, show="all")

    assert _kinds(page) == ["note", "save:city"]


def test_pages_follow_each_other_without_gaps_repeats_or_cut_saves(alice, contact):
    # Twelve moments, each a save of 1 to 4 fields and, a microsecond earlier, two notes
    # at one time (the id orders them).
    start = timezone.now() - timedelta(days=2)
    moments = []
    for number in range(12):
        at = start + timedelta(minutes=number)
        notes = [note_add(actor=alice, body=f"Note {number}", contact=contact, occurred_at=at) for _ in range(2)]
        fields = [Change(f"field_{number}_{part}", "", "x") for part in range(number % 4 + 1)]
        saved = field_changes_record(record=contact, changes=fields, actor=alice, at=at + timedelta(microseconds=1))
        save = ("save", tuple(sorted((row.pk for row in saved), reverse=True)))
        moments.append([save, ("note", notes[1].pk), ("note", notes[0].pk)])
    expected = [entry for moment in reversed(moments) for entry in moment]

    for limit in (1, 2, 3, 5, 50):
        seen = [
            ("save", tuple(change.id for change in entry.entries))
            if isinstance(entry, ChangeGroup)
            else ("note", entry.pk)
            for entry in _all_pages(alice, limit, contact=contact)
        ]
        assert seen == expected, limit


def test_a_save_longer_than_a_page_comes_whole(alice, contact):
    old = timezone.now() - timedelta(days=1)
    note_add(actor=alice, body="Before the import", contact=contact, occurred_at=old - timedelta(hours=1))
    many = [Change(f"custom_fields.field_{number}", None, number) for number in range(30)]
    field_changes_record(record=contact, changes=many, actor=alice, at=old)

    first = timeline(actor=alice, contact=contact, limit=2, show="all")
    second = timeline(actor=alice, contact=contact, limit=2, before=first.next_before, show="all")

    assert [entry.count for entry in first.entries] == [30]
    assert _kinds(second) == ["note"]
    assert second.next_before is None


def test_a_save_cut_by_the_rows_read_is_finished_from_the_next_rows(alice, contact):
    # A page of one entry reads six rows: all of them belong to one save of eight; an older save follows.
    at = timezone.now() - timedelta(days=1)
    field_changes_record(
        record=contact, changes=[Change("city", "", "Austin")], actor=alice, at=at - timedelta(hours=2)
    )
    field_changes_record(record=contact, changes=[Change(f"f{n}", "", "x") for n in range(8)], actor=alice, at=at)

    page = timeline(actor=alice, contact=contact, limit=1, show="changes")
    rest = timeline(actor=alice, contact=contact, limit=1, before=page.next_before, show="changes")

    assert [entry.count for entry in page.entries] == [8]
    assert [entry.count for entry in rest.entries] == [1]
    assert rest.next_before is None


def test_a_page_is_a_bounded_number_of_queries_however_many_entries(
    alice, contact, tier, django_assert_max_num_queries
):
    for number in range(25):
        note_add(actor=alice, body=f"Note {number}", contact=contact)
        contact_update(
            actor=alice, contact=contact, job_title=f"Title {number}", custom_fields={"tier": "gold"}, phones=[]
        )

    # visibility, activities, changes, the rest of a save, custom field labels, phone region
    with django_assert_max_num_queries(6):
        page = timeline(actor=alice, contact=contact, limit=20, show="all")

    assert len(page.entries) == 20


def test_show_must_be_one_of_the_three(alice, contact):
    with pytest.raises(ValidationError) as refused:
        timeline(actor=alice, contact=contact, show="everything")

    assert refused.value.error_dict["show"][0].code == "invalid_choice"


def test_a_cursor_of_before_the_changes_still_reads_as_an_activitys(alice, contact):
    at = timezone.now()
    legacy = base64.urlsafe_b64encode(f"{at.isoformat()}|42".encode()).decode().rstrip("=")

    cursor = TimelineCursor.parse(legacy)

    assert (cursor.occurred_at, cursor.id, cursor.kind) == (at, 42, "activity")
    assert TimelineCursor.parse(TimelineCursor(at, 42, "change").encode()).kind == "change"

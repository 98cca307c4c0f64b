"""The iCalendar text of a feed: exact to RFC 5545, read back by a real parser."""

from __future__ import annotations

from datetime import timedelta

import icalendar
import pytest
from django.utils import timezone

from crm.activities.models import TaskKind
from crm.activities.services import task_complete, task_create
from crm.calendar.ical import calendar_text, escape_text, fold
from crm.clients.services import contact_create


def test_text_values_escape_backslashes_separators_and_line_breaks():
    assert escape_text("a\\b; c, d\ne") == "a\\\\b\\; c\\, d\\ne"


def test_long_lines_fold_at_75_octets_without_splitting_a_character():
    line = "SUMMARY:" + "Встреча с клиентом " * 10  # noqa: RUF001 - Russian on purpose: two-byte letters

    folded = fold(line)

    physical = folded.split("\r\n")
    assert all(len(part.encode()) <= 75 for part in physical)
    assert all(part.startswith(" ") for part in physical[1:])
    assert "".join(part[1:] if index else part for index, part in enumerate(physical)) == line


def test_short_lines_are_left_alone():
    assert fold("SUMMARY:Call") == "SUMMARY:Call"


@pytest.fixture
def tasks(alice):
    contact = contact_create(actor=alice, first_name="Иван", last_name="Петров")
    soon = timezone.now() + timedelta(days=1)
    meeting = task_create(
        actor=alice,
        title="Demo, pricing; and a long agenda " * 3,
        kind=TaskKind.MEETING,
        due_at=soon,
        duration_minutes=90,
        owner=alice,
        description="Bring the contract\nand the price list",
        contact=contact,
    )
    done = task_create(actor=alice, title="Send the offer", kind=TaskKind.EMAIL, due_at=soon, owner=alice)
    task_complete(actor=alice, task=done)
    done.refresh_from_db()
    return meeting, done


def test_a_real_parser_reads_every_task_back(alice, tasks):
    meeting, done = tasks

    text = calendar_text(
        tasks=[meeting, done], user=alice, name="Acme: tasks", host="acme.localhost", link_of=lambda task: "https://x/y"
    )

    assert text.endswith("\r\n") and "\n" not in text.replace("\r\n", "")
    calendar = icalendar.Calendar.from_ical(text)
    events = {str(event["UID"]): event for event in calendar.walk("VEVENT")}
    assert set(events) == {f"task-{meeting.pk}@acme.localhost", f"task-{done.pk}@acme.localhost"}
    event = events[f"task-{meeting.pk}@acme.localhost"]
    assert str(event["SUMMARY"]) == meeting.title
    assert event.decoded("DTSTART") == meeting.due_at.replace(microsecond=0)
    assert event.decoded("DTEND") - event.decoded("DTSTART") == timedelta(minutes=90)
    assert "Bring the contract\nand the price list" in str(event["DESCRIPTION"])
    assert "Иван Петров" in str(event["DESCRIPTION"])
    assert event.walk("VALARM"), "an open task reminds 15 minutes before"
    finished = events[f"task-{done.pk}@acme.localhost"]
    assert str(finished["SUMMARY"]).startswith("✓ ")
    assert not finished.walk("VALARM")


def test_moving_a_task_raises_its_sequence(alice, tasks):
    from crm.activities.services import task_reschedule

    meeting, _done = tasks
    # Made two hours ago and last changed one hour ago, so a change now is a later version.
    type(meeting).objects.filter(pk=meeting.pk).update(
        created_at=meeting.created_at - timedelta(hours=2), updated_at=meeting.updated_at - timedelta(hours=1)
    )
    meeting.refresh_from_db()
    before = icalendar.Calendar.from_ical(
        calendar_text(tasks=[meeting], user=alice, name="n", host="h", link_of=lambda task: "")
    ).walk("VEVENT")[0]

    moved = task_reschedule(actor=alice, task=meeting, due_at=meeting.due_at + timedelta(hours=3))
    after = icalendar.Calendar.from_ical(
        calendar_text(tasks=[moved], user=alice, name="n", host="h", link_of=lambda task: "")
    ).walk("VEVENT")[0]

    assert int(after["SEQUENCE"]) > int(before["SEQUENCE"])
    assert after.decoded("DTSTART") - before.decoded("DTSTART") == timedelta(hours=3)

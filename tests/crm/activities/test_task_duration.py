"""A task's length (a meeting in the calendar): optional, 1 minute to a day."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from crm.activities.models import TaskKind
from crm.activities.services import task_create, task_reschedule, task_update


def _meeting(alice, **extra):
    tomorrow = timezone.now() + timedelta(days=1)
    return task_create(actor=alice, title="Demo", kind=TaskKind.MEETING, due_at=tomorrow, owner=alice, **extra)


def test_a_meeting_keeps_its_length(alice):
    meeting = _meeting(alice, duration_minutes=45)

    assert meeting.duration_minutes == 45


@pytest.mark.parametrize("minutes", [0, 1441, -5])
def test_a_length_outside_a_day_is_refused(alice, minutes):
    with pytest.raises(ValidationError) as refused:
        _meeting(alice, duration_minutes=minutes)

    assert refused.value.error_dict["duration_minutes"][0].code == "invalid"


def test_the_length_can_change_and_be_cleared_and_survives_a_move(alice):
    meeting = _meeting(alice, duration_minutes=30)

    meeting = task_update(actor=alice, task=meeting, duration_minutes=60)
    assert meeting.duration_minutes == 60
    moved = task_reschedule(actor=alice, task=meeting, due_at=meeting.due_at + timedelta(hours=2))
    assert moved.duration_minutes == 60
    cleared = task_update(actor=alice, task=moved, duration_minutes=None)
    assert cleared.duration_minutes is None


def test_leaving_the_length_out_of_an_update_keeps_it(alice):
    meeting = _meeting(alice, duration_minutes=30)

    changed = task_update(actor=alice, task=meeting, title="Demo for the board")

    assert changed.duration_minutes == 30

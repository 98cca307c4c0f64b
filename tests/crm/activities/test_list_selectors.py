"""Task and timeline-entry lists with the filters the API offers; single gets."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from crm.activities.selectors import activity_get, activity_list, task_get, task_list
from crm.activities.services import call_log, note_add, task_create
from crm.errors import RecordNotFound

SOON = timezone.now() + timedelta(days=1)


def test_tasks_filter_by_linked_record_search_and_due_days(alice, contact, company):
    linked = task_create(actor=alice, title="Send contract", due_at=SOON, owner=alice, contact=contact)
    other = task_create(actor=alice, title="Plan party", due_at=SOON + timedelta(days=3), owner=alice)
    assert list(task_list(actor=alice, contact=contact)) == [linked]
    assert list(task_list(actor=alice, contact=contact.pk, company=company)) == []
    assert list(task_list(actor=alice, search="CONTR")) == [linked]
    day = timezone.localdate(SOON + timedelta(days=3))
    assert list(task_list(actor=alice, due_from=day, due_to=day)) == [other]
    assert list(task_list(actor=alice, ordering="-due"))[:2] == [other, linked]
    with pytest.raises(ValidationError) as refused:
        task_list(actor=alice, ordering="colour")
    assert refused.value.error_dict["ordering"][0].code == "invalid_choice"


def test_a_task_another_person_owns_is_not_found_for_a_rep(alice, rita):
    task = task_create(actor=alice, title="Alice's", due_at=SOON, owner=alice)
    assert task_get(actor=alice, task_id=task.pk) == task
    with pytest.raises(RecordNotFound):
        task_get(actor=rita, task_id=task.pk)


def test_entries_filter_by_kind_author_record_and_day(alice, rita, contact):
    call = call_log(actor=alice, direction="outbound", contact=contact)
    note = note_add(actor=alice, body="Old", contact=contact, occurred_at=timezone.now() - timedelta(days=10))
    assert list(activity_list(actor=alice, kind="call", contact=contact)) == [call]
    assert list(activity_list(actor=alice, author=alice, contact=contact.pk)) == [call, note]
    assert list(activity_list(actor=alice, occurred_to=timezone.localdate() - timedelta(days=5))) == [note]
    assert activity_get(actor=alice, activity_id=note.pk) == note
    with pytest.raises(RecordNotFound):
        activity_get(actor=rita, activity_id=note.pk)
    with pytest.raises(ValidationError):
        activity_list(actor=alice, kind="fax")

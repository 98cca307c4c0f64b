"""Task services: create, update, complete, reopen, reschedule, cancel, assign."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from crm.activities.models import Task, TaskStatus
from crm.activities.services import (
    task_assign,
    task_cancel,
    task_complete,
    task_create,
    task_reopen,
    task_reschedule,
    task_update,
)
from crm.errors import AccessDenied, Conflict, RecordNotFound
from crm.notifications.models import Notification, NotificationKind
from tests.conftest import inside

NAIVE = datetime(2030, 1, 1, 9)  # noqa: DTZ001 - a time without a zone, on purpose


def codes(error: ValidationError) -> dict[str, list[str]]:
    return {field: [e.code for e in errors] for field, errors in error.error_dict.items()}


@pytest.fixture
def task(alice):
    return task_create(actor=alice, title="Call Peter", due_at=timezone.now() + timedelta(hours=1), owner=alice)


def test_task_create_reports_every_bad_field_with_a_code(alice):
    with pytest.raises(ValidationError) as caught:
        task_create(actor=alice, title="  ", due_at=NAIVE, owner=alice, kind="dance", priority="urgent")

    assert codes(caught.value) == {
        "title": ["required"],
        "due_at": ["invalid"],
        "kind": ["invalid_choice"],
        "priority": ["invalid_choice"],
    }


def test_task_create_refuses_an_assignee_whose_account_is_off(alice, rita):
    rita.is_active = False
    rita.save()

    with pytest.raises(ValidationError) as caught:
        task_create(actor=alice, title="Call", due_at=timezone.now(), owner=rita)

    assert codes(caught.value) == {"owner": ["inactive_user"]}


def test_task_create_cuts_an_overlong_built_title_instead_of_refusing(alice):
    task = task_create(actor=alice, title="Call " + "x" * 300, due_at=timezone.now(), owner=alice)

    assert len(task.title) == 200


def test_task_update_changes_only_the_fields_given(alice, task):
    task_update(actor=alice, task=task, priority="high")

    task.refresh_from_db()
    assert (task.title, task.priority) == ("Call Peter", "high")


def test_task_update_refuses_an_unknown_kind(alice, task):
    with pytest.raises(ValidationError) as caught:
        task_update(actor=alice, task=task, kind="party")

    assert codes(caught.value) == {"kind": ["invalid_choice"]}


def test_task_complete_marks_it_done_with_the_time(alice, task):
    task_complete(actor=alice, task=task)

    task.refresh_from_db()
    assert task.status == TaskStatus.DONE
    assert task.completed_at is not None


def test_completing_a_done_task_again_keeps_the_first_completion_time(alice, task):
    first = task_complete(actor=alice, task=task).completed_at

    again = task_complete(actor=alice, task=task)

    assert again.completed_at == first


def test_completing_a_cancelled_task_is_a_conflict(alice, task):
    task_cancel(actor=alice, task=task)

    with pytest.raises(Conflict) as caught:
        task_complete(actor=alice, task=task)

    assert caught.value.code == "task_cancelled"


def test_task_reopen_makes_a_done_task_open_again(alice, task):
    task_complete(actor=alice, task=task)

    task_reopen(actor=alice, task=task)

    task.refresh_from_db()
    assert (task.status, task.completed_at) == (TaskStatus.OPEN, None)


def test_task_reschedule_moves_the_due_time(alice, task):
    later = timezone.now() + timedelta(days=2)

    task_reschedule(actor=alice, task=task, due_at=later)

    task.refresh_from_db()
    assert task.due_at == later


def test_task_reschedule_refuses_a_time_without_a_zone(alice, task):
    with pytest.raises(ValidationError) as caught:
        task_reschedule(actor=alice, task=task, due_at=NAIVE)

    assert codes(caught.value) == {"due_at": ["invalid"]}


def test_rescheduling_a_done_task_is_refused(alice, task):
    task_complete(actor=alice, task=task)

    with pytest.raises(Conflict) as caught:
        task_reschedule(actor=alice, task=task, due_at=timezone.now() + timedelta(days=1))

    assert caught.value.code == "task_closed"


def test_cancelling_a_done_task_is_refused(alice, task):
    task_complete(actor=alice, task=task)

    with pytest.raises(Conflict) as caught:
        task_cancel(actor=alice, task=task)

    assert caught.value.code == "task_done"


def test_task_assign_tells_the_new_assignee_in_the_inbox(alice, rita, task):
    task_assign(actor=alice, task=task, owner=rita)

    task.refresh_from_db()
    assert task.owner == rita
    notification = Notification.objects.get(recipient=rita)
    assert notification.kind == NotificationKind.TASK_ASSIGNED
    assert "Call Peter" in notification.title


def test_taking_a_task_yourself_sends_no_notification(alice, rita):
    ritas_task = task_create(actor=alice, title="Call Paul", due_at=timezone.now() + timedelta(hours=1), owner=rita)
    Notification.objects.all().delete()

    task_assign(actor=alice, task=ritas_task, owner=alice)

    assert not Notification.objects.filter(recipient=alice).exists()


def test_a_rep_cannot_take_over_a_colleagues_task(alice, rita, task):
    with pytest.raises(RecordNotFound):
        task_assign(actor=rita, task=task, owner=rita)


def test_task_assign_refuses_no_one(alice, task):
    with pytest.raises(ValidationError) as caught:
        task_assign(actor=alice, task=task, owner=None)

    assert codes(caught.value) == {"owner": ["required"]}


def test_a_trashed_task_cannot_be_completed(alice, task):
    Task.all_objects.filter(pk=task.pk).update(deleted_at=timezone.now())

    with pytest.raises(RecordNotFound):
        task_complete(actor=alice, task=task)


def test_a_switched_off_user_cannot_change_a_task(alice, rita, task):
    rita.is_active = False
    rita.save()

    with pytest.raises(AccessDenied):
        task_complete(actor=rita, task=task)


def test_a_task_of_another_workspace_is_not_found(alice, task, tenant_a, tenant_b):
    with inside(tenant_b), pytest.raises(RecordNotFound):
        task_complete(actor=None, task=task)

    with inside(tenant_a):
        task.refresh_from_db()
    assert task.status == TaskStatus.OPEN

"""Overdue-task reminders, run in this process against the real database.

The clock is the `now` argument: moving it forward is time passing. Emails land in
Django's test outbox. Concurrency, the real worker and the file outbox are in
test_reminders_concurrency.py and test_reminders_worker.py.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.db import connection
from django.utils import timezone

from accounts.models import User
from config.celery import MissingTenant, app
from crm.activities.models import Task, TaskReminder
from crm.activities.reminders import overdue_reminders_send, reminder_slot
from crm.activities.services import task_cancel, task_complete, task_create, task_reopen, task_reschedule
from crm.activities.tasks import overdue_reminders_send as reminder_task
from crm.models import WorkspaceSettings
from crm.notifications.models import Notification, NotificationKind
from tests.conftest import inside

HOUR = timedelta(hours=1)


@pytest.fixture
def now():
    return timezone.now()


@pytest.fixture
def overdue(alice, contact, now) -> Task:
    """Alice's call to Peter, due ten minutes ago."""
    due = now - timedelta(minutes=10)
    return task_create(actor=alice, title="Call Peter", due_at=due, owner=alice, contact=contact)


def reminders_of(task: Task) -> int:
    return TaskReminder.objects.filter(task=task).count()


def overdue_notifications(user: User) -> list[Notification]:
    return list(Notification.objects.filter(recipient=user, kind=NotificationKind.TASK_OVERDUE))


def test_an_overdue_task_reminds_its_assignee_in_the_app_and_by_email(alice, overdue, now):
    run = overdue_reminders_send(now=now)

    assert (run.reminded, run.emailed) == (1, 1)
    [notification] = overdue_notifications(alice)
    assert "Call Peter" in notification.title
    assert "Peter Gibbons" in notification.body
    [email] = mail.outbox
    assert email.to == [alice.email]
    assert "Call Peter" in email.subject
    assert "Peter Gibbons" in email.body
    assert "http://acme.localhost:8000/" in email.body


def test_a_second_run_in_the_same_interval_sends_nothing(alice, overdue, now):
    overdue_reminders_send(now=now)

    run = overdue_reminders_send(now=now + timedelta(minutes=45))

    assert (run.reminded, run.emailed) == (0, 0)
    assert len(overdue_notifications(alice)) == 1
    assert len(mail.outbox) == 1


def test_the_next_interval_sends_one_more_reminder(alice, overdue, now):
    overdue_reminders_send(now=now)

    overdue_reminders_send(now=now + HOUR)
    overdue_reminders_send(now=now + HOUR + timedelta(minutes=5))

    assert reminders_of(overdue) == 2
    assert len(overdue_notifications(alice)) == 2
    assert len(mail.outbox) == 2


def test_the_interval_is_the_workspace_setting(alice, overdue, now):
    WorkspaceSettings.objects.update_or_create(pk=1, defaults={"reminder_interval_minutes": 15})

    for minutes in (0, 5, 10, 15, 20, 30):
        overdue_reminders_send(now=now + timedelta(minutes=minutes))

    # Slots start at due (now - 10 min) + k * 15 min: -10, 5, 20 → runs at 0, 5, 20 remind.
    assert reminders_of(overdue) == 3


def test_slots_are_counted_from_the_due_time():
    due = timezone.now()

    assert reminder_slot(due_at=due, now=due + timedelta(minutes=59), interval=HOUR) == due
    assert reminder_slot(due_at=due, now=due + timedelta(minutes=61), interval=HOUR) == due + HOUR


def test_the_database_computes_the_same_slot_as_python(overdue, now):
    later = now + timedelta(hours=5, minutes=17, seconds=3, microseconds=123)

    overdue_reminders_send(now=later)

    stored = TaskReminder.objects.get(task=overdue).slot
    assert stored == reminder_slot(due_at=overdue.due_at, now=later, interval=HOUR)


def test_a_completed_task_gets_no_more_reminders(alice, overdue, now):
    overdue_reminders_send(now=now)

    task_complete(actor=alice, task=overdue)
    overdue_reminders_send(now=now + HOUR)
    overdue_reminders_send(now=now + 2 * HOUR)

    assert reminders_of(overdue) == 1
    assert len(mail.outbox) == 1


def test_a_cancelled_task_gets_no_reminder(alice, overdue, now):
    task_cancel(actor=alice, task=overdue)

    assert overdue_reminders_send(now=now).reminded == 0


def test_a_reopened_overdue_task_is_reminded_again(alice, overdue, now):
    task_complete(actor=alice, task=overdue)
    task_reopen(actor=alice, task=overdue)

    assert overdue_reminders_send(now=now).reminded == 1


def test_rescheduling_into_the_future_stops_reminders_until_the_new_due_time(alice, overdue, now):
    overdue_reminders_send(now=now)
    new_due = now + 3 * HOUR

    task_reschedule(actor=alice, task=overdue, due_at=new_due)
    for hours in (1, 2):
        overdue_reminders_send(now=now + hours * HOUR)
    assert reminders_of(overdue) == 1

    overdue_reminders_send(now=new_due + timedelta(minutes=1))
    assert TaskReminder.objects.filter(task=overdue).latest("slot").slot == new_due
    assert len(mail.outbox) == 2


def test_a_task_not_due_yet_is_not_reminded(alice, now):
    task_create(actor=alice, title="Later", due_at=now + timedelta(minutes=1), owner=alice)

    assert overdue_reminders_send(now=now).reminded == 0


def test_a_trashed_task_is_not_reminded(overdue, now):
    Task.all_objects.filter(pk=overdue.pk).update(deleted_at=now)

    assert overdue_reminders_send(now=now).reminded == 0


def test_unassigned_tasks_and_switched_off_assignees_are_not_reminded(alice, rita, now):
    task_create(actor=alice, title="Nobody's", due_at=now - HOUR, owner=None)
    task_create(actor=alice, title="Rita's", due_at=now - HOUR, owner=rita)
    rita.is_active = False
    rita.save()

    assert overdue_reminders_send(now=now).reminded == 0


def test_each_assignee_is_reminded_in_their_own_language(alice, rita, now):
    task_create(actor=alice, title="Llamar a Pedro", due_at=now - HOUR, owner=rita)
    task_create(actor=alice, title="Call Paul", due_at=now - HOUR, owner=alice)

    overdue_reminders_send(now=now)

    month = timezone.localtime(now - HOUR).month
    spanish = ["enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre", "octubre",
               "noviembre", "diciembre"][month - 1]  # fmt: skip
    to_rita = next(m for m in mail.outbox if m.to == [rita.email])
    to_alice = next(m for m in mail.outbox if m.to == [alice.email])
    assert spanish in to_rita.body
    assert spanish not in to_alice.body


def test_a_user_without_a_language_gets_the_workspace_language(tenant_b, bob, now):
    with inside(tenant_b):
        User.objects.filter(pk=bob.pk).update(language="")
        task_create(actor=None, title="Позвонить Ивану", due_at=now - HOUR, owner=bob)

        overdue_reminders_send(now=now)

    [email] = mail.outbox
    months = ["января", "февраля", "марта", "апреля", "мая", "июня", "июля", "августа", "сентября", "октября",
              "ноября", "декабря"]  # fmt: skip
    assert any(month in email.body for month in months), email.body


def test_reminders_stay_in_their_workspace(alice, tenant_a, tenant_b, bob, now):
    with inside(tenant_b):
        task_create(actor=None, title="Globex call", due_at=now - HOUR, owner=bob)
    with inside(tenant_a):
        task_create(actor=alice, title="Acme call", due_at=now - HOUR, owner=alice)

        overdue_reminders_send(now=now)

        assert [n.title for n in overdue_notifications(alice)] == ["Overdue task: Acme call"]
    assert [m.to for m in mail.outbox] == [[alice.email]]
    with inside(tenant_b):
        assert not TaskReminder.objects.exists()
        assert not Notification.objects.filter(recipient=bob).exists()


def test_a_run_that_died_before_emailing_is_finished_by_the_next_run_without_a_second_notification(alice, overdue, now):
    # Given a previous run committed the reminder and its notification, then was killed.
    slot = reminder_slot(due_at=overdue.due_at, now=now, interval=HOUR)
    TaskReminder.objects.create(task=overdue, slot=slot, recipient=alice)
    Notification.objects.create(recipient=alice, kind=NotificationKind.TASK_OVERDUE, title="Overdue task: Call Peter")

    run = overdue_reminders_send(now=now + timedelta(minutes=5))
    again = overdue_reminders_send(now=now + timedelta(minutes=10))

    assert (run.reminded, run.emailed) == (0, 1)
    assert (again.reminded, again.emailed) == (0, 0)
    assert len(mail.outbox) == 1
    assert len(overdue_notifications(alice)) == 1
    assert TaskReminder.objects.get(task=overdue).emailed_at is not None


def test_an_unsent_email_of_a_past_interval_is_superseded_not_sent(alice, overdue, now):
    TaskReminder.objects.create(task=overdue, slot=overdue.due_at - HOUR, recipient=alice)
    TaskReminder.objects.filter(task=overdue).update(created_at=now - 2 * HOUR)

    overdue_reminders_send(now=now)

    assert len(mail.outbox) == 1
    assert TaskReminder.objects.get(task=overdue, slot=overdue.due_at - HOUR).emailed_at is None


def test_a_mail_server_failure_is_retried_by_the_next_run(alice, overdue, now, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 9, 2  # nothing listens there

    failed = overdue_reminders_send(now=now)
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    retried = overdue_reminders_send(now=now + timedelta(minutes=5))

    assert (failed.reminded, failed.emailed, failed.email_failures) == (1, 0, 1)
    assert (retried.reminded, retried.emailed) == (0, 1)
    assert len(overdue_notifications(alice)) == 1
    assert len(mail.outbox) == 1


def test_a_run_writes_reminders_and_notifications_in_a_bounded_number_of_queries(
    alice, contact, now, django_assert_max_num_queries
):
    for number in range(30):
        task_create(actor=alice, title=f"Call {number}", due_at=now - HOUR, owner=alice, contact=contact)

    with django_assert_max_num_queries(20):
        run = overdue_reminders_send(now=now)

    assert (run.reminded, run.emailed) == (30, 30)
    assert connection.schema_name == "t_acme"


def test_beat_runs_the_reminder_dispatch_every_five_minutes(settings):
    [entry] = [e for e in settings.CELERY_BEAT_SCHEDULE.values() if e["task"].endswith("overdue_reminders_dispatch")]

    assert entry["task"] in app.tasks
    assert entry["schedule"] == 5 * 60


def test_the_reminder_task_refuses_to_run_without_a_workspace(db):
    result = reminder_task.apply()

    assert isinstance(result.result, MissingTenant)

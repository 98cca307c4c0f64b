"""Reminder runs racing each other on committed data: threads with their own connections,
and a second database session standing in for another worker mid-transaction."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import timedelta

import psycopg
import pytest
from django.core import mail
from django.db import connection
from django.utils import timezone

from accounts.models import User
from crm.activities.models import Task, TaskReminder
from crm.activities.reminders import ReminderRun, overdue_reminders_send, reminder_slot
from crm.activities.services import task_create
from crm.notifications.models import Notification, NotificationKind
from tenants.models import Tenant
from tenants.threads import bound_to_current_tenant
from tests.conftest import ALICE_EMAIL, inside

HOUR = timedelta(hours=1)


@pytest.fixture
def acme_committed(committed_db) -> Iterator[User]:
    """Alice in Acme, on committed data; every task and notification made here is removed.

    (Not the `tenant_a` fixture: it opens the rolled-back test transaction.)
    """
    with inside(Tenant.objects.get(slug="acme")):
        alice = User.objects.get(email=ALICE_EMAIL)
        since = timezone.now()
        try:
            yield alice
        finally:
            Task.all_objects.filter(created_at__gte=since).delete()
            Notification.objects.filter(created_at__gte=since).delete()


def overdue_tasks(alice: User, count: int, now) -> list[Task]:
    return [
        task_create(actor=None, title=f"Call {number}", due_at=now - timedelta(minutes=number + 1), owner=alice)
        for number in range(count)
    ]


def concurrently(runs: int, now) -> list[ReminderRun]:
    start = threading.Barrier(runs)

    def one_run() -> ReminderRun:
        start.wait()
        return overdue_reminders_send(now=now)

    with ThreadPoolExecutor(max_workers=runs) as pool:
        futures = [pool.submit(bound_to_current_tenant(one_run)) for _ in range(runs)]
        return [future.result(timeout=60) for future in futures]


def test_four_runs_at_the_same_moment_remind_each_task_once(acme_committed):
    alice, now = acme_committed, timezone.now()
    tasks = overdue_tasks(alice, 40, now)

    runs = concurrently(4, now)

    assert sum(run.reminded for run in runs) == 40
    assert sum(run.emailed for run in runs) == 40
    assert len(mail.outbox) == 40
    assert sorted(m.subject for m in mail.outbox) == sorted(f"Overdue task: {t.title}" for t in tasks)
    assert TaskReminder.objects.filter(task__in=tasks).count() == 40
    assert Notification.objects.filter(recipient=alice, kind=NotificationKind.TASK_OVERDUE).count() == 40


def other_session() -> psycopg.Connection:
    """A second database session in Acme's schema, like another worker's."""
    params = connection.settings_dict
    session = psycopg.connect(
        host=params.get("HOST") or "127.0.0.1",
        port=params.get("PORT") or 5432,
        user=params.get("USER") or "",
        password=params.get("PASSWORD") or None,
        dbname=params["NAME"],
    )
    session.execute(f"SET search_path TO {connection.schema_name}, public")  # our own schema name, not input
    return session


def claim_in(session: psycopg.Connection, task: Task, slot, recipient: User) -> None:
    session.execute(
        f"INSERT INTO {TaskReminder._meta.db_table} (task_id, slot, recipient_id, created_at) "
        "VALUES (%s, %s, %s, now())",
        (task.pk, slot, recipient.pk),
    )


def wait_until_blocked(session: psycopg.Connection, second: Future) -> None:
    """Until some other session waits for a lock held by `session` (up to 60 s on a busy machine)."""
    pid = session.info.backend_pid
    watcher = other_session()
    try:
        for _ in range(1200):
            blocked = watcher.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE %s = ANY(pg_blocking_pids(pid))", (pid,)
            ).fetchone()[0]
            if blocked:
                return
            if second.done():
                second.result()  # its own error, if it failed
                raise AssertionError("the second run finished without waiting for the first")
            time.sleep(0.05)
        raise AssertionError("the second run never waited for the first")
    finally:
        watcher.close()


@pytest.mark.parametrize("first_run_ends", ["commits", "dies"])
def test_a_run_that_meets_a_slot_being_claimed_waits_and_then_does_only_what_is_left(acme_committed, first_run_ends):
    alice, now = acme_committed, timezone.now()
    [task] = overdue_tasks(alice, 1, now)
    first = other_session()
    claim_in(first, task, reminder_slot(due_at=task.due_at, now=now, interval=HOUR), alice)

    with ThreadPoolExecutor(max_workers=1) as pool:
        second = pool.submit(bound_to_current_tenant(lambda: overdue_reminders_send(now=now)))
        try:
            wait_until_blocked(first, second)
        except BaseException:
            first.close()  # never leave the second run waiting on our lock: the pool would hang
            raise
        first.commit() if first_run_ends == "commits" else first.close()  # a killed worker's transaction rolls back
        run = second.result(timeout=30)
    if not first.closed:
        first.close()

    assert TaskReminder.objects.filter(task=task).count() == 1
    if first_run_ends == "commits":
        # The first run owns the slot; its email is still unclaimed, so the second sends it.
        assert (run.reminded, run.emailed) == (0, 1)
        assert not Notification.objects.filter(recipient=alice, kind=NotificationKind.TASK_OVERDUE).exists()
    else:
        assert (run.reminded, run.emailed) == (1, 1)
        assert Notification.objects.filter(recipient=alice, kind=NotificationKind.TASK_OVERDUE).count() == 1
    assert len(mail.outbox) == 1

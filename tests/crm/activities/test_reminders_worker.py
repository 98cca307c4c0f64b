"""Overdue reminders through a real `celery worker` process, the real broker and a file
outbox (EMAIL_URL=filemail://...), on committed data in the session workspaces.

Time passing is simulated by moving the task's whole history back (its due time and its
reminders' slots), which is what an hour going by looks like to the database.
"""

from __future__ import annotations

import email
import email.header
import email.message
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from django.db.models import F
from django.utils import timezone
from django_tenants.utils import schema_context

from accounts.models import User
from crm.activities.models import Task, TaskReminder
from crm.activities.reminders import reminder_slot
from crm.activities.services import task_complete, task_create, task_reschedule
from crm.activities.tasks import overdue_reminders_dispatch, overdue_reminders_send
from crm.leads.models import Lead
from crm.leads.services import lead_create
from crm.notifications.models import Notification, NotificationKind
from tenants.models import Tenant
from tests.conftest import ALICE_EMAIL, BOB_EMAIL, inside
from tests.processes import celery_worker, wait_for

HOUR = timedelta(hours=1)
SEND = "crm.activities.tasks.overdue_reminders_send"

pytestmark = pytest.mark.slow


class Worker:
    """A running worker: its log and its outbox folder."""

    def __init__(self, log: Path, outbox: Path):
        self.log = log
        self.outbox = outbox

    def log_text(self) -> str:
        return self.log.read_text()

    def emails(self) -> list[email.message.Message]:
        """Every message in the file outbox (the file backend separates them with dashes)."""
        messages = []
        for path in sorted(self.outbox.glob("*.log")):
            for chunk in path.read_text().split("\n" + "-" * 79 + "\n"):
                if chunk.strip():
                    messages.append(email.message_from_string(chunk))
        return messages

    def emails_about(self, title: str, *, to: str) -> list[email.message.Message]:
        """Messages to `to` whose subject names the task (other jobs' emails share the outbox)."""
        return [message for message in self.emails() if message["To"] == to and title in subject_of(message)]

    def clear_outbox(self) -> None:
        for path in self.outbox.glob("*"):
            path.unlink()


def subject_of(message: email.message.Message) -> str:
    return str(email.header.make_header(email.header.decode_header(message["Subject"])))


@pytest.fixture(scope="module")
def worker(django_db_setup, tmp_path_factory) -> Iterator[Worker]:
    """A real worker (two processes, so runs can overlap) on the test database and broker."""
    folder = tmp_path_factory.mktemp("reminder-worker")
    outbox = folder / "outbox"
    outbox.mkdir()
    log_file = folder / "worker.log"
    # Four slashes: an absolute path (django-environ drops the first one).
    with celery_worker(log_file, concurrency=2, EMAIL_URL=f"filemail:///{outbox}"):
        yield Worker(log_file, outbox)


def send_runs_finished(worker: Worker) -> int:
    return sum(1 for line in worker.log_text().splitlines() if f"Task {SEND}[" in line and " succeeded " in line)


def run_in(worker: Worker, schema_name: str) -> None:
    """Queue one reminder run for a workspace and wait until the worker has finished it."""
    with schema_context(schema_name):
        task_id = overdue_reminders_send.delay().id
    assert wait_for(lambda: f"{SEND}[{task_id}] succeeded" in worker.log_text(), timeout=60), worker.log_text()


@pytest.fixture
def workspaces(committed_db, worker) -> Iterator[tuple[Tenant, Tenant]]:
    """Acme and Globex on committed data; tasks and notifications made in them are removed after."""
    acme, globex = Tenant.objects.get(slug="acme"), Tenant.objects.get(slug="globex")
    worker.clear_outbox()
    since = timezone.now()
    try:
        yield acme, globex
    finally:
        for tenant in (acme, globex):
            with inside(tenant):
                Task.all_objects.filter(created_at__gte=since).delete()
                Notification.objects.filter(created_at__gte=since).delete()
        with inside(acme):
            Lead.all_objects.filter(created_at__gte=since).delete()


def overdue_task(title: str, email_address: str) -> Task:
    owner = User.objects.get(email=email_address)
    return task_create(actor=None, title=title, due_at=timezone.now() - timedelta(minutes=5), owner=owner)


def an_hour_passes(task: Task) -> None:
    Task.all_objects.filter(pk=task.pk).update(due_at=F("due_at") - HOUR)
    TaskReminder.objects.filter(task=task).update(slot=F("slot") - HOUR, created_at=F("created_at") - HOUR)


def overdue_notifications(email_address: str) -> int:
    return Notification.objects.filter(recipient__email=email_address, kind=NotificationKind.TASK_OVERDUE).count()


def test_a_new_leads_overdue_follow_up_is_reminded_once_by_email_and_in_the_app(workspaces, worker):
    acme, _globex = workspaces
    with inside(acme):
        alice = User.objects.get(email=ALICE_EMAIL)
        lead = lead_create(
            actor=None, name="Walter White", email="walter@example.com", owner=alice, source={"utm_source": "google"}
        )
        [task] = Task.objects.filter(lead=lead)
        assert task.due_at == lead.created_at + HOUR  # the workspace's follow-up delay
        Task.all_objects.filter(pk=task.pk).update(due_at=timezone.now() - timedelta(minutes=1))

    run_in(worker, acme.schema_name)
    run_in(worker, acme.schema_name)

    assert len(worker.emails_about("Walter White", to=ALICE_EMAIL)) == 1
    with inside(acme):
        assert overdue_notifications(ALICE_EMAIL) == 1


def test_two_beat_processes_dispatching_at_once_still_remind_once(workspaces, worker):
    acme, _globex = workspaces
    with inside(acme):
        task = overdue_task("Call Peter", ALICE_EMAIL)
    finished = send_runs_finished(worker)
    tenants = Tenant.objects.exclude(schema_name="public").count()

    # Two beat processes each put a dispatch on the queue at the same moment.
    beats = [threading.Thread(target=overdue_reminders_dispatch.delay, kwargs={"spread_seconds": 0}) for _ in (1, 2)]
    for beat in beats:
        beat.start()
    for beat in beats:
        beat.join()

    assert wait_for(lambda: send_runs_finished(worker) >= finished + 2 * tenants, timeout=60), worker.log_text()
    assert len(worker.emails_about("Call Peter", to=ALICE_EMAIL)) == 1
    with inside(acme):
        assert TaskReminder.objects.filter(task=task).count() == 1
        assert overdue_notifications(ALICE_EMAIL) == 1


def test_after_an_interval_the_worker_reminds_once_more(workspaces, worker):
    acme, _globex = workspaces
    with inside(acme):
        task = overdue_task("Call Peter", ALICE_EMAIL)
    run_in(worker, acme.schema_name)

    with inside(acme):
        an_hour_passes(task)
    run_in(worker, acme.schema_name)
    run_in(worker, acme.schema_name)

    assert len(worker.emails_about("Call Peter", to=ALICE_EMAIL)) == 2
    with inside(acme):
        assert TaskReminder.objects.filter(task=task).count() == 2
        assert overdue_notifications(ALICE_EMAIL) == 2


@pytest.mark.parametrize("done_by", ["completing", "rescheduling"])
def test_completing_or_rescheduling_the_task_stops_the_reminders(workspaces, worker, done_by):
    acme, _globex = workspaces
    with inside(acme):
        task = overdue_task("Call Peter", ALICE_EMAIL)
    run_in(worker, acme.schema_name)

    with inside(acme):
        if done_by == "completing":
            task_complete(actor=None, task=task)
        else:
            task_reschedule(actor=None, task=task, due_at=timezone.now() + 3 * HOUR)
        an_hour_passes(task)
    run_in(worker, acme.schema_name)

    assert len(worker.emails_about("Call Peter", to=ALICE_EMAIL)) == 1
    with inside(acme):
        assert overdue_notifications(ALICE_EMAIL) == 1


def test_each_workspace_is_reminded_only_of_its_own_tasks(workspaces, worker):
    acme, globex = workspaces
    with inside(acme):
        overdue_task("Acme call", ALICE_EMAIL)
    with inside(globex):
        overdue_task("Globex call", BOB_EMAIL)

    run_in(worker, acme.schema_name)

    assert len(worker.emails_about("Acme call", to=ALICE_EMAIL)) == 1
    assert not worker.emails_about("Globex call", to=BOB_EMAIL)
    with inside(globex):
        assert not TaskReminder.objects.exists()
        assert overdue_notifications(BOB_EMAIL) == 0

    run_in(worker, globex.schema_name)

    assert len(worker.emails_about("Globex call", to=BOB_EMAIL)) == 1
    assert not worker.emails_about("Globex call", to=ALICE_EMAIL)
    with inside(acme):
        assert overdue_notifications(ALICE_EMAIL) == 1


def test_a_run_killed_after_committing_is_finished_by_the_next_without_duplicates(workspaces, worker):
    acme, _globex = workspaces
    with inside(acme):
        task = overdue_task("Call Peter", ALICE_EMAIL)
        alice = task.owner
        # As if a worker committed the reminder and its notification, then was killed before emailing.
        slot = reminder_slot(due_at=task.due_at, now=timezone.now(), interval=HOUR)
        TaskReminder.objects.create(task=task, slot=slot, recipient=alice)
        Notification.objects.create(recipient=alice, kind=NotificationKind.TASK_OVERDUE, title="Call Peter")

    run_in(worker, acme.schema_name)
    run_in(worker, acme.schema_name)

    assert len(worker.emails_about("Call Peter", to=ALICE_EMAIL)) == 1
    with inside(acme):
        assert overdue_notifications(ALICE_EMAIL) == 1
        assert TaskReminder.objects.get(task=task).emailed_at is not None

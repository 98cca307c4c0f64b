"""Overdue-task reminders: in the app and by email, once per interval, until the task is
done or rescheduled. Run for the current tenant by `crm.activities.tasks`.

Exactly one reminder per task per interval, even with two beat processes, two workers
or a worker killed mid-run:

* The interval "slot" a reminder covers is counted from the task's due time
  (`reminder_slot`), so the same task at the same moment always maps to the same slot,
  whichever process computes it, and a new due time starts a new series.
* A slot is claimed by inserting TaskReminder(task, slot) under a unique constraint with
  `INSERT ... ON CONFLICT DO NOTHING RETURNING`: only the process whose insert went in
  gets the row back, and only it writes the in-app notification, in the same
  transaction. A concurrent run blocks on the conflicting key until the first commits,
  then inserts nothing.
* Email cannot join a database transaction, so it goes out after the commit, and each
  reminder's email is claimed first (`emailed_at` set and committed), sent second. Any
  run sends the emails that are still unclaimed, so a run that died between committing
  its reminders and emailing them is finished by the next one. The price of never
  sending twice: a worker killed in the milliseconds between claiming an email and
  handing it to the mail server loses that one email (the in-app notification stays).
  A mail server error un-claims the email so that the next run tries again, for as long
  as the reminder is the task's current one (one interval).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.core import mail
from django.db import connection, transaction
from django.db.models import F
from django.template.loader import render_to_string
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _
from django_tenants.utils import get_tenant_model

from accounts.models import User
from crm.activities.models import Task, TaskReminder, TaskStatus
from crm.notifications.services import Message, NotificationKind, notify_many
from crm.selectors import workspace_settings

logger = logging.getLogger(__name__)

# Reminders claimed per transaction; bounds lock time and memory for a tenant with a
# large backlog of neglected tasks.
BATCH_SIZE = 500

# Claims the current slot of every overdue open task not reminded in it yet. The slot
# arithmetic is the SQL twin of `reminder_slot` (a test holds them equal). Table names
# come from our own models' Meta, never from input.
_REMINDER, _TASK, _USER = TaskReminder._meta.db_table, Task._meta.db_table, User._meta.db_table
_CLAIM_SQL = f"""
INSERT INTO {_REMINDER} (task_id, slot, recipient_id, created_at)
SELECT due.id, due.slot, due.owner_id, %(now)s
FROM (
    SELECT t.id, t.owner_id, t.due_at,
           t.due_at + floor(extract(epoch FROM (%(now)s - t.due_at)) / %(step)s) * %(step)s * interval '1 second'
               AS slot
    FROM {_TASK} t
    JOIN {_USER} u ON u.id = t.owner_id AND u.is_active
    WHERE t.status = %(open)s AND t.deleted_at IS NULL AND t.due_at < %(now)s
) AS due
WHERE NOT EXISTS (SELECT 1 FROM {_REMINDER} r WHERE r.task_id = due.id AND r.slot = due.slot)
ORDER BY due.due_at, due.id
LIMIT %(batch)s
ON CONFLICT ON CONSTRAINT one_reminder_per_task_and_slot DO NOTHING
RETURNING id
"""  # noqa: S608 - identifiers from model Meta, values bound as parameters


@dataclass(frozen=True)
class ReminderRun:
    """What one run did in the current tenant."""

    reminded: int
    emailed: int
    email_failures: int


def reminder_slot(*, due_at: datetime, now: datetime, interval: timedelta) -> datetime:
    """The start of the reminder interval `now` falls in, counting intervals from `due_at`."""
    return due_at + ((now - due_at) // interval) * interval


def overdue_reminders_send(*, now: datetime | None = None) -> ReminderRun:
    """Remind the assignee of every overdue open task in the current tenant, in the app and
    by email, at most once per task per reminder interval (see the module docstring).

    Safe to run at any time, as often as wanted, concurrently with itself.
    """
    now = now or timezone.now()
    interval = timedelta(minutes=workspace_settings().reminder_interval_minutes)
    reminded = 0
    while True:
        claimed = overdue_reminders_claim(now=now, interval=interval)
        reminded += claimed
        # Fewer than a full batch: nothing is left, or a concurrent run took the rest.
        if claimed < BATCH_SIZE:
            break
    emailed, failures = reminder_emails_send(now=now, interval=interval)
    if reminded or emailed or failures:
        logger.info(
            "overdue task reminders", extra={"reminded": reminded, "emailed": emailed, "email_failures": failures}
        )
    return ReminderRun(reminded=reminded, emailed=emailed, email_failures=failures)


@transaction.atomic
def overdue_reminders_claim(*, now: datetime, interval: timedelta) -> int:
    """Claim up to BATCH_SIZE due reminder slots and write their in-app notifications,
    all in one transaction; returns how many this call claimed (0 if another run did)."""
    with connection.cursor() as cursor:
        cursor.execute(
            _CLAIM_SQL,
            {"now": now, "step": int(interval.total_seconds()), "open": TaskStatus.OPEN, "batch": BATCH_SIZE},
        )
        ids = [row[0] for row in cursor.fetchall()]
    if not ids:
        return 0
    reminders = list(_with_task_details(TaskReminder.objects.filter(pk__in=ids)))
    context = _EmailContext.current()
    messages = []
    for reminder in reminders:
        with context.speaking_to(reminder.recipient):
            messages.append(
                Message(
                    recipient=reminder.recipient,
                    kind=NotificationKind.TASK_OVERDUE,
                    title=_subject(reminder.task),
                    body=_summary(reminder.task, context=context),
                )
            )
    notify_many(messages=messages)
    return len(ids)


def reminder_emails_send(*, now: datetime, interval: timedelta) -> tuple[int, int]:
    """Email every reminder not emailed yet whose task is still open and due as it was;
    returns (sent, not sent). Claims before sending: see the module docstring.

    On the first mail server error the run stops emailing and gives back the claims it
    has not used, so the next run retries them instead of this one hammering a server
    that is down.
    """
    context = _EmailContext.current()
    mailer = mail.get_connection()
    sent = 0
    try:
        while True:
            batch = _claim_unsent(now=now, interval=interval)
            for position, reminder in enumerate(batch):
                try:
                    _send(reminder, context=context, mailer=mailer)
                except Exception:  # the mail server's error, whatever its type: retry next run
                    logger.exception("task reminder email failed", extra={"reminder": reminder.pk})
                    unsent = [r.pk for r in batch[position:]]
                    TaskReminder.objects.filter(pk__in=unsent).update(emailed_at=None)
                    return sent, len(unsent)
                sent += 1
            if len(batch) < BATCH_SIZE:
                return sent, 0
    finally:
        mailer.close()


@transaction.atomic
def _claim_unsent(*, now: datetime, interval: timedelta) -> list[TaskReminder]:
    # SKIP LOCKED: a concurrent run claiming the same rows is passed by, not waited for.
    queryset = (
        TaskReminder.objects.select_for_update(skip_locked=True, of=("self",))
        .filter(
            emailed_at__isnull=True,
            # Older ones are superseded by the task's next reminder.
            created_at__gt=now - interval,
            task__status=TaskStatus.OPEN,
            task__deleted_at__isnull=True,
            # Rescheduled since: this reminder belongs to the old series.
            slot__gte=F("task__due_at"),
            # Handed to someone else since: the new assignee gets the next reminder.
            recipient_id=F("task__owner_id"),
            recipient__is_active=True,
        )
        .order_by("created_at", "id")
    )
    batch = list(_with_task_details(queryset)[:BATCH_SIZE])
    if batch:
        TaskReminder.objects.filter(pk__in=[reminder.pk for reminder in batch]).update(emailed_at=timezone.now())
    return batch


def _with_task_details(queryset):
    return queryset.select_related("recipient", "task", "task__lead", "task__contact", "task__company", "task__deal")


def _send(reminder: TaskReminder, *, context: _EmailContext, mailer) -> None:
    task = reminder.task
    with context.speaking_to(reminder.recipient):
        body = render_to_string(
            "activities/email/task_overdue.txt",
            {
                "user": reminder.recipient,
                "task": task,
                "due": context.when(task.due_at),
                "about": _linked_record(task),
                "workspace_url": context.workspace_url,
                "interval_minutes": context.interval_minutes,
            },
        )
        mail.send_mail(
            subject=_subject(task),
            message=body,
            from_email=None,
            recipient_list=[reminder.recipient.email],
            connection=mailer,
        )


def _subject(task: Task) -> str:
    return _("Overdue task: %(title)s") % {"title": task.title}


def _summary(task: Task, *, context: _EmailContext) -> str:
    about = _linked_record(task)
    due = context.when(task.due_at)
    # The time never ends a sentence: English formats end in "p.m.".
    if about:
        return _("%(about)s: was due %(due)s and is still open.") % {"about": about, "due": due}
    return _("Was due %(due)s and is still open.") % {"due": due}


def _linked_record(task: Task) -> str:
    for record in (task.lead, task.contact, task.deal, task.company):
        if record is not None:
            return str(record)
    return ""


@dataclass(frozen=True)
class _EmailContext:
    """The current tenant's language, time zone and address, read once per run."""

    language: str
    zone: ZoneInfo
    workspace_url: str
    interval_minutes: int

    @classmethod
    def current(cls) -> _EmailContext:
        tenant = get_tenant_model().objects.filter(schema_name=connection.schema_name).first()
        workspace = workspace_settings()
        try:
            zone = ZoneInfo(workspace.time_zone)
        except (ZoneInfoNotFoundError, ValueError):
            zone = ZoneInfo("UTC")
        slug = getattr(tenant, "slug", "")
        return cls(
            language=getattr(tenant, "language", "") or settings.LANGUAGE_CODE,
            zone=zone,
            workspace_url=f"{settings.SITE_SCHEME}://{slug}.{settings.BASE_DOMAIN}/" if slug else "",
            interval_minutes=workspace.reminder_interval_minutes,
        )

    def speaking_to(self, user: User):
        """Translation in the user's language, else the workspace's."""
        return translation.override(user.language or self.language)

    def when(self, moment: datetime) -> str:
        return formats.date_format(moment.astimezone(self.zone), "DATETIME_FORMAT")

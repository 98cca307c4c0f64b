"""Writes for tasks and the client-card timeline.

Every service asks `crm.access` first and reports bad input as a ValidationError whose
fields carry codes, so the API and the web pages show it without a 500.
Overdue-task reminders live in `crm.activities.reminders`.
"""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Final

from django.core.exceptions import NON_FIELD_ERRORS
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from crm import access
from crm.access import Action
from crm.activities.models import Activity, ActivityKind, Direction, Task, TaskKind, TaskPriority, TaskStatus
from crm.errors import Conflict, RecordNotFound
from crm.notifications.services import NotificationKind, notify
from crm.validation import FieldErrors

TITLE_MAX = Task._meta.get_field("title").max_length
SUBJECT_MAX = Activity._meta.get_field("subject").max_length
OUTCOME_MAX = Activity._meta.get_field("outcome").max_length
# A logged call or meeting longer than a day is a typo, not a call.
DURATION_MAX_SECONDS = 24 * 60 * 60
DURATION_MAX_MINUTES = DURATION_MAX_SECONDS // 60

# Email activities speak of "sent" and "received"; stored as the generic direction.
EMAIL_DIRECTIONS = {
    "sent": Direction.OUTBOUND,
    "received": Direction.INBOUND,
    Direction.OUTBOUND.value: Direction.OUTBOUND,
    Direction.INBOUND.value: Direction.INBOUND,
}


# --- tasks ------------------------------------------------------------------------------


class _Keep(Enum):
    KEEP = "keep"


KEEP: Final = _Keep.KEEP


@transaction.atomic
def task_create(
    *,
    actor: User | None,
    title: str,
    due_at: datetime,
    owner: User | None,
    kind: str = TaskKind.TODO,
    priority: str = TaskPriority.NORMAL,
    description: str = "",
    duration_minutes: int | None = None,
    lead=None,
    contact=None,
    company=None,
    deal=None,
) -> Task:
    """Create an open task for `owner` (the assignee), due at the aware time `due_at`
    (a meeting starts then and lasts `duration_minutes`, 1 to 1,440).

    Raises ValidationError per field (title, due_at, kind, priority, owner, duration_minutes). Sends no
    notification: callers creating tasks for others say why in their own words (a new
    lead's follow-up call comes with "New lead"); `task_assign` tells on a hand-over.
    """
    access.require(actor=actor, action=Action.CREATE, model=Task)
    errors = FieldErrors()
    title = _clean_title(title, errors=errors)
    _check_due_at(due_at, errors=errors)
    _check_choice(kind, TaskKind, field="kind", errors=errors)
    _check_choice(priority, TaskPriority, field="priority", errors=errors)
    _check_assignee(owner, errors=errors)
    _check_duration_minutes(duration_minutes, errors=errors)
    errors.raise_if_any()
    task = Task.objects.create(
        title=title,
        due_at=due_at,
        duration_minutes=duration_minutes,
        owner=owner,
        kind=kind,
        priority=priority,
        description=description,
        lead=lead,
        contact=contact,
        company=company,
        deal=deal,
        created_by=actor,
        updated_by=actor,
    )
    return task


@transaction.atomic
def task_update(
    *,
    actor: User | None,
    task: Task,
    title: str | None = None,
    description: str | None = None,
    kind: str | None = None,
    priority: str | None = None,
    duration_minutes: int | _Keep | None = KEEP,
) -> Task:
    """Change what a task says (None leaves a field as it is; for `duration_minutes`,
    None clears it and leaving it out keeps it).

    Due time and assignee have their own services (`task_reschedule`, `task_assign`)
    because they have side effects. Raises ValidationError per field, RecordNotFound
    for a trashed or invisible task.
    """
    task = _task_for_change(actor=actor, task=task)
    errors = FieldErrors()
    changed: list[str] = []
    if title is not None:
        task.title = _clean_title(title, errors=errors)
        changed.append("title")
    if description is not None:
        task.description = description
        changed.append("description")
    if kind is not None:
        _check_choice(kind, TaskKind, field="kind", errors=errors)
        task.kind = kind
        changed.append("kind")
    if priority is not None:
        _check_choice(priority, TaskPriority, field="priority", errors=errors)
        task.priority = priority
        changed.append("priority")
    if duration_minutes is not KEEP:
        _check_duration_minutes(duration_minutes, errors=errors)
        task.duration_minutes = duration_minutes
        changed.append("duration_minutes")
    errors.raise_if_any()
    return _save(task, actor=actor, fields=changed)


@transaction.atomic
def task_complete(*, actor: User | None, task: Task) -> Task:
    """Mark a task done (reminders about it stop). Completing a done task changes nothing;
    a cancelled task must be reopened first (Conflict `task_cancelled`)."""
    task = _task_for_change(actor=actor, task=task)
    if task.status == TaskStatus.DONE:
        return task
    if task.status == TaskStatus.CANCELLED:
        raise Conflict(_("This task was cancelled; reopen it first."), code="task_cancelled")
    task.status = TaskStatus.DONE
    task.completed_at = timezone.now()
    return _save(task, actor=actor, fields=["status", "completed_at"])


@transaction.atomic
def task_reopen(*, actor: User | None, task: Task) -> Task:
    """Make a done or cancelled task open again; if its due time has passed, reminders resume."""
    task = _task_for_change(actor=actor, task=task)
    if task.status == TaskStatus.OPEN:
        return task
    task.status = TaskStatus.OPEN
    task.completed_at = None
    return _save(task, actor=actor, fields=["status", "completed_at"])


@transaction.atomic
def task_reschedule(*, actor: User | None, task: Task, due_at: datetime) -> Task:
    """Move an open task to a new aware due time.

    Reminder slots are counted from the due time, so a new due time starts a new series:
    none until it passes, then one per interval. Raises ValidationError (`due_at`) and
    Conflict `task_closed` for a done or cancelled task.
    """
    task = _task_for_change(actor=actor, task=task)
    errors = FieldErrors()
    _check_due_at(due_at, errors=errors)
    errors.raise_if_any()
    if task.status != TaskStatus.OPEN:
        raise Conflict(_("Only an open task can be rescheduled."), code="task_closed")
    task.due_at = due_at
    return _save(task, actor=actor, fields=["due_at"])


@transaction.atomic
def task_cancel(*, actor: User | None, task: Task) -> Task:
    """Cancel an open task (reminders stop). A done task stays done (Conflict `task_done`)."""
    task = _task_for_change(actor=actor, task=task)
    if task.status == TaskStatus.CANCELLED:
        return task
    if task.status == TaskStatus.DONE:
        raise Conflict(_("This task is already done."), code="task_done")
    task.status = TaskStatus.CANCELLED
    task.completed_at = None
    return _save(task, actor=actor, fields=["status", "completed_at"])


@transaction.atomic
def task_assign(*, actor: User | None, task: Task, owner: User) -> Task:
    """Give the task to `owner` (an active user); they are told in the inbox unless they
    assigned it to themselves. Overdue reminders go to the new assignee from the next
    interval on. Raises ValidationError (`owner`)."""
    task = _task_for_change(actor=actor, task=task)
    errors = FieldErrors()
    if owner is None:
        errors.add("owner", _("Choose who should do this."), "required")
    else:
        _check_assignee(owner, errors=errors)
    errors.raise_if_any()
    if task.owner_id == owner.pk:
        return task
    task.owner = owner
    task = _save(task, actor=actor, fields=["owner"])
    _tell_assignee(task=task, actor=actor)
    return task


def _task_for_change(*, actor: User | None, task: Task) -> Task:
    """The live task, locked against a concurrent change or reminder run."""
    access.require(actor=actor, action=Action.EDIT, record=task)
    locked = access.visible(Task.objects.select_for_update(of=("self",)), actor=actor, action=Action.EDIT)
    fresh = locked.filter(pk=task.pk).select_related("owner").first()
    if fresh is None:
        raise RecordNotFound(_("This task does not exist."))
    return fresh


def _save(task: Task, *, actor: User | None, fields: list[str]) -> Task:
    if fields:
        task.updated_by = actor
        task.save(update_fields=[*fields, "updated_by", "updated_at"])
    return task


def _tell_assignee(*, task: Task, actor: User | None) -> None:
    # Only a person handing work to someone else is news.
    if actor is None or task.owner is None or task.owner == actor:
        return
    notify(
        recipient=task.owner,
        kind=NotificationKind.TASK_ASSIGNED,
        title=_("New task: %(title)s") % {"title": task.title},
        body=task.description,
    )


def _clean_title(title: str, *, errors: FieldErrors) -> str:
    title = (title or "").strip()
    if not title:
        errors.add("title", _("Say what needs to be done."), "required")
    # Titles built from other fields ("Call <lead name>") may run long: cut, never refuse.
    return title[:TITLE_MAX]


def _check_due_at(due_at: datetime | None, *, errors: FieldErrors) -> None:
    if due_at is None:
        errors.add("due_at", _("Give a due date and time."), "required")
    elif not isinstance(due_at, datetime) or timezone.is_naive(due_at):
        errors.add("due_at", _("Give a due date and time with a time zone."), "invalid")


def _check_choice(value: str, choices: type[models.TextChoices], *, field: str, errors: FieldErrors) -> None:
    if value not in choices.values:
        errors.add(field, _("“%(value)s” is not one of the choices.") % {"value": value}, "invalid_choice")


def _check_duration_minutes(minutes: int | None, *, errors: FieldErrors) -> None:
    if minutes is not None and (not isinstance(minutes, int) or not 1 <= minutes <= DURATION_MAX_MINUTES):
        errors.add(
            "duration_minutes",
            _("Give a length between 1 and %(limit)d minutes.") % {"limit": DURATION_MAX_MINUTES},
            "invalid",
        )


def _check_assignee(owner: User | None, *, errors: FieldErrors) -> None:
    if owner is not None and not owner.is_active:
        errors.add("owner", _("This person's account is switched off."), "inactive_user")


# --- the timeline -----------------------------------------------------------------------


@transaction.atomic
def activity_log(
    *,
    actor: User | None,
    kind: str,
    subject: str = "",
    body: str = "",
    occurred_at: datetime | None = None,
    lead=None,
    contact=None,
    company=None,
    deal=None,
    quote=None,
    direction: str = "",
    duration_seconds: int | None = None,
    outcome: str = "",
) -> Activity:
    """Add an entry to the timeline of the linked records; a deal's last activity moves on.

    The low-level writer other services use for system entries (stage changes, proposals
    sent, conversions); people's entries go through `call_log`, `email_log`,
    `meeting_log` and `note_add`, which validate first.
    """
    access.require(actor=actor, action=Action.CREATE, model=Activity)
    when = occurred_at or timezone.now()
    activity = Activity.objects.create(
        kind=kind,
        subject=subject[:SUBJECT_MAX],
        body=body,
        occurred_at=when,
        author=actor,
        lead=lead,
        contact=contact,
        company=company,
        deal=deal,
        quote=quote,
        direction=direction,
        duration_seconds=duration_seconds,
        outcome=outcome[:OUTCOME_MAX],
    )
    if deal is not None:
        type(deal).all_objects.filter(pk=deal.pk).update(last_activity_at=when)
    return activity


@transaction.atomic
def call_log(
    *,
    actor: User | None,
    direction: str,
    duration_seconds: int | None = None,
    outcome: str = "",
    subject: str = "",
    body: str = "",
    occurred_at: datetime | None = None,
    lead=None,
    contact=None,
    company=None,
    deal=None,
) -> Activity:
    """Record a phone call (inbound or outbound) on the linked client records.

    Raises ValidationError: `direction` invalid_choice, `duration_seconds` invalid,
    `outcome`/`subject` max_length, `occurred_at` invalid, no record linked (__all__
    record_required).
    """
    access.require(actor=actor, action=Action.CREATE, model=Activity)
    errors = FieldErrors()
    _check_choice(direction, Direction, field="direction", errors=errors)
    _check_duration(duration_seconds, errors=errors)
    _check_length(outcome, OUTCOME_MAX, field="outcome", errors=errors)
    _check_entry(subject=subject, occurred_at=occurred_at, links=(lead, contact, company, deal), errors=errors)
    errors.raise_if_any()
    return activity_log(
        actor=actor,
        kind=ActivityKind.CALL,
        direction=direction,
        duration_seconds=duration_seconds,
        outcome=outcome.strip(),
        subject=subject.strip(),
        body=body,
        occurred_at=occurred_at,
        lead=lead,
        contact=contact,
        company=company,
        deal=deal,
    )


@transaction.atomic
def email_log(
    *,
    actor: User | None,
    direction: str,
    subject: str,
    body: str = "",
    occurred_at: datetime | None = None,
    lead=None,
    contact=None,
    company=None,
    deal=None,
) -> Activity:
    """Record an email sent to or received from the client (`direction` "sent"/"received";
    "outbound"/"inbound" are accepted too). Raises ValidationError per field."""
    access.require(actor=actor, action=Action.CREATE, model=Activity)
    errors = FieldErrors()
    stored_direction = EMAIL_DIRECTIONS.get(direction)
    if stored_direction is None:
        errors.add("direction", _("Say whether the email was sent or received."), "invalid_choice")
    if not (subject or "").strip() and not (body or "").strip():
        errors.add("subject", _("Give the email's subject or text."), "required")
    _check_entry(subject=subject, occurred_at=occurred_at, links=(lead, contact, company, deal), errors=errors)
    errors.raise_if_any()
    return activity_log(
        actor=actor,
        kind=ActivityKind.EMAIL,
        direction=stored_direction,
        subject=subject.strip(),
        body=body,
        occurred_at=occurred_at,
        lead=lead,
        contact=contact,
        company=company,
        deal=deal,
    )


@transaction.atomic
def meeting_log(
    *,
    actor: User | None,
    subject: str,
    body: str = "",
    occurred_at: datetime | None = None,
    duration_seconds: int | None = None,
    outcome: str = "",
    lead=None,
    contact=None,
    company=None,
    deal=None,
) -> Activity:
    """Record a meeting held with the client. Raises ValidationError per field."""
    access.require(actor=actor, action=Action.CREATE, model=Activity)
    errors = FieldErrors()
    if not (subject or "").strip():
        errors.add("subject", _("Say what the meeting was about."), "required")
    _check_duration(duration_seconds, errors=errors)
    _check_length(outcome, OUTCOME_MAX, field="outcome", errors=errors)
    _check_entry(subject=subject, occurred_at=occurred_at, links=(lead, contact, company, deal), errors=errors)
    errors.raise_if_any()
    return activity_log(
        actor=actor,
        kind=ActivityKind.MEETING,
        subject=subject.strip(),
        body=body,
        occurred_at=occurred_at,
        duration_seconds=duration_seconds,
        outcome=outcome.strip(),
        lead=lead,
        contact=contact,
        company=company,
        deal=deal,
    )


@transaction.atomic
def note_add(
    *,
    actor: User | None,
    body: str,
    occurred_at: datetime | None = None,
    lead=None,
    contact=None,
    company=None,
    deal=None,
) -> Activity:
    """Pin a free-text note to the linked client records. Raises ValidationError per field."""
    access.require(actor=actor, action=Action.CREATE, model=Activity)
    errors = FieldErrors()
    if not (body or "").strip():
        errors.add("body", _("Write the note."), "required")
    _check_entry(subject="", occurred_at=occurred_at, links=(lead, contact, company, deal), errors=errors)
    errors.raise_if_any()
    return activity_log(
        actor=actor,
        kind=ActivityKind.NOTE,
        body=body.strip(),
        occurred_at=occurred_at,
        lead=lead,
        contact=contact,
        company=company,
        deal=deal,
    )


def _check_entry(*, subject: str, occurred_at: datetime | None, links: tuple, errors: FieldErrors) -> None:
    _check_length(subject, SUBJECT_MAX, field="subject", errors=errors)
    if occurred_at is not None and (not isinstance(occurred_at, datetime) or timezone.is_naive(occurred_at)):
        errors.add("occurred_at", _("Give a date and time with a time zone."), "invalid")
    if all(link is None for link in links):
        errors.add(NON_FIELD_ERRORS, _("Link the entry to a lead, contact, company or deal."), "record_required")


def _check_duration(duration_seconds: int | None, *, errors: FieldErrors) -> None:
    if duration_seconds is None:
        return
    if (
        isinstance(duration_seconds, bool)
        or not isinstance(duration_seconds, int)
        or not 0 <= duration_seconds <= DURATION_MAX_SECONDS
    ):
        errors.add("duration_seconds", _("Give the duration in seconds, at most a day."), "invalid")


def _check_length(value: str, maximum: int, *, field: str, errors: FieldErrors) -> None:
    if len((value or "").strip()) > maximum:
        errors.add(field, _("Keep this under %(max)d characters.") % {"max": maximum}, "max_length")

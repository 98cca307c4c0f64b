"""Writes for tasks and the client-card timeline."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from crm import access
from crm.access import Action
from crm.activities.models import Activity, Task, TaskKind, TaskPriority
from crm.validation import FieldErrors


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
    lead=None,
    contact=None,
    company=None,
    deal=None,
) -> Task:
    """Create a task for `owner` (the assignee); due time must be aware."""
    access.require(actor=actor, action=Action.CREATE)
    errors = FieldErrors()
    if not title.strip():
        errors.add("title", _("Say what needs to be done."), "required")
    if due_at is None or timezone.is_naive(due_at):
        errors.add("due_at", _("Give a due date and time."), "invalid")
    errors.raise_if_any()
    return Task.objects.create(
        title=title.strip()[:200],
        due_at=due_at,
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
    """Add an entry to the timeline of the linked records; a deal's last activity moves on."""
    access.require(actor=actor, action=Action.CREATE)
    when = occurred_at or timezone.now()
    activity = Activity.objects.create(
        kind=kind,
        subject=subject[:255],
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
        outcome=outcome[:100],
    )
    if deal is not None:
        type(deal).all_objects.filter(pk=deal.pk).update(last_activity_at=when)
    return activity

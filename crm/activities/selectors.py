"""Reads for tasks and the client card's timeline, always through `crm.access`."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.core.exceptions import ValidationError
from django.db.models import Model, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from crm import access
from crm.access import Action
from crm.activities.models import Activity, ActivityKind, Task, TaskStatus
from crm.errors import RecordNotFound
from crm.selectors import day_range, workspace_settings

TIMELINE_MAX_PAGE = 200
TASK_RELATED = ("owner", "lead", "contact", "company", "deal")
# The email an entry shows (crm.mail), if any: a reverse one-to-one, joined in the same query.
ACTIVITY_RELATED = ("author", "quote", "email_message")

# ordering parameter → ORDER BY; the id makes pages stable.
TASK_ORDERINGS = {
    "due": ("due_at", "id"),
    "-due": ("-due_at", "-id"),
    "created": ("created_at", "id"),
    "-created": ("-created_at", "-id"),
    "updated": ("updated_at", "id"),
    "-updated": ("-updated_at", "-id"),
}


# --- the timeline -----------------------------------------------------------------------


@dataclass(frozen=True)
class TimelineCursor:
    """Where the next (older) page of a timeline starts: the last shown (occurred_at, id)."""

    occurred_at: datetime
    id: int

    def encode(self) -> str:
        raw = f"{self.occurred_at.isoformat()}|{self.id}".encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def parse(cls, text: str) -> TimelineCursor:
        """Read a cursor a client sent back; a tampered one is a field error, not a 500."""
        broken = ValidationError({"before": [ValidationError(_("This page link is broken."), code="invalid_cursor")]})
        try:
            raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode()
            stamp, _sep, pk = raw.rpartition("|")
            cursor = cls(occurred_at=datetime.fromisoformat(stamp), id=int(pk))
        except (ValueError, binascii.Error, UnicodeDecodeError) as error:
            raise broken from error
        if timezone.is_naive(cursor.occurred_at):
            raise broken
        return cursor


@dataclass(frozen=True)
class TimelinePage:
    activities: list[Activity]
    next_before: TimelineCursor | None


def timeline(
    *,
    actor: User | None,
    contact: Model | None = None,
    company: Model | None = None,
    deal: Model | None = None,
    lead: Model | None = None,
    limit: int = 50,
    before: TimelineCursor | None = None,
) -> TimelinePage:
    """The history of one client record, newest first: calls, emails, meetings, notes,
    stage changes, proposals sent, conversions.

    Give exactly one record. A company's timeline also holds its contacts' entries.
    Keyset-paginated: pass the previous page's `next_before` to get older entries.
    Queries: one (two for a company, which first reads its contact ids). Raises
    AccessDenied when `actor` may not see the record.
    """
    records = {"contact": contact, "company": company, "deal": deal, "lead": lead}
    given = {field: record for field, record in records.items() if record is not None}
    if len(given) != 1:
        raise ValueError("timeline() needs exactly one of contact, company, deal or lead.")
    ((field, record),) = given.items()
    access.require(actor=actor, action=Action.VIEW, record=record)
    limit = max(1, min(limit, TIMELINE_MAX_PAGE))

    if field == "company":
        # A literal id list (not a subquery) keeps the OR indexable: PostgreSQL combines the
        # (company, -occurred_at) and (contact, -occurred_at) indexes with a BitmapOr.
        contact_ids = list(record.contacts.values_list("pk", flat=True))
        scope = Q(company_id=record.pk) | Q(contact_id__in=contact_ids) if contact_ids else Q(company_id=record.pk)
    else:
        scope = Q(**{f"{field}_id": record.pk})
    queryset = access.visible(Activity.objects.filter(scope), actor=actor)
    if before is not None:
        # The redundant `occurred_at <= ...` bound lets the index scan start at the cursor.
        queryset = queryset.filter(
            Q(occurred_at__lt=before.occurred_at) | Q(occurred_at=before.occurred_at, id__lt=before.id),
            occurred_at__lte=before.occurred_at,
        )
    rows = list(queryset.select_related(*ACTIVITY_RELATED).order_by("-occurred_at", "-id")[: limit + 1])
    has_more = len(rows) > limit
    rows = rows[:limit]
    next_before = TimelineCursor(occurred_at=rows[-1].occurred_at, id=rows[-1].pk) if has_more else None
    return TimelinePage(activities=rows, next_before=next_before)


def activity_list(
    *,
    actor: User | None,
    kind: str | None = None,
    author: User | None = None,
    lead: Model | int | None = None,
    contact: Model | int | None = None,
    company: Model | int | None = None,
    deal: Model | int | None = None,
    occurred_from: date | datetime | None = None,
    occurred_to: date | datetime | None = None,
) -> QuerySet[Activity]:
    """Live timeline entries `actor` may see, newest first, with author, proposal and
    linked records joined (one query for any page).

    Each filter is optional: `kind`, `author`, a linked record (entries linked to exactly
    that record; a company's card, which also shows its contacts' entries, is
    `timeline()`), and when it happened (a bare date is its whole day, both ends
    inclusive). Raises ValidationError (`kind` invalid_choice).
    """
    if kind is not None and kind not in ActivityKind.values:
        raise ValidationError({"kind": [ValidationError(_("Unknown kind of activity."), code="invalid_choice")]})
    queryset = Activity.objects.filter(_linked_to(lead=lead, contact=contact, company=company, deal=deal))
    if kind is not None:
        queryset = queryset.filter(kind=kind)
    if author is not None:
        queryset = queryset.filter(author=author)
    queryset = queryset.filter(day_range("occurred_at", occurred_from, occurred_to))
    return access.visible(queryset, actor=actor).select_related(*ACTIVITY_RELATED).order_by("-occurred_at", "-id")


def activity_get(*, actor: User | None, activity_id: int) -> Activity:
    """The live timeline entry with this id if `actor` may see it; RecordNotFound otherwise."""
    queryset = access.visible(Activity.objects.filter(pk=activity_id), actor=actor)
    activity = queryset.select_related(*ACTIVITY_RELATED).first()
    if activity is None:
        raise RecordNotFound(_("This entry does not exist or you cannot see it."))
    return activity


# --- tasks ------------------------------------------------------------------------------


def task_list(
    *,
    actor: User | None,
    owner: User | None = None,
    status: str | None = None,
    due_before: datetime | None = None,
    due_from: date | datetime | None = None,
    due_to: date | datetime | None = None,
    overdue: bool | None = None,
    lead: Model | int | None = None,
    contact: Model | int | None = None,
    company: Model | int | None = None,
    deal: Model | int | None = None,
    search: str = "",
    ordering: str = "due",
    now: datetime | None = None,
) -> QuerySet[Task]:
    """Live tasks `actor` may see, soonest due first, with assignee and linked records
    joined (one query however many rows are read).

    `overdue=True`: open and past due; `overdue=False`: everything else. `due_from` /
    `due_to` bound the due time (a bare date is its whole day, both ends inclusive);
    `lead`, `contact`, `company`, `deal` keep tasks linked to that record; `search`
    matches part of the title, whatever the case. Raises ValidationError (`status`
    invalid_choice, `due_before` invalid, `ordering` invalid_choice).
    """
    errors: dict[str, list[ValidationError]] = {}
    if status is not None and status not in TaskStatus.values:
        errors["status"] = [ValidationError(_("Unknown task status."), code="invalid_choice")]
    if due_before is not None and (not isinstance(due_before, datetime) or timezone.is_naive(due_before)):
        errors["due_before"] = [ValidationError(_("Give a date and time with a time zone."), code="invalid")]
    if ordering not in TASK_ORDERINGS:
        errors["ordering"] = [ValidationError(_("This list cannot be sorted that way."), code="invalid_choice")]
    if errors:
        raise ValidationError(errors)
    queryset = access.visible(Task.objects.all(), actor=actor)
    if owner is not None:
        queryset = queryset.filter(owner=owner)
    if status is not None:
        queryset = queryset.filter(status=status)
    if due_before is not None:
        queryset = queryset.filter(due_at__lt=due_before)
    queryset = queryset.filter(day_range("due_at", due_from, due_to))
    if overdue is not None:
        is_overdue = Q(status=TaskStatus.OPEN, due_at__lt=now or timezone.now())
        queryset = queryset.filter(is_overdue) if overdue else queryset.exclude(is_overdue)
    queryset = queryset.filter(_linked_to(lead=lead, contact=contact, company=company, deal=deal))
    if (search or "").strip():
        queryset = queryset.filter(title__icontains=search.strip())
    return queryset.select_related(*TASK_RELATED).order_by(*TASK_ORDERINGS[ordering])


def task_get(*, actor: User | None, task_id: int) -> Task:
    """The live task with this id if `actor` may see it, with assignee and links joined;
    RecordNotFound otherwise (missing, trashed, invisible, another workspace's)."""
    task = access.visible(Task.objects.filter(pk=task_id), actor=actor).select_related(*TASK_RELATED).first()
    if task is None:
        raise RecordNotFound(_("This task does not exist or you cannot see it."))
    return task


def _linked_to(**links: Model | int | None) -> Q:
    condition = Q()
    for field, record in links.items():
        if record is not None:
            condition &= Q(**{f"{field}_id": record.pk if isinstance(record, Model) else record})
    return condition


def tasks_overdue(*, user: User, now: datetime | None = None) -> QuerySet[Task]:
    """`user`'s open tasks whose due time has passed, oldest first."""
    return task_list(actor=user, owner=user, overdue=True, now=now)


def tasks_due_today(*, user: User, now: datetime | None = None) -> QuerySet[Task]:
    """`user`'s open tasks still due later today (in the workspace's time zone).

    Disjoint from `tasks_overdue`: together they are everything due by the end of today.
    """
    now = now or timezone.now()
    end_of_today = _end_of_day(now)
    return task_list(actor=user, owner=user, status=TaskStatus.OPEN).filter(due_at__gte=now, due_at__lt=end_of_today)


def _end_of_day(now: datetime) -> datetime:
    try:
        zone = ZoneInfo(workspace_settings().time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    local = now.astimezone(zone)
    midnight = datetime.combine(local.date() + timedelta(days=1), datetime.min.time(), tzinfo=zone)
    return midnight

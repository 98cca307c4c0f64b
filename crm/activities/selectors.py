"""Reads for tasks and the client card's timeline, always through `crm.access`."""

from __future__ import annotations

import base64
import binascii
import dataclasses
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.core.exceptions import ValidationError
from django.db.models import Exists, Model, OuterRef, Q, QuerySet, TextChoices
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import User
from crm import access
from crm.access import Action
from crm.activities.models import Activity, ActivityKind, Task, TaskStatus
from crm.errors import RecordNotFound
from crm.history.selectors import (
    ChangeGroup,
    history_entries,
    record_changes_queryset,
    same_save,
    save_rest,
)
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


class TimelineShow(TextChoices):
    """What a card's timeline shows: everything, the activities only, the field changes only."""

    ALL = "all", gettext_lazy("Everything")
    ACTIVITIES = "activities", gettext_lazy("Activities")
    CHANGES = "changes", gettext_lazy("Changes")


ACTIVITY = "activity"
CHANGE = "change"
# Change rows read per timeline entry asked for: a save is often several rows, and a
# page should fill up without a second round trip.
CHANGE_ROWS_PER_ENTRY = 3
# Where entries of one time go: a save's changes before the activities of that moment
# (the order is time, then this rank, then id, all descending).
_RANK = {ACTIVITY: 0, CHANGE: 1}


@dataclass(frozen=True)
class TimelineCursor:
    """Where the next (older) page of a timeline starts: the last shown entry's
    (occurred_at, id) and whether it was an activity or a field change."""

    occurred_at: datetime
    id: int
    kind: str = ACTIVITY

    def encode(self) -> str:
        suffix = f"|{CHANGE}" if self.kind == CHANGE else ""
        raw = f"{self.occurred_at.isoformat()}|{self.id}{suffix}".encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def parse(cls, text: str) -> TimelineCursor:
        """Read a cursor a client sent back; a tampered one is a field error, not a 500."""
        broken = ValidationError({"before": [ValidationError(_("This page link is broken."), code="invalid_cursor")]})
        try:
            raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode()
            kind = ACTIVITY
            if raw.endswith(f"|{CHANGE}"):
                raw, kind = raw[: -len(CHANGE) - 1], CHANGE
            stamp, _sep, pk = raw.rpartition("|")
            cursor = cls(occurred_at=datetime.fromisoformat(stamp), id=int(pk), kind=kind)
        except (ValueError, binascii.Error, UnicodeDecodeError) as error:
            raise broken from error
        if timezone.is_naive(cursor.occurred_at):
            raise broken
        return cursor

    def _after(self, kind: str, time_field: str) -> Q:
        """Entries of `kind` that come after this cursor (older, or same time and lower)."""
        at = self.occurred_at
        if _RANK[kind] == _RANK[self.kind]:
            later = Q(**{f"{time_field}__lt": at}) | Q(**{time_field: at, "id__lt": self.id})
        elif _RANK[kind] < _RANK[self.kind]:
            later = Q(**{f"{time_field}__lte": at})
        else:
            later = Q(**{f"{time_field}__lt": at})
        # The redundant `<=` bound lets the index scan start at the cursor.
        return later & Q(**{f"{time_field}__lte": at})


@dataclass(frozen=True)
class TimelinePage:
    activities: list[Activity]  # the page's activities (all of `entries` that are activities)
    next_before: TimelineCursor | None
    # Activities and saves of field changes (crm.history.selectors.ChangeGroup), newest first.
    entries: list[Any] = dataclasses.field(default_factory=list)
    show: str = TimelineShow.ACTIVITIES


def timeline(
    *,
    actor: User | None,
    contact: Model | None = None,
    company: Model | None = None,
    deal: Model | None = None,
    lead: Model | None = None,
    limit: int = 50,
    before: TimelineCursor | None = None,
    show: str = TimelineShow.ACTIVITIES,
) -> TimelinePage:
    """The history of one client record, newest first: calls, emails, meetings, notes,
    stage changes, proposals sent, conversions, and (`show` all or changes) the changes
    to its fields, one entry per save.

    Give exactly one record. A company's timeline also holds its contacts' activities
    (its field changes are its own). Keyset-paginated: pass the previous page's
    `next_before` to get older entries; a page holds at most `limit` entries and never
    ends in the middle of a save. A change an activity already tells (a deal's stage
    move, a lead's conversion or disqualification: the service logs both at one time)
    is shown by the activity only, unless only changes are shown.
    Queries: one per kind shown (two for a company's activities, which first reads its
    contact ids), and at most three more for changes (the rest of a save cut by the
    page's end, custom field labels, the phone region). Raises AccessDenied when
    `actor` may not see the record; ValidationError on `show` (invalid_choice).
    """
    records = {"contact": contact, "company": company, "deal": deal, "lead": lead}
    given = {name: record for name, record in records.items() if record is not None}
    if len(given) != 1:
        raise ValueError("timeline() needs exactly one of contact, company, deal or lead.")
    if show not in TimelineShow.values:
        raise ValidationError({"show": [ValidationError(_("Show all, activities or changes."), code="invalid_choice")]})
    ((link, record),) = given.items()
    access.require(actor=actor, action=Action.VIEW, record=record)
    limit = max(1, min(limit, TIMELINE_MAX_PAGE))

    activities: list[Activity] = []
    if show != TimelineShow.CHANGES:
        activities = _timeline_activities(actor, link, record, before=before, limit=limit)
    changes: list[Any] = []
    if show != TimelineShow.ACTIVITIES:
        rows = limit * CHANGE_ROWS_PER_ENTRY
        changes = _timeline_changes(link, record, before=before, limit=rows, hide_told=show == TimelineShow.ALL)
    hidden = _told(link) if show == TimelineShow.ALL else None
    return _timeline_merge(activities, changes, limit=limit, show=show, hidden=hidden)


def _timeline_activities(actor: User | None, link: str, record: Model, *, before, limit: int) -> list[Activity]:
    if link == "company":
        # A literal id list (not a subquery) keeps the OR indexable: PostgreSQL combines the
        # (company, -occurred_at) and (contact, -occurred_at) indexes with a BitmapOr.
        contact_ids = list(record.contacts.values_list("pk", flat=True))
        scope = Q(company_id=record.pk) | Q(contact_id__in=contact_ids) if contact_ids else Q(company_id=record.pk)
    else:
        scope = Q(**{f"{link}_id": record.pk})
    queryset = access.visible(Activity.objects.filter(scope), actor=actor)
    if before is not None:
        queryset = queryset.filter(before._after(ACTIVITY, "occurred_at"))
    return list(queryset.select_related(*ACTIVITY_RELATED).order_by("-occurred_at", "-id")[: limit + 1])


def _told(link: str) -> Exists:
    """Changes an activity on the record already tells: written by the service that
    logged it, at the activity's very time (a stage move, a conversion)."""
    return Exists(Activity.objects.filter(**{f"{link}_id": OuterRef("record_id")}, occurred_at=OuterRef("created_at")))


def _timeline_changes(link: str, record: Model, *, before, limit: int, hide_told: bool) -> list[Any]:
    queryset = record_changes_queryset(record_type=link, record_id=record.pk)
    if hide_told:
        queryset = queryset.exclude(_told(link))
    if before is not None:
        queryset = queryset.filter(before._after(CHANGE, "created_at"))
    return list(queryset[: limit + 1])


def _key(item: Any) -> tuple[datetime, int, int]:
    if isinstance(item, Activity):
        return (item.occurred_at, _RANK[ACTIVITY], item.pk)
    return (item.created_at, _RANK[CHANGE], item.pk)


def _timeline_merge(
    activities: list[Activity], changes: list[Any], *, limit: int, show: str, hidden: Exists | None
) -> TimelinePage:
    """One page from the two streams (activities read up to limit + 1, change rows up to
    limit * CHANGE_ROWS_PER_ENTRY + 1): activities and saves in time order, a save never
    cut by the page's end."""
    rows_limit = limit * CHANGE_ROWS_PER_ENTRY
    activities_cut = len(activities) > limit
    changes_cut = len(changes) > rows_limit
    items = sorted([*activities, *changes], key=_key, reverse=True)
    # An entry older than the last one read of a stream that has more cannot be placed
    # yet: an unread entry of that stream may come before it.
    cut = [_key(stream[-1]) for stream, more in ((activities, activities_cut), (changes, changes_cut)) if more]
    bound = max(cut) if cut else None
    placeable = [item for item in items if bound is None or _key(item) >= bound]
    entries: list[Any] = []  # activities and lists of change rows (one save each)
    index = 0
    while index < len(placeable) and len(entries) < limit:
        item = placeable[index]
        index += 1
        if isinstance(item, Activity):
            entries.append(item)
            continue
        save = [item]
        while (
            index < len(placeable) and not isinstance(placeable[index], Activity) and same_save(save, placeable[index])
        ):
            save.append(placeable[index])
            index += 1
        entries.append(save)
    more = index < len(items) or bool(cut)
    if entries and isinstance(entries[-1], list) and changes_cut and entries[-1][-1] is changes[-1]:
        # The page ends in a save that goes on in rows not read yet: finish it here, up
        # to the next activity (which comes after it).
        save = entries[-1]
        floor = next((item for item in items[items.index(save[-1]) + 1 :] if isinstance(item, Activity)), None)
        rest, follows = save_rest(save, hidden=hidden)
        kept = [row for row in rest if floor is None or row.created_at >= floor.occurred_at]
        save.extend(kept)
        more = index < len(items) or len(kept) < len(rest) or follows
    rows = [row for entry in entries if isinstance(entry, list) for row in entry]
    readable = iter(history_entries(rows))
    page_entries: list[Any] = [
        entry if isinstance(entry, Activity) else ChangeGroup([next(readable) for _row in entry]) for entry in entries
    ]
    next_before = None
    if more and entries:
        last = entries[-1] if isinstance(entries[-1], Activity) else entries[-1][-1]
        occurred_at, rank, pk = _key(last)
        next_before = TimelineCursor(occurred_at=occurred_at, id=pk, kind=ACTIVITY if rank == 0 else CHANGE)
    return TimelinePage(
        activities=[entry for entry in entries if isinstance(entry, Activity)],
        next_before=next_before,
        entries=page_entries,
        show=show,
    )


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

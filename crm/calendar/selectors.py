"""Reads of the calendar: the tasks in a period as people may see them, and feeds.

Periods are days in the reader's time zone (the middleware activates it); a day's
tasks are the ones due between its local midnights. The calendar shows open and done
tasks; cancelled ones are gone from it.
"""

from __future__ import annotations

import calendar as gregorian
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import QuerySet
from django.utils import timezone

from accounts.models import User
from crm.activities.models import Task, TaskStatus
from crm.activities.selectors import task_list
from crm.calendar.models import CalendarFeed
from crm.calendar.services import feed_secret_hash

VIEWS = ("month", "week", "day")
# More than this in one period is a list, not a calendar: the page says how to narrow it.
PERIOD_LIMIT = 500
FEED_PAST_DAYS = 30
FEED_FUTURE_DAYS = 365
FEED_LIMIT = 2000


@dataclass(frozen=True)
class Period:
    view: str
    anchor: date
    first: date  # first day shown
    last: date  # last day shown (inclusive)
    previous: date
    next: date

    @property
    def days(self) -> list[date]:
        return [self.first + timedelta(days=offset) for offset in range((self.last - self.first).days + 1)]


def calendar_period(*, view: str, anchor: date, first_weekday: int = 0) -> Period:
    """The days a month, week or day view of `anchor` shows. A month view shows whole
    weeks (from `first_weekday`, 0 = Monday), so it starts before the 1st and ends after
    the last day; a week starts on `first_weekday`."""
    if view == "day":
        return Period(view, anchor, anchor, anchor, anchor - timedelta(days=1), anchor + timedelta(days=1))
    if view == "week":
        first = anchor - timedelta(days=(anchor.weekday() - first_weekday) % 7)
        week = timedelta(days=7)
        return Period(view, anchor, first, first + timedelta(days=6), anchor - week, anchor + week)
    month_first = anchor.replace(day=1)
    month_last = anchor.replace(day=gregorian.monthrange(anchor.year, anchor.month)[1])
    first = month_first - timedelta(days=(month_first.weekday() - first_weekday) % 7)
    last = month_last + timedelta(days=(first_weekday - 1 - month_last.weekday()) % 7)
    previous_month = (month_first - timedelta(days=1)).replace(day=1)
    next_month = month_last + timedelta(days=1)
    return Period(view, anchor, first, last, previous_month, next_month)


def _local_midnight(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def calendar_tasks(*, actor: User, period: Period, owner: User | None) -> tuple[list[Task], bool]:
    """The tasks due in `period` that `actor` may see (only `owner`'s when given), soonest
    first, at most PERIOD_LIMIT; and whether there were more."""
    tasks = (
        task_list(actor=actor, owner=owner)
        .filter(due_at__gte=_local_midnight(period.first), due_at__lt=_local_midnight(period.last + timedelta(days=1)))
        .exclude(status=TaskStatus.CANCELLED)
    )
    rows = list(tasks[: PERIOD_LIMIT + 1])
    return rows[:PERIOD_LIMIT], len(rows) > PERIOD_LIMIT


def calendar_feed_live(*, user: User) -> CalendarFeed | None:
    return CalendarFeed.objects.filter(user=user, revoked_at__isnull=True).first()


def calendar_feed_by_secret(secret: str) -> CalendarFeed | None:
    """The live feed with that secret in this workspace, its person loaded; None for an
    unknown, revoked or switched-off one (all look the same from outside)."""
    if not secret or len(secret) > 100:
        return None
    feed = (
        CalendarFeed.objects.select_related("user")
        .filter(token_hash=feed_secret_hash(secret), revoked_at__isnull=True)
        .first()
    )
    if feed is None or not feed.user.is_active:
        return None
    return feed


def feed_tasks(*, user: User, now: datetime | None = None) -> QuerySet[Task]:
    """What a person's subscribed calendar shows: the tasks assigned to them (open or
    done) due from a month ago to a year ahead, at most FEED_LIMIT, soonest first."""
    now = now or timezone.now()
    return (
        task_list(actor=user, owner=user)
        .filter(due_at__gte=now - timedelta(days=FEED_PAST_DAYS), due_at__lt=now + timedelta(days=FEED_FUTURE_DAYS))
        .exclude(status=TaskStatus.CANCELLED)[:FEED_LIMIT]
    )

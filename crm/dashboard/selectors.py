"""Reads for "My day": the signed-in person's own tasks, leads and deals, and their layout.

Every read starts from the sub-app's own selector (`task_list`, `lead_list`,
`deals_needing_attention`, `deal_list`), so `crm.access` decides what is visible, and
then keeps the records the person owns: "my" means mine for everyone, an administrator
included. A freelancer, who sees only what was shared with them, gets the shared records
among their own.

Each widget costs one or two queries whatever the number of records. Today's tasks carry
their totals as window aggregates (`count(*) OVER ()`): a day's tasks are few. New leads,
forgotten deals and unread notifications can be thousands for a busy person, and a window
count reads every one of them (60 ms for the million-contact bench's administrator), so
they are counted apart and only up to COUNT_CAP ("1,000+"). Tasks, leads and deals are read
through the indexes on their owner (`task_owner_open_due`, `lead_owner_status`,
`deal_owner_recent`), notifications through `notification_inbox`.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.db.models import Count, Q, Sum, Window
from django.utils import timezone
from django.utils.formats import number_format

from accounts.models import User
from crm.activities.models import Task, TaskStatus
from crm.activities.selectors import task_list
from crm.dashboard.models import DashboardLayout
from crm.deals.models import Deal, Stage, StageKind
from crm.deals.selectors import deal_list, deals_needing_attention
from crm.leads.models import Lead, LeadStatus
from crm.leads.selectors import lead_list
from crm.notifications.models import Notification
from crm.notifications.selectors import notification_list
from crm.selectors import workspace_settings

STALE_DAYS_MIN, STALE_DAYS_MAX = 1, 365


@dataclass(frozen=True)
class Day:
    """Today as the workspace counts it (its time zone), read once per page."""

    now: datetime
    zone: ZoneInfo
    today: date
    end_of_today: datetime
    currency: str
    stale_deal_days: int  # the workspace's "needs attention after" setting, within 1..365


def my_day(*, now: datetime | None = None) -> Day:
    """The workspace's today: one query (its settings)."""
    settings = workspace_settings()
    try:
        zone = ZoneInfo(settings.time_zone or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    now = now or timezone.now()
    today = now.astimezone(zone).date()
    end_of_today = datetime.combine(today + timedelta(days=1), datetime.min.time(), tzinfo=zone)
    stale = min(max(settings.stale_deal_days or 14, STALE_DAYS_MIN), STALE_DAYS_MAX)
    return Day(now, zone, today, end_of_today, settings.base_currency, stale)


# --- my tasks ---------------------------------------------------------------------------


@dataclass(frozen=True)
class TasksDue:
    tasks: list[Task]  # overdue first (oldest first), then today's, at most `limit`
    overdue_count: int
    today_count: int

    @property
    def total(self) -> int:
        return self.overdue_count + self.today_count


def my_tasks_due(*, actor: User, day: Day, limit: int = 8) -> TasksDue:
    """`actor`'s open tasks due by the end of today, soonest due first (the overdue ones
    lead). One query: the first `limit` rows carry both counts (window aggregates)."""
    tasks = task_list(actor=actor, owner=actor, status=TaskStatus.OPEN, due_before=day.end_of_today).annotate(
        overdue_total=Window(Count("id", filter=Q(due_at__lt=day.now))), due_total=Window(Count("id"))
    )
    rows = list(tasks[:limit])
    overdue = rows[0].overdue_total if rows else 0
    return TasksDue(tasks=rows, overdue_count=overdue, today_count=rows[0].due_total - overdue if rows else 0)


# Counted up to this many; more shows as "1,000+".
COUNT_CAP = 1000


class CappedCount:
    """A widget's `count`, read only up to COUNT_CAP + 1, as the page shows it."""

    count: int

    @property
    def shown(self) -> str:
        if self.count > COUNT_CAP:
            return number_format(COUNT_CAP, force_grouping=True) + "+"
        return number_format(self.count, force_grouping=True)

    @property
    def plural_count(self) -> int:
        """The number that picks the plural form ("1,000+" reads as a thousand)."""
        return min(self.count, COUNT_CAP)


# --- new leads --------------------------------------------------------------------------


@dataclass(frozen=True)
class NewLeads(CappedCount):
    leads: list[Lead]
    count: int


def my_new_leads(*, actor: User, limit: int = 5) -> NewLeads:
    """`actor`'s leads nobody has worked yet (status "new": not in progress, qualified,
    disqualified or converted), newest first, and how many (up to COUNT_CAP + 1)."""
    leads = lead_list(actor=actor, owner=actor, status=LeadStatus.NEW).prefetch_related(None)
    rows = list(leads[:limit])
    return NewLeads(leads=rows, count=_capped_count(leads))


# --- deals needing attention ------------------------------------------------------------


@dataclass(frozen=True)
class ForgottenDeals(CappedCount):
    deals: list[Deal]  # each with `last_touched` and `idle_days`
    count: int
    days: int


def my_deals_needing_attention(*, actor: User, day: Day, days: int, limit: int = 5) -> ForgottenDeals:
    """`actor`'s open deals with no activity for `days` days (1..365), the longest
    forgotten first, and how many (up to COUNT_CAP + 1)."""
    days = min(max(days, STALE_DAYS_MIN), STALE_DAYS_MAX)
    deals = deals_needing_attention(actor=actor, days=days, mine=True)
    rows = list(deals[:limit])
    for deal in rows:
        deal.idle_days = (day.now - deal.last_touched).days
    return ForgottenDeals(deals=rows, count=_capped_count(deals), days=days)


# --- my funnel --------------------------------------------------------------------------


@dataclass(frozen=True)
class StageTotal:
    stage: Stage
    count: int
    amount: Decimal


@dataclass(frozen=True)
class PipelineTotals:
    pipeline_id: int
    name: str
    stages: list[StageTotal]
    count: int = 0
    amount: Decimal = Decimal("0")


@dataclass(frozen=True)
class MyFunnel:
    pipelines: list[PipelineTotals] = field(default_factory=list)  # only those holding some of my open deals
    currency: str = ""

    @property
    def count(self) -> int:
        return sum(pipeline.count for pipeline in self.pipelines)


def my_open_deals_by_stage(*, actor: User, day: Day) -> MyFunnel:
    """`actor`'s open deals per open stage of each pipeline that holds some (stages in
    order, empty ones included so the shape reads true), with their total in the base
    currency. Two queries: the totals (one GROUP BY) and the open stages."""
    deals = deal_list(actor=actor, owner=actor, status=StageKind.OPEN).prefetch_related(None).select_related(None)
    totals = {
        row["stage_id"]: (row["count"], row["amount"] or Decimal("0"))
        for row in deals.order_by().values("stage_id").annotate(count=Count("id"), amount=Sum("amount_base"))
    }
    if not totals:
        return MyFunnel(currency=day.currency)
    by_pipeline: dict[int, list[StageTotal]] = defaultdict(list)
    names: dict[int, str] = {}
    stages = Stage.objects.filter(kind=StageKind.OPEN).select_related("pipeline")
    for stage in stages.order_by("pipeline__position", "pipeline_id", "position"):
        count, amount = totals.get(stage.pk, (0, Decimal("0")))
        by_pipeline[stage.pipeline_id].append(StageTotal(stage=stage, count=count, amount=amount))
        names[stage.pipeline_id] = stage.pipeline.name
    pipelines = []
    for pipeline_id, rows in by_pipeline.items():
        count = sum(row.count for row in rows)
        if count:
            amount = sum((row.amount for row in rows), Decimal("0"))
            pipelines.append(PipelineTotals(pipeline_id, names[pipeline_id], rows, count, amount))
    return MyFunnel(pipelines=pipelines, currency=day.currency)


# --- notifications ----------------------------------------------------------------------


@dataclass(frozen=True)
class Unread(CappedCount):
    notifications: list[Notification]
    count: int


def my_unread_notifications(*, actor: User, limit: int = 5) -> Unread:
    """`actor`'s newest unread notifications and how many are unread (up to COUNT_CAP + 1)."""
    unread = notification_list(user=actor, unread_only=True)
    rows = list(unread[:limit])
    return Unread(notifications=rows, count=_capped_count(unread))


# --- counts that stay cheap --------------------------------------------------------------


def _capped_count(queryset) -> int:
    """How many records `queryset` holds, up to COUNT_CAP + 1. Always one query, so the
    page's query count doesn't depend on the data (tests/web/test_query_counts.py)."""
    return queryset.order_by()[: COUNT_CAP + 1].count()


# --- the layout -------------------------------------------------------------------------


def dashboard_layout_stored(*, user: User) -> list | None:
    """What `user` saved (raw, unchecked), or None for the default layout. One query."""
    return DashboardLayout.objects.filter(user=user).values_list("widgets", flat=True).first()

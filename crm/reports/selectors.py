"""Sales reports: data for the reports pages and the API (they come later).

Every report starts from `access.visible(...)` querysets, so a sales rep's funnel counts
only the deals and leads that rep may see, and an inactive account sees zeros. The
counting happens in PostgreSQL (conditional aggregates, one statement per report part),
so a year of a 300,000-deal workspace stays well under a second.

Dates are calendar days in the workspace's time zone; `date_to` is inclusive. Amounts
are in the workspace's base currency (`Deal.amount_base`); rates are percentages with
one decimal, None when there is nothing to divide by.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.core.exceptions import EmptyResultSet, ValidationError
from django.db import connection
from django.db.models import Count, DecimalField, ExpressionWrapper, F, Q, QuerySet, Sum
from django.db.models.functions import Trunc, TruncMonth
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from crm import access
from crm.deals.models import SAMPLE_BUCKETS, Deal, Pipeline, Stage, StageKind
from crm.leads.models import Lead
from crm.models import WorkspaceSettings
from crm.selectors import workspace_settings

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
PERIODS = ("day", "week", "month", "quarter", "year")
SOURCE_GROUPS = ("channel", "utm_source", "utm_medium", "utm_campaign", "utm_term", "search_engine")
MAX_FORECAST_MONTHS = 36


def _percent(part: int | Decimal, whole: int | Decimal) -> Decimal | None:
    if not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1"), ROUND_HALF_UP)


def _money(value: Decimal | None) -> Decimal:
    return (value or ZERO).quantize(CENT, ROUND_HALF_UP)


def _workspace_zone(settings: WorkspaceSettings | None = None) -> ZoneInfo:
    try:
        return ZoneInfo((settings or workspace_settings()).time_zone or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def _day_start(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time.min, tzinfo=zone)


def _check_range(date_from: date | None, date_to: date | None) -> None:
    if date_from is not None and date_to is not None and date_from > date_to:
        raise ValidationError(
            {"date_to": [ValidationError(_("The end date is before the start date."), code="invalid_range")]}
        )


def _sql(queryset: QuerySet) -> tuple[str, tuple[Any, ...]] | None:
    """The SQL of a (visible, filtered) queryset, to embed as a CTE with its parameters;
    None when the queryset can hold nothing (e.g. `.none()` for a switched-off account)."""
    try:
        sql, params = queryset.query.sql_with_params()
    except EmptyResultSet:
        return None
    return sql, tuple(params)


# --- sales funnel ------------------------------------------------------------------------


@dataclass(frozen=True)
class FunnelStage:
    stage_id: int
    name: str
    kind: str
    # Deals of the cohort that got at least this far: entered this stage or a later one
    # (a deal that skipped a stage still passed it). This is the funnel's bar.
    reached_count: int
    reached_amount: Decimal
    # Deals of the cohort that entered this very stage at some time (stage history).
    entered_count: int
    entered_amount: Decimal
    # Deals of the cohort in this stage now.
    current_count: int
    current_amount: Decimal
    # Deals of the cohort that were lost straight from this stage.
    lost_here_count: int
    # Share of `reached_count` that reached the next stage (None for the last one).
    conversion_to_next: Decimal | None
    # Median time the deals that moved on spent here, in days (all their stays added up).
    median_days_in_stage: Decimal | None


@dataclass(frozen=True)
class Funnel:
    pipeline_id: int
    date_from: date | None
    date_to: date | None
    currency: str
    stages: list[FunnelStage]
    total_count: int
    total_amount: Decimal
    open_count: int
    open_amount: Decimal
    won_count: int
    won_amount: Decimal
    lost_count: int
    lost_amount: Decimal
    # Won deals as a share of the cohort, and of the cohort's closed deals.
    win_rate: Decimal | None
    close_rate: Decimal | None


# Medians of a large cohort are taken over an even sample of it (deals whose id % 64
# falls in the first buckets) so the sort stays small; up to this many deals they are
# exact. 20,000 puts the sampling error far below the 0.1-day rounding of the report.
MEDIAN_SAMPLE = 20_000

# Statement 1: the cohort grouped by where each deal went (current stage, stage it
# came from, stages entered). A year of a large workspace holds a few hundred such
# paths, from which every count and amount of the funnel is added up in Python.
FUNNEL_PATHS_SQL = """
SELECT stage_id, previous_stage_id, stages_entered, count(*), sum(amount_base)
FROM ({cohort}) AS cohort
GROUP BY stage_id, previous_stage_id, stages_entered
"""
# Statement 2: per stage, the median of the seconds deals spent there
# (Deal.stage_seconds, aligned with stages_entered); NULL entries (still in the stage,
# or never there) are left out by percentile_cont.
FUNNEL_MEDIAN = "percentile_cont(0.5) WITHIN GROUP (ORDER BY stage_seconds[array_position(stages_entered, %s::bigint)])"


def sales_funnel(
    *, actor: User | None, pipeline: Pipeline, date_from: date | None = None, date_to: date | None = None
) -> Funnel:
    """The funnel of `pipeline` for the deals created from `date_from` to `date_to`
    (inclusive, workspace time zone; open-ended when None) that `actor` may see.

    Rows are the pipeline's open and won stages in order. A deal counts as having
    reached a stage when its stage history shows it entered that stage or any later
    one, whatever happened to it afterwards, so the bars never grow down the funnel and
    a deal lost at "Proposal negotiation" still counts for the stages before it. Lost
    deals are totalled apart and per stage they were lost from. Median days in a stage
    are over the deals that left it (all their stays there added up); for cohorts over
    MEDIAN_SAMPLE deals, over an even sample of them.

    The stage history is read through each deal's summary of it (`Deal.stages_entered`,
    `stage_seconds`, `previous_stage`, kept by the services with every move) from two
    covering indexes: one index-only scan of the cohort (`deal_funnel_cohort`) and one
    of its sample (`deal_funnel_sample_ids`), no join, which keeps a year of a
    300,000-deal workspace fast.
    """
    _check_range(date_from, date_to)
    settings = workspace_settings()
    zone, currency = _workspace_zone(settings), settings.base_currency
    stages = list(Stage.objects.filter(pipeline=pipeline).order_by("position"))
    kinds = dict(Stage.all_objects.filter(pipeline=pipeline).values_list("id", "kind"))
    funnel_stages = [stage for stage in stages if stage.kind != StageKind.LOST]

    deals = access.visible(Deal.objects.filter(pipeline=pipeline), actor=actor)
    if date_from is not None:
        deals = deals.filter(created_at__gte=_day_start(date_from, zone))
    if date_to is not None:
        deals = deals.filter(created_at__lt=_day_start(date_to + timedelta(days=1), zone))
    cohort = _sql(deals.order_by().values("stage_id", "previous_stage_id", "stages_entered", "amount_base"))
    paths: list[_Path] = []
    medians: dict[int, float | None] = {}
    if cohort is not None:
        with connection.cursor() as cursor:
            cursor.execute(FUNNEL_PATHS_SQL.format(cohort=cohort[0]), cohort[1])
            paths = [_Path(row[0], row[1], frozenset(row[2]), row[3], row[4]) for row in cursor.fetchall()]
        cohort_size = sum(path.count for path in paths)
        if cohort_size and funnel_stages:
            medians = _stage_medians(deals, funnel_stages, cohort_size=cohort_size)

    reached = [
        _add_up(
            paths, lambda path, further=frozenset(s.pk for s in funnel_stages[index:]): bool(path.entered & further)
        )
        for index in range(len(funnel_stages))
    ]
    rows = []
    for index, stage in enumerate(funnel_stages):
        entered = _add_up(paths, lambda path, pk=stage.pk: pk in path.entered)
        current = _add_up(paths, lambda path, pk=stage.pk: path.stage_id == pk)
        lost_here = _add_up(
            paths, lambda path, pk=stage.pk: path.previous_stage_id == pk and kinds.get(path.stage_id) == StageKind.LOST
        )
        median = medians.get(stage.pk)
        rows.append(
            FunnelStage(
                stage_id=stage.pk,
                name=stage.name,
                kind=stage.kind,
                reached_count=reached[index][0],
                reached_amount=reached[index][1],
                entered_count=entered[0],
                entered_amount=entered[1],
                current_count=current[0],
                current_amount=current[1],
                lost_here_count=lost_here[0],
                conversion_to_next=(
                    _percent(reached[index + 1][0], reached[index][0]) if index + 1 < len(reached) else None
                ),
                median_days_in_stage=(
                    None if median is None else Decimal(median / 86400).quantize(Decimal("0.1"), ROUND_HALF_UP)
                ),
            )
        )
    open_count, open_amount = _add_up(paths, lambda path: kinds.get(path.stage_id) == StageKind.OPEN)
    won_count, won_amount = _add_up(paths, lambda path: kinds.get(path.stage_id) == StageKind.WON)
    lost_count, lost_amount = _add_up(paths, lambda path: kinds.get(path.stage_id) == StageKind.LOST)
    total_count = open_count + won_count + lost_count
    return Funnel(
        pipeline_id=pipeline.pk,
        date_from=date_from,
        date_to=date_to,
        currency=currency,
        stages=rows,
        total_count=total_count,
        total_amount=open_amount + won_amount + lost_amount,
        open_count=open_count,
        open_amount=open_amount,
        won_count=won_count,
        won_amount=won_amount,
        lost_count=lost_count,
        lost_amount=lost_amount,
        win_rate=_percent(won_count, total_count),
        close_rate=_percent(won_count, won_count + lost_count),
    )


@dataclass(frozen=True)
class _Path:
    """Cohort deals that share a current stage, previous stage and stages entered."""

    stage_id: int
    previous_stage_id: int | None
    entered: frozenset[int]
    count: int
    amount: Decimal


def _add_up(paths: list[_Path], keep: Callable[[_Path], bool]) -> tuple[int, Decimal]:
    """How many deals, and their amount, are on the paths `keep` accepts."""
    chosen = [path for path in paths if keep(path)]
    return sum(path.count for path in chosen), _money(sum((path.amount for path in chosen), ZERO))


def _stage_medians(deals: QuerySet[Deal], stages: list[Stage], *, cohort_size: int) -> dict[int, float | None]:
    """Median seconds spent in each stage by the deals of `deals` that left it: over all
    of them up to MEDIAN_SAMPLE deals, else over the sample buckets (id % 64) that hold
    about MEDIAN_SAMPLE of them, read through the `deal_funnel_sample_ids` index."""
    buckets = -(-SAMPLE_BUCKETS * MEDIAN_SAMPLE // cohort_size) if cohort_size else SAMPLE_BUCKETS
    if buckets < SAMPLE_BUCKETS:
        # `IN (0, 1, ...)` rather than `< n`: the planner has no statistics for a range
        # of the expression and would not pick the index.
        deals = deals.alias(sample_bucket=F("id") % SAMPLE_BUCKETS).filter(sample_bucket__in=range(buckets))
    cohort = _sql(deals.order_by().values("stages_entered", "stage_seconds"))
    if cohort is None:
        return {}
    columns = ", ".join([FUNNEL_MEDIAN] * len(stages))
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {columns} FROM ({cohort[0]}) AS cohort",  # noqa: S608 - fixed text, values are parameters
            [*(stage.pk for stage in stages), *cohort[1]],
        )
        values = cursor.fetchone()
    return {stage.pk: value for stage, value in zip(stages, values, strict=True)}


# --- lead conversion by period -------------------------------------------------------------


@dataclass(frozen=True)
class ConversionRow:
    period_start: date
    leads: int
    contacts: int
    deals: int
    won: int
    won_amount: Decimal
    # Step rates: lead → contact, contact → deal, deal → won; overall: lead → won.
    contact_rate: Decimal | None
    deal_rate: Decimal | None
    won_rate: Decimal | None
    overall_rate: Decimal | None


@dataclass(frozen=True)
class LeadConversion:
    date_from: date
    date_to: date
    period: str
    currency: str
    rows: list[ConversionRow]
    total: ConversionRow


def _period_starts(date_from: date, date_to: date, period: str) -> Iterator[date]:
    if period == "day":
        current = date_from
    elif period == "week":
        current = date_from - timedelta(days=date_from.weekday())
    elif period == "month":
        current = date_from.replace(day=1)
    elif period == "quarter":
        current = date_from.replace(month=(date_from.month - 1) // 3 * 3 + 1, day=1)
    else:
        current = date_from.replace(month=1, day=1)
    while current <= date_to:
        yield current
        if period == "day":
            current += timedelta(days=1)
        elif period == "week":
            current += timedelta(days=7)
        else:
            current = _add_months(current, {"month": 1, "quarter": 3, "year": 12}[period])


def _add_months(day: date, months: int) -> date:
    """The first of the month `months` after `day`'s month."""
    index = day.month - 1 + months
    return date(day.year + index // 12, index % 12 + 1, 1)


def _conversion_row(period_start: date, values: dict[str, Any]) -> ConversionRow:
    leads, contacts, deals, won = (values.get(key) or 0 for key in ("leads", "contacts", "deals", "won"))
    return ConversionRow(
        period_start=period_start,
        leads=leads,
        contacts=contacts,
        deals=deals,
        won=won,
        won_amount=_money(values.get("won_amount")),
        contact_rate=_percent(contacts, leads),
        deal_rate=_percent(deals, contacts),
        won_rate=_percent(won, deals),
        overall_rate=_percent(won, leads),
    )


def _lead_outcome_aggregates(actor: User | None) -> dict[str, Any]:
    """Counts over leads: became a contact, became a deal `actor` may see, that deal won."""
    # Conditions on the converted deal's own row (joined for its amount anyway): a
    # `converted_deal IN (visible deals)` subquery per lead took minutes on 200,000 leads.
    has_deal = Q(converted_deal__isnull=False, converted_deal__deleted_at__isnull=True) & access.visible_through(
        "converted_deal", Deal, actor=actor
    )
    has_won = has_deal & Q(converted_deal__stage__kind=StageKind.WON)
    return {
        "leads": Count("id"),
        "contacts": Count("id", filter=Q(converted_at__isnull=False)),
        "deals": Count("id", filter=has_deal),
        "won": Count("id", filter=has_won),
        "won_amount": Sum("converted_deal__amount_base", filter=has_won),
    }


def _leads_in(actor: User | None, date_from: date, date_to: date, zone: ZoneInfo) -> QuerySet[Lead]:
    leads = Lead.objects.filter(
        created_at__gte=_day_start(date_from, zone), created_at__lt=_day_start(date_to + timedelta(days=1), zone)
    )
    return access.visible(leads, actor=actor)


def lead_conversion(*, actor: User | None, date_from: date, date_to: date, period: str = "month") -> LeadConversion:
    """Leads created in the range, per `period` (day, week, month, quarter, year): how
    many became contacts (were converted), deals, and won deals, with the step rates.

    Every period of the range is listed, empty ones with zeros. A lead counts for the
    period it arrived in, whenever it converted. One query.
    """
    if period not in PERIODS:
        raise ValidationError(
            {"period": [ValidationError(_("Choose day, week, month, quarter or year."), code="invalid_choice")]}
        )
    _check_range(date_from, date_to)
    settings = workspace_settings()
    zone = _workspace_zone(settings)
    leads = _leads_in(actor, date_from, date_to, zone)
    aggregates = _lead_outcome_aggregates(actor)
    by_period = {
        timezone.localtime(row["period"], zone).date(): row
        for row in leads.annotate(period=Trunc("created_at", period, tzinfo=zone))
        .order_by()
        .values("period")
        .annotate(**aggregates)
    }
    rows = [_conversion_row(start, by_period.get(start, {})) for start in _period_starts(date_from, date_to, period)]
    # The periods partition the range: their sums are the total (a second pass over the
    # range's leads cost as much as the first).
    total = {name: sum((group[name] or 0) for group in by_period.values()) for name in aggregates}
    return LeadConversion(
        date_from=date_from,
        date_to=date_to,
        period=period,
        currency=settings.base_currency,
        rows=rows,
        total=_conversion_row(date_from, total),
    )


# --- source effectiveness -----------------------------------------------------------------


@dataclass(frozen=True)
class SourceRow:
    # The channel, UTM value or search engine; "" groups leads without one.
    key: str
    leads: int
    converted: int
    deals: int
    won: int
    won_amount: Decimal
    conversion_rate: Decimal | None
    win_rate: Decimal | None


@dataclass(frozen=True)
class SourceEffectiveness:
    date_from: date
    date_to: date
    group_by: str
    currency: str
    rows: list[SourceRow] = field(default_factory=list)


def source_effectiveness(
    *, actor: User | None, date_from: date, date_to: date, group_by: str = "utm_source"
) -> SourceEffectiveness:
    """Which channels, sources, campaigns, keywords or search engines pay: per value of
    `group_by`, the leads that arrived in the range, how many were converted, became
    deals and won deals, and the won amount. Best earners first. One query.
    """
    if group_by not in SOURCE_GROUPS:
        raise ValidationError(
            {"group_by": [ValidationError(_("This report cannot be grouped that way."), code="invalid_choice")]}
        )
    _check_range(date_from, date_to)
    settings = workspace_settings()
    zone = _workspace_zone(settings)
    aggregates = _lead_outcome_aggregates(actor)
    grouped = (
        _leads_in(actor, date_from, date_to, zone)
        .order_by()
        .values(group_by)
        .annotate(**{("converted" if name == "contacts" else name): value for name, value in aggregates.items()})
    )
    rows = [
        SourceRow(
            key=row[group_by] or "",
            leads=row["leads"],
            converted=row["converted"],
            deals=row["deals"],
            won=row["won"],
            won_amount=_money(row["won_amount"]),
            conversion_rate=_percent(row["converted"], row["leads"]),
            win_rate=_percent(row["won"], row["deals"]),
        )
        for row in grouped
    ]
    rows.sort(key=lambda row: (-row.won_amount, -row.won, -row.converted, -row.leads, row.key))
    return SourceEffectiveness(
        date_from=date_from,
        date_to=date_to,
        group_by=group_by,
        currency=settings.base_currency,
        rows=rows,
    )


# --- forecast --------------------------------------------------------------------------


@dataclass(frozen=True)
class ForecastMonth:
    month: date
    # Open deals expected to close this month: count, full amount, and the amount
    # weighted by their stage's win probability.
    open_count: int
    open_amount: Decimal
    weighted_amount: Decimal
    # Deals already won this month (committed).
    won_count: int
    won_amount: Decimal

    @property
    def expected_amount(self) -> Decimal:
        return self.won_amount + self.weighted_amount


@dataclass(frozen=True)
class ForecastBucket:
    count: int
    amount: Decimal
    weighted_amount: Decimal


@dataclass(frozen=True)
class Forecast:
    currency: str
    months: list[ForecastMonth]
    # Open deals whose expected close date has passed, and those without one.
    overdue: ForecastBucket
    undated: ForecastBucket


def _weighted() -> ExpressionWrapper:
    return ExpressionWrapper(
        F("amount_base") * F("stage__win_probability") / Decimal(100),
        output_field=DecimalField(max_digits=20, decimal_places=4),
    )


def forecast(*, actor: User | None, months: int = 6, pipeline: Pipeline | None = None) -> Forecast:
    """Expected revenue for this month and the next `months - 1`: open deals by expected
    close month, in full and weighted by their stage's win probability, plus the deals
    already won in each month. Overdue and undated open deals are totalled apart.
    Three queries.
    """
    if not isinstance(months, int) or not 1 <= months <= MAX_FORECAST_MONTHS:
        raise ValidationError(
            {
                "months": [
                    ValidationError(
                        _("Choose from 1 to %(max)d months.") % {"max": MAX_FORECAST_MONTHS}, code="invalid"
                    )
                ]
            }
        )
    settings = workspace_settings()
    zone = _workspace_zone(settings)
    first = timezone.localtime(timezone.now(), zone).date().replace(day=1)
    starts = [_add_months(first, index) for index in range(months)]
    end = _add_months(first, months)
    deals = access.visible(Deal.objects.all(), actor=actor)
    if pipeline is not None:
        deals = deals.filter(pipeline=pipeline)
    open_deals = deals.filter(stage__kind=StageKind.OPEN).order_by()
    open_by_month = {
        row["month"]: row
        for row in open_deals.filter(expected_close_date__gte=first, expected_close_date__lt=end)
        .annotate(month=TruncMonth("expected_close_date"))
        .values("month")
        .annotate(count=Count("id"), amount=Sum("amount_base"), weighted=Sum(_weighted()))
    }
    won_by_month = {
        timezone.localtime(row["month"], zone).date(): row
        for row in deals.filter(
            stage__kind=StageKind.WON, closed_at__gte=_day_start(first, zone), closed_at__lt=_day_start(end, zone)
        )
        .order_by()
        .annotate(month=TruncMonth("closed_at", tzinfo=zone))
        .values("month")
        .annotate(count=Count("id"), amount=Sum("amount_base"))
    }
    rest = open_deals.aggregate(
        overdue_count=Count("id", filter=Q(expected_close_date__lt=first)),
        overdue_amount=Sum("amount_base", filter=Q(expected_close_date__lt=first)),
        overdue_weighted=Sum(_weighted(), filter=Q(expected_close_date__lt=first)),
        undated_count=Count("id", filter=Q(expected_close_date__isnull=True)),
        undated_amount=Sum("amount_base", filter=Q(expected_close_date__isnull=True)),
        undated_weighted=Sum(_weighted(), filter=Q(expected_close_date__isnull=True)),
    )
    rows = []
    for start in starts:
        opened = open_by_month.get(start, {})
        won = won_by_month.get(start, {})
        rows.append(
            ForecastMonth(
                month=start,
                open_count=opened.get("count", 0),
                open_amount=_money(opened.get("amount")),
                weighted_amount=_money(opened.get("weighted")),
                won_count=won.get("count", 0),
                won_amount=_money(won.get("amount")),
            )
        )
    return Forecast(
        currency=settings.base_currency,
        months=rows,
        overdue=ForecastBucket(
            count=rest["overdue_count"] or 0,
            amount=_money(rest["overdue_amount"]),
            weighted_amount=_money(rest["overdue_weighted"]),
        ),
        undated=ForecastBucket(
            count=rest["undated_count"] or 0,
            amount=_money(rest["undated_amount"]),
            weighted_amount=_money(rest["undated_weighted"]),
        ),
    )

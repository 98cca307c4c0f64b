"""Reads for deals and pipelines, always through the policy layer (crm.access)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db.models import Count, F, Prefetch, Q, QuerySet, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from crm import access
from crm.clients.models import Company, Contact
from crm.deals.models import Deal, DealStageChange, Pipeline, Stage, StageKind
from crm.errors import RecordNotFound
from crm.models import Tag
from crm.selectors import workspace_settings

DEAL_STATUSES = ("open", "won", "lost")
# What a list can be sorted by; the id breaks ties so pages never overlap.
DEAL_ORDERINGS = {
    "created_at": ("created_at", "id"),
    "-created_at": ("-created_at", "-id"),
    "updated_at": ("updated_at", "id"),
    "-updated_at": ("-updated_at", "-id"),
    "amount": ("amount_base", "id"),
    "-amount": ("-amount_base", "-id"),
    "expected_close_date": (F("expected_close_date").asc(nulls_last=True), "id"),
    "-expected_close_date": (F("expected_close_date").desc(nulls_last=True), "-id"),
    "title": ("title", "id"),
    "-title": ("-title", "-id"),
    "stage": ("stage__position", "id"),
}
BOARD_DEALS_PER_STAGE = 20


def _related(queryset: QuerySet[Deal]) -> QuerySet[Deal]:
    return queryset.select_related("pipeline", "stage", "owner", "contact", "company")


def deal_list(
    *,
    actor: User | None,
    pipeline: Pipeline | None = None,
    stage: Stage | None = None,
    owner: User | None = None,
    status: str | None = None,
    contact: Contact | int | None = None,
    company: Company | int | None = None,
    tag: Tag | int | None = None,
    expected_close_from: date | None = None,
    expected_close_to: date | None = None,
    amount_min: Decimal | None = None,
    amount_max: Decimal | None = None,
    search: str = "",
    ordering: str = "-created_at",
) -> QuerySet[Deal]:
    """Deals `actor` may see, filtered; amounts compare in the base currency.

    `status` is open, won or lost (the kind of the deal's stage); `search` matches the
    title (any case, anywhere). Unknown status or ordering: ValidationError with field
    code `invalid_choice`. Pipeline, stage, owner, contact and company come joined and
    tags prefetched (two queries for any page).
    """
    errors: dict[str, list[ValidationError]] = {}
    if status and status not in DEAL_STATUSES:
        errors["status"] = [ValidationError(_("Choose open, won or lost."), code="invalid_choice")]
    if ordering not in DEAL_ORDERINGS:
        errors["ordering"] = [ValidationError(_("This list cannot be sorted that way."), code="invalid_choice")]
    if errors:
        raise ValidationError(errors)
    deals = Deal.objects.all()
    if pipeline is not None:
        deals = deals.filter(pipeline=pipeline)
    if stage is not None:
        deals = deals.filter(stage=stage)
    if owner is not None:
        deals = deals.filter(owner=owner)
    if status:
        deals = deals.filter(stage__kind=status)
    if contact is not None:
        deals = deals.filter(contact=contact)
    if company is not None:
        deals = deals.filter(company=company)
    if tag is not None:
        deals = deals.filter(tags=tag.pk if isinstance(tag, Tag) else tag)
    if expected_close_from is not None:
        deals = deals.filter(expected_close_date__gte=expected_close_from)
    if expected_close_to is not None:
        deals = deals.filter(expected_close_date__lte=expected_close_to)
    if amount_min is not None:
        deals = deals.filter(amount_base__gte=amount_min)
    if amount_max is not None:
        deals = deals.filter(amount_base__lte=amount_max)
    if search.strip():
        deals = deals.filter(title__icontains=search.strip())
    return _related(access.visible(deals, actor=actor)).prefetch_related("tags").order_by(*DEAL_ORDERINGS[ordering])


def deal_get(*, actor: User | None, deal_id: int) -> Deal:
    """The deal with this id if `actor` may see it; RecordNotFound otherwise (also for
    another workspace's or a trashed deal: they look the same as a missing one)."""
    deal = _related(access.visible(Deal.objects.filter(pk=deal_id), actor=actor)).prefetch_related("tags").first()
    if deal is None:
        raise RecordNotFound(_("This deal does not exist or you cannot see it."))
    return deal


def deal_stage_history(*, actor: User | None, deal: Deal) -> QuerySet[DealStageChange]:
    """The moves of a visible deal, oldest first, with stages and who moved it."""
    if not access.visible(Deal.objects.filter(pk=deal.pk), actor=actor).exists():
        raise RecordNotFound(_("This deal does not exist or you cannot see it."))
    return (
        DealStageChange.objects.filter(deal=deal)
        .select_related("from_stage", "to_stage", "changed_by")
        .order_by("changed_at", "id")
    )


def pipeline_list(*, actor: User | None) -> QuerySet[Pipeline]:
    """Every pipeline, default first then by position, with its live stages in order."""
    # Pipelines are workspace configuration, visible to every member who can see deals.
    pipelines = Pipeline.objects.all() if actor is None or actor.is_active else Pipeline.objects.none()
    return pipelines.order_by("-is_default", "position", "id").prefetch_related(
        Prefetch("stages", queryset=Stage.objects.order_by("position"))
    )


def pipeline_get(*, actor: User | None, pipeline_id: int) -> Pipeline:
    pipeline = pipeline_list(actor=actor).filter(pk=pipeline_id).first()
    if pipeline is None:
        raise RecordNotFound(_("This pipeline does not exist."))
    return pipeline


def stage_get(*, actor: User | None, stage_id: int, pipeline: Pipeline | None = None) -> Stage:
    """A live stage (of `pipeline` when given); RecordNotFound for another pipeline's, a
    removed or a missing one. Stages, like pipelines, are visible to every active member."""
    stages = Stage.objects.filter(pk=stage_id) if actor is None or actor.is_active else Stage.objects.none()
    if pipeline is not None:
        stages = stages.filter(pipeline=pipeline)
    stage = stages.select_related("pipeline").first()
    if stage is None:
        raise RecordNotFound(_("This stage does not exist in this pipeline."))
    return stage


def pipeline_default() -> Pipeline | None:
    return Pipeline.objects.filter(is_default=True).first()


@dataclass(frozen=True)
class BoardColumn:
    stage: Stage
    count: int
    total_amount: Decimal
    weighted_amount: Decimal
    deals: list[Deal]


def pipeline_board(
    *,
    actor: User | None,
    pipeline: Pipeline,
    per_stage: int = BOARD_DEALS_PER_STAGE,
    owner: User | None = None,
    expected_close_from: date | None = None,
    expected_close_to: date | None = None,
) -> list[BoardColumn]:
    """The kanban board of `pipeline`: per live stage in order, how many visible deals sit
    there, their total in the base currency (and weighted by the stage's win probability)
    and the first `per_stage` of them, most recently moved in first. Optionally only the
    deals of `owner`, or expected to close between the two dates (both inclusive).

    Four queries whatever the number of stages and deals: stages, totals, the first ids
    of each column (one index range per stage, most recently moved in first, read in
    the order of `deal_stage_entered`), and those deals with their owner and company.
    """
    stages = list(Stage.objects.filter(pipeline=pipeline).order_by("position"))
    deals = access.visible(Deal.objects.filter(pipeline=pipeline), actor=actor)
    if owner is not None:
        deals = deals.filter(owner=owner)
    if expected_close_from is not None:
        deals = deals.filter(expected_close_date__gte=expected_close_from)
    if expected_close_to is not None:
        deals = deals.filter(expected_close_date__lte=expected_close_to)
    totals = {
        row["stage_id"]: row
        # COUNT(*), not COUNT(id): the totals then come from `deal_board_totals` alone.
        for row in deals.order_by().values("stage_id").annotate(count=Count("*"), total=Sum("amount_base"))
    }
    first_deals: dict[int, list[Deal]] = {stage.pk: [] for stage in stages}
    # Ranking every deal of the pipeline with a window function sorted all of them
    # (seconds with 300,000 deals); a UNION ALL of one short index range per stage
    # reads only what the board shows.
    per_column = [
        deals.filter(stage=stage).order_by("-stage_entered_at", "-id").values_list("pk", flat=True)[:per_stage]
        for stage in stages
    ]
    ids = list(per_column[0].union(*per_column[1:], all=True)) if per_column else []
    # A card shows its company and owner: the other joins would only cost.
    ordered = Deal.objects.filter(pk__in=ids).select_related("owner", "company")
    ordered = ordered.order_by("stage_id", "-stage_entered_at", "-id")
    for deal in ordered if ids else []:
        first_deals.setdefault(deal.stage_id, []).append(deal)
    columns = []
    for stage in stages:
        row = totals.get(stage.pk, {})
        total = row.get("total") or Decimal("0")
        columns.append(
            BoardColumn(
                stage=stage,
                count=row.get("count", 0),
                total_amount=total,
                weighted_amount=(total * stage.win_probability / 100).quantize(Decimal("0.01")),
                deals=first_deals[stage.pk],
            )
        )
    return columns


def deals_needing_attention(*, actor: User | None, days: int | None = None, mine: bool = False) -> QuerySet[Deal]:
    """Open visible deals with no activity for `days` (default: the workspace's
    `stale_deal_days`), the longest-forgotten first; with `mine`, only those `actor` owns.
    A deal never touched counts from its creation."""
    days = workspace_settings().stale_deal_days if days is None else days
    cutoff = timezone.now() - timedelta(days=days)
    deals = (
        Deal.objects.filter(stage__kind=StageKind.OPEN)
        .annotate(last_touched=Coalesce("last_activity_at", "created_at"))
        .filter(last_touched__lt=cutoff)
    )
    if mine and actor is not None:
        scoped = access.visible_and_owned(deals, actor=actor)
    else:
        scoped = access.visible(deals, actor=actor)
    return _related(scoped).order_by("last_touched", "id")


def deal_counts_by_status(*, actor: User | None, pipeline: Pipeline | None = None) -> dict[str, int]:
    """How many visible deals are open, won and lost (one query)."""
    deals = access.visible(Deal.objects.all(), actor=actor)
    if pipeline is not None:
        deals = deals.filter(pipeline=pipeline)
    counts = deals.aggregate(**{status: Count("id", filter=Q(stage__kind=status)) for status in DEAL_STATUSES})
    return {status: counts[status] or 0 for status in DEAL_STATUSES}

"""Writes for the CRM domain. Runs inside the current tenant schema."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext as _

from accounts.models import User
from crm import access
from crm.access import Action
from crm.activities.models import ActivityKind
from crm.activities.services import activity_log
from crm.deals.models import Deal, DealStageChange, Pipeline, Stage, StageKind
from crm.money import to_base_currency
from crm.selectors import workspace_settings
from crm.validation import FieldErrors, clean_currency

SOURCE_FIELDS = (
    "channel",
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "utm_term",
    "utm_content",
    "search_engine",
    "source_url",
    "referrer",
)

# The reference process for a service business (seed 001): a deal is won when the work
# is delivered and the acts are signed, not when the money arrives.
SERVICE_PIPELINE_NAME = gettext_noop("Sales")
SERVICE_PIPELINE_STAGES: list[tuple[str, str, int]] = [
    (gettext_noop("New"), StageKind.OPEN, 10),
    (gettext_noop("Needs discovery"), StageKind.OPEN, 20),
    (gettext_noop("Proposal preparation"), StageKind.OPEN, 40),
    (gettext_noop("Proposal negotiation"), StageKind.OPEN, 60),
    (gettext_noop("Service delivery"), StageKind.OPEN, 80),
    (gettext_noop("Acts signed & feedback"), StageKind.WON, 100),
    (gettext_noop("Lost"), StageKind.LOST, 0),
]


@transaction.atomic
def pipeline_create_default(*, language: str) -> Pipeline:
    """Create the service-business pipeline as the workspace default (names in `language`)."""
    with translation.override(language):
        pipeline = Pipeline.objects.create(name=gettext(SERVICE_PIPELINE_NAME), is_default=True)
        Stage.objects.bulk_create(
            Stage(pipeline=pipeline, name=gettext(name), position=index, kind=kind, win_probability=probability)
            for index, (name, kind, probability) in enumerate(SERVICE_PIPELINE_STAGES)
        )
    return pipeline


@transaction.atomic
def deal_create(
    *,
    actor: User | None,
    title: str,
    amount: Decimal = Decimal("0"),
    currency: str = "",
    pipeline: Pipeline | None = None,
    stage: Stage | None = None,
    contact=None,
    company=None,
    owner: User | None = None,
    expected_close_date: date | None = None,
    source: dict[str, str] | None = None,
) -> Deal:
    """Create a deal in `stage` (default: the first stage of `pipeline`, default pipeline).

    Writes the first stage-history entry. Raises ValidationError per field.
    """
    access.require(actor=actor, action=Action.CREATE)
    errors = FieldErrors()
    if not title.strip():
        errors.add("title", _("Give the deal a title."), "required")
    if amount is None or amount < 0:
        errors.add("amount", _("The amount cannot be negative."), "invalid")
    currency = clean_currency(currency or workspace_settings().base_currency, field="currency", errors=errors)
    pipeline = pipeline or (stage.pipeline if stage else Pipeline.objects.filter(is_default=True).first())
    if pipeline is None:
        errors.add("pipeline", _("Create a pipeline first."), "required")
    elif stage is None:
        stage = pipeline.stages.order_by("position").first()
    elif stage.pipeline_id != pipeline.pk:
        errors.add("stage", _("This stage belongs to another pipeline."), "invalid")
    errors.raise_if_any()
    amount_base = _amount_in_base(amount, currency)
    now = timezone.now()
    source = {key: value for key, value in (source or {}).items() if key in SOURCE_FIELDS}
    deal = Deal.objects.create(
        title=title.strip()[:200],
        amount=amount,
        currency=currency,
        amount_base=amount_base,
        pipeline=pipeline,
        stage=stage,
        stage_entered_at=now,
        contact=contact,
        company=company,
        owner=owner if owner is not None else actor,
        expected_close_date=expected_close_date,
        closed_at=now if stage.kind != StageKind.OPEN else None,
        created_by=actor,
        updated_by=actor,
        **source,
    )
    DealStageChange.objects.create(deal=deal, from_stage=None, to_stage=stage, changed_by=actor, changed_at=now)
    return deal


def _amount_in_base(amount: Decimal, currency: str) -> Decimal:
    from django.core.exceptions import ValidationError

    try:
        return to_base_currency(amount, currency)
    except ValidationError as error:
        raise ValidationError({"currency": error.error_list}) from error


@transaction.atomic
def deal_move_stage(*, actor: User | None, deal: Deal, stage: Stage, lost_reason: str = "") -> Deal:
    """Move `deal` to `stage` of its pipeline, recording the move in the stage history.

    A deal is won only by entering a won stage; entering a lost stage needs a reason.
    Moving into the stage it is already in changes nothing.
    """
    access.require(actor=actor, action=Action.EDIT, record=deal)
    deal = Deal.objects.select_for_update().get(pk=deal.pk)
    errors = FieldErrors()
    if stage.pipeline_id != deal.pipeline_id:
        errors.add("stage", _("This stage belongs to another pipeline."), "invalid")
    if stage.kind == StageKind.LOST and not lost_reason.strip():
        errors.add("lost_reason", _("Say why the deal was lost."), "required")
    errors.raise_if_any()
    if stage.pk == deal.stage_id:
        return deal
    now = timezone.now()
    previous = deal.stage
    DealStageChange.objects.create(
        deal=deal,
        from_stage=previous,
        to_stage=stage,
        changed_by=actor,
        changed_at=now,
        seconds_in_previous_stage=max(int((now - deal.stage_entered_at).total_seconds()), 0),
    )
    deal.stage = stage
    deal.stage_entered_at = now
    deal.lost_reason = lost_reason.strip() if stage.kind == StageKind.LOST else ""
    deal.closed_at = now if stage.kind != StageKind.OPEN else None
    deal.updated_by = actor
    deal.save(update_fields=["stage", "stage_entered_at", "lost_reason", "closed_at", "updated_by", "updated_at"])
    activity_log(
        actor=actor,
        kind=ActivityKind.STAGE_CHANGE,
        deal=deal,
        contact=deal.contact,
        company=deal.company,
        subject=f"{previous.name} → {stage.name}",
        body=deal.lost_reason,
        occurred_at=now,
    )
    return deal

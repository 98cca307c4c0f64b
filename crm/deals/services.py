"""Writes for deals and pipelines. Runs inside the current tenant schema.

Nothing else saves a Deal, a Stage or a Pipeline: every move between stages goes
through `deal_move_stage` (or `stage_delete`, which moves deals out of a removed stage)
so the stage history the funnel is computed from is complete.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import Enum
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Case, F, IntegerField, Max, Value, When
from django.utils import timezone, translation
from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext as _

from accounts.models import User
from crm import access
from crm.access import Action
from crm.activities.models import ActivityKind
from crm.activities.services import activity_log
from crm.bulk_writes import BulkOutcome, records_bulk_write, values_insert
from crm.custom_fields.selectors import custom_fields_for
from crm.custom_fields.values import values_clean
from crm.deals.models import Deal, DealStageChange, Pipeline, Stage, StageKind
from crm.errors import Conflict
from crm.history.services import (
    Change,
    changes_between,
    field_changes_record,
    record_save_with_history,
    records_changes_record,
)
from crm.limits import require_plan_room
from crm.models import Tag
from crm.money import to_base_currency
from crm.selectors import workspace_settings
from crm.tags import record_tags_set, tag_name_clean
from crm.validation import FieldErrors, clean_currency
from crm.webhooks import events as webhook_events

if TYPE_CHECKING:
    from crm.clients.models import Company, Contact

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

# Stage positions are unique per pipeline and cannot go negative (the column is
# unsigned), so a reorder parks every stage above this offset first: no two rows ever
# hold the same position, whatever order PostgreSQL updates them in.
_PARKING_OFFSET = 10000
MAX_STAGES = 50


class _Unset(Enum):
    UNSET = "unset"


UNSET = _Unset.UNSET


@dataclass(frozen=True)
class StageSpec:
    """A stage to create: its name, kind and default win probability (percent)."""

    name: str
    kind: str = StageKind.OPEN
    win_probability: int = 0


def _default_probability(kind: str) -> int:
    return 100 if kind == StageKind.WON else 0


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


# --- deals -----------------------------------------------------------------------------


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
    tags: Iterable[str | Tag] = (),
    custom_fields: Mapping[str, Any] | None = None,
) -> Deal:
    """Create a deal in `stage` (default: the first stage of `pipeline`, default pipeline).

    Writes the first stage-history entry. `tags` are names (unknown ones are created) or
    Tag objects. `custom_fields` (key: value) are cleaned by crm.custom_fields; given
    (even empty) means a person's input, which must fill the required fields; None (a
    converted lead's deal) skips that check. Raises ValidationError per field.
    """
    access.require(actor=actor, action=Action.CREATE, model=Deal)
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
    elif stage.deleted_at is not None:
        errors.add("stage", _("This stage has been removed from the pipeline."), "invalid")
    tags = list(tags)
    _check_tag_names(tags, errors)
    custom_values = _custom_values(custom_fields, current=None, creating=custom_fields is not None, errors=errors)
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
        stages_entered=[stage.pk],
        stage_seconds=[None],
        custom_fields=custom_values,
        created_by=actor,
        updated_by=actor,
        **source,
    )
    DealStageChange.objects.create(deal=deal, from_stage=None, to_stage=stage, changed_by=actor, changed_at=now)
    if tags:
        record_tags_set(actor=actor, record=deal, tags=tags, history=False)
    webhook_events.deal_created(deal)
    return deal


@transaction.atomic
def deals_import_batch(*, actor: User | None, creates: Sequence[Mapping[str, Any]]) -> BulkOutcome:
    """Create many deals at once (the import job's writer), each as deal_create would:
    its pipeline and stage (a live stage of that pipeline, checked by the caller), its
    first stage-history entry (DealStageChange from nothing), `stages_entered` and
    `stage_seconds` started, `closed_at` when it starts in a won or lost stage, and
    `amount_base` at today's rate (ValidationError on `currency` without one). `tags`
    are names. One INSERT per table per batch; no webhook per deal.
    """
    access.require(actor=actor, action=Action.CREATE, model=Deal)
    now = timezone.now()
    rows = []
    for values in creates:
        fields = dict(values)
        stage = fields["stage"]
        amount = fields.get("amount") or Decimal("0")
        currency = fields.get("currency") or workspace_settings().base_currency
        fields.update(
            amount=amount,
            currency=currency,
            amount_base=_amount_in_base(amount, currency),
            pipeline=stage.pipeline,
            stage_entered_at=now,
            closed_at=now if stage.kind != StageKind.OPEN else None,
            stages_entered=[stage.pk],
            stage_seconds=[None],
        )
        fields.setdefault("owner", actor)
        rows.append(fields)
    outcome = records_bulk_write(model=Deal, actor=actor, creates=rows, updates=[])
    values_insert(
        DealStageChange,
        [
            {"deal_id": deal_id, "to_stage": fields["stage"], "changed_by": actor, "changed_at": now}
            for deal_id, fields in zip(outcome.created, rows, strict=True)
        ],
    )  # fmt: skip
    return outcome


def _custom_values(
    given: Mapping[str, Any] | None, *, current: Mapping[str, Any] | None, creating: bool, errors: FieldErrors
) -> dict[str, Any]:
    return values_clean(
        fields=custom_fields_for("deal"),
        given=given,
        current=current,
        creating=creating,
        errors=errors,
        region=workspace_settings().default_phone_region,
    )


def _check_tag_names(tags: list[str | Tag], errors: FieldErrors) -> None:
    for item in tags:
        if not isinstance(item, Tag):
            tag_name_clean(item, field="tags", errors=errors)


def _amount_in_base(amount: Decimal, currency: str) -> Decimal:
    try:
        return to_base_currency(amount, currency)
    except ValidationError as error:
        raise ValidationError({"currency": error.error_list}) from error


@transaction.atomic
def deal_update(
    *,
    actor: User | None,
    deal: Deal,
    title: str | _Unset = UNSET,
    amount: Decimal | _Unset = UNSET,
    currency: str | _Unset = UNSET,
    expected_close_date: date | _Unset | None = UNSET,
    owner: User | _Unset | None = UNSET,
    contact: Contact | _Unset | None = UNSET,
    company: Company | _Unset | None = UNSET,
    tags: Iterable[str | Tag] | _Unset = UNSET,
    custom_fields: Mapping[str, Any] | _Unset = UNSET,
) -> Deal:
    """Change the given fields of `deal` (fields left out stay as they are; None clears;
    `tags` replaces the list; `custom_fields` changes the keys given). Any change moves
    `updated_at` (the API's ETag), tags included, and goes to the field history.

    A new amount or currency recomputes `amount_base` at today's rate. Stages are not
    changed here (`deal_move_stage`, `deal_mark_won`, `deal_mark_lost`, `deal_reopen`).
    Raises ValidationError with field codes: title `required`, amount `invalid`,
    currency `invalid_currency` / `missing_exchange_rate`, owner `inactive`, contact and
    company `invalid` (in the trash).
    """
    access.require(actor=actor, action=Action.EDIT, record=deal)
    deal = Deal.objects.select_for_update().get(pk=deal.pk)
    errors = FieldErrors()
    changes: dict[str, Any] = {}
    if title is not UNSET:
        if not title.strip():
            errors.add("title", _("Give the deal a title."), "required")
        changes["title"] = title.strip()[:200]
    if amount is not UNSET:
        if amount is None or amount < 0:
            errors.add("amount", _("The amount cannot be negative."), "invalid")
        changes["amount"] = amount
    if currency is not UNSET:
        changes["currency"] = clean_currency(currency, field="currency", errors=errors)
    if expected_close_date is not UNSET:
        changes["expected_close_date"] = expected_close_date
    if owner is not UNSET:
        if owner is not None and not owner.is_active:
            errors.add("owner", _("This person's account is switched off."), "inactive")
        changes["owner"] = owner
    if contact is not UNSET:
        if contact is not None and contact.is_trashed:
            errors.add("contact", _("This contact is in the trash."), "invalid")
        changes["contact"] = contact
    if company is not UNSET:
        if company is not None and company.is_trashed:
            errors.add("company", _("This company is in the trash."), "invalid")
        changes["company"] = company
    if custom_fields is not UNSET:
        changes["custom_fields"] = _custom_values(
            custom_fields, current=deal.custom_fields, creating=False, errors=errors
        )
    if tags is not UNSET:
        tags = list(tags)
        _check_tag_names(tags, errors)
    errors.raise_if_any()
    if not changes and tags is UNSET:
        return deal
    also_save: tuple[str, ...] = ()
    if "amount" in changes or "currency" in changes:
        # The base amount follows from the others; its history would only repeat them.
        deal.amount_base = _amount_in_base(changes.get("amount", deal.amount), changes.get("currency", deal.currency))
        also_save = ("amount_base",)
    record_save_with_history(deal, changes, actor=actor, also_save=also_save)
    if tags is not UNSET:
        record_tags_set(actor=actor, record=deal, tags=tags)
    return deal


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
    elif stage.deleted_at is not None:
        errors.add("stage", _("This stage has been removed from the pipeline."), "invalid")
    if stage.kind == StageKind.LOST and not lost_reason.strip():
        errors.add("lost_reason", _("Say why the deal was lost."), "required")
    errors.raise_if_any()
    if stage.pk == deal.stage_id:
        return deal
    now = timezone.now()
    previous = deal.stage
    lost_reason = lost_reason.strip()[:255] if stage.kind == StageKind.LOST else ""
    changes = changes_between(deal, {"stage": stage, "lost_reason": lost_reason})
    seconds = max(int((now - deal.stage_entered_at).total_seconds()), 0)
    DealStageChange.objects.create(
        deal=deal,
        from_stage=previous,
        to_stage=stage,
        changed_by=actor,
        changed_at=now,
        seconds_in_previous_stage=seconds,
    )
    deal.stages_entered, deal.stage_seconds = stage_summary_after_move(
        deal.stages_entered, deal.stage_seconds, from_stage_id=previous.pk, to_stage_id=stage.pk, seconds_spent=seconds
    )
    deal.previous_stage = previous
    deal.stage = stage
    deal.stage_entered_at = now
    deal.lost_reason = lost_reason
    deal.closed_at = now if stage.kind != StageKind.OPEN else None
    deal.updated_by = actor
    deal.save(
        update_fields=[
            "stage",
            "stage_entered_at",
            "stages_entered",
            "stage_seconds",
            "previous_stage",
            "lost_reason",
            "closed_at",
            "updated_by",
            "updated_at",
        ]
    )
    # The field history has the move too (the API's /history/); the activity, logged at
    # the same time, is what the timeline shows of it.
    field_changes_record(record=deal, changes=changes, actor=actor, at=now)
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
    webhook_events.deal_moved(deal, previous)
    return deal


def stage_summary_after_move(
    entered: Sequence[int], seconds: Sequence[int | None], *, from_stage_id: int, to_stage_id: int, seconds_spent: int
) -> tuple[list[int], list[int | None]]:
    """The deal's stage summary (Deal.stages_entered / stage_seconds) after a move:
    the time spent is added to the stage left, the stage entered is listed once."""
    entered, totals = list(entered), list(seconds)
    if from_stage_id not in entered:  # a deal older than the summary: start it here
        entered.append(from_stage_id)
        totals.append(None)
    index = entered.index(from_stage_id)
    totals[index] = (totals[index] or 0) + seconds_spent
    if to_stage_id not in entered:
        entered.append(to_stage_id)
        totals.append(None)
    return entered, totals


def _first_stage_of_kind(pipeline_id: int, kind: str) -> Stage:
    stage = Stage.objects.filter(pipeline_id=pipeline_id, kind=kind).order_by("position").first()
    if stage is None:  # the pipeline rules keep one of each kind; a hand-edited database may not
        raise Conflict(_("This pipeline has no stage of that kind."), code="stage_kind_missing")
    return stage


@transaction.atomic
def deal_mark_won(*, actor: User | None, deal: Deal) -> Deal:
    """Move `deal` into its pipeline's (first) won stage; a deal already won stays as it is."""
    if deal.stage.kind == StageKind.WON:
        access.require(actor=actor, action=Action.EDIT, record=deal)
        return deal
    return deal_move_stage(actor=actor, deal=deal, stage=_first_stage_of_kind(deal.pipeline_id, StageKind.WON))


@transaction.atomic
def deal_mark_lost(*, actor: User | None, deal: Deal, reason: str) -> Deal:
    """Move `deal` into its pipeline's (first) lost stage with `reason` (required).

    A deal already lost only gets its reason updated; no new history entry is written.
    """
    if deal.stage.kind == StageKind.LOST and reason.strip():
        access.require(actor=actor, action=Action.EDIT, record=deal)
        locked = Deal.objects.select_for_update().get(pk=deal.pk)
        record_save_with_history(locked, {"lost_reason": reason.strip()[:255]}, actor=actor)
        deal.refresh_from_db()
        return deal
    return deal_move_stage(
        actor=actor, deal=deal, stage=_first_stage_of_kind(deal.pipeline_id, StageKind.LOST), lost_reason=reason
    )


@transaction.atomic
def deal_reopen(*, actor: User | None, deal: Deal, stage: Stage | None = None) -> Deal:
    """Put a won or lost deal back into an open stage: `stage`, else the open stage it
    was closed from, else the pipeline's first open stage. The move is recorded.

    Raises Conflict `deal_not_closed` for an open deal and ValidationError (stage
    `invalid`) when `stage` is not an open stage of the deal's pipeline.
    """
    access.require(actor=actor, action=Action.EDIT, record=deal)
    if deal.stage.kind == StageKind.OPEN:
        raise Conflict(_("This deal is still open."), code="deal_not_closed")
    if stage is None:
        stage = _stage_closed_from(deal) or _first_stage_of_kind(deal.pipeline_id, StageKind.OPEN)
    elif stage.kind != StageKind.OPEN:
        raise ValidationError({"stage": [ValidationError(_("Choose an open stage."), code="invalid")]})
    return deal_move_stage(actor=actor, deal=deal, stage=stage)


def _stage_closed_from(deal: Deal) -> Stage | None:
    move = (
        DealStageChange.objects.filter(deal=deal, to_stage_id=deal.stage_id)
        .select_related("from_stage")
        .order_by("-changed_at", "-id")
        .first()
    )
    if move is None or move.from_stage is None:
        return None
    previous = move.from_stage
    if previous.kind != StageKind.OPEN or previous.deleted_at is not None:
        return None
    return previous


# --- pipelines and stages ----------------------------------------------------------------


def _clean_stage_name(name: str, errors: FieldErrors, field: str = "name") -> str:
    name = (name or "").strip()
    if not name:
        errors.add(field, _("Give the stage a name."), "required")
    elif len(name) > 100:
        errors.add(field, _("Keep the name under 100 characters."), "max_length")
    return name


def _clean_probability(value: int, errors: FieldErrors, field: str = "win_probability") -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 100:
        errors.add(field, _("Give the win probability as a whole number from 0 to 100."), "invalid")
        return 0
    return value


def _require_every_kind(kinds: Sequence[str], *, field: str) -> None:
    """Every pipeline keeps an open, a won and a lost stage: deals must be able to close."""
    missing = [kind for kind in StageKind.values if kind not in kinds]
    if missing:
        labels = ", ".join(str(StageKind(kind).label) for kind in missing)
        raise ValidationError(
            {
                field: [
                    ValidationError(
                        _("A pipeline needs at least one open, one won and one lost stage; missing: %(kinds)s.")
                        % {"kinds": labels},
                        code="stage_kind_required",
                    )
                ]
            }
        )


@transaction.atomic
def pipeline_create(*, actor: User | None, name: str, stages: Sequence[StageSpec] | None = None) -> Pipeline:
    """Create a pipeline with `stages` in the given order (default: the service-business
    stages, in the current language). Administrators only.

    Guarantees at least one open, one won and one lost stage (ValidationError `stages`
    code `stage_kind_required`); the first pipeline of the workspace becomes the default.
    """
    access.require(actor=actor, action=Action.CONFIGURE)
    require_plan_room("pipelines", in_use=Pipeline.objects.count)
    errors = FieldErrors()
    name = (name or "").strip()
    if not name:
        errors.add("name", _("Give the pipeline a name."), "required")
    elif len(name) > 100:
        errors.add("name", _("Keep the name under 100 characters."), "max_length")
    if stages is None:
        stages = [StageSpec(gettext(label), kind, probability) for label, kind, probability in SERVICE_PIPELINE_STAGES]
    cleaned: list[StageSpec] = []
    for index, spec in enumerate(stages):
        stage_name = _clean_stage_name(spec.name, errors, field=f"stages.{index}.name")
        if spec.kind not in StageKind.values:
            errors.add(f"stages.{index}.kind", _("Choose open, won or lost."), "invalid_choice")
        probability = _clean_probability(spec.win_probability, errors, field=f"stages.{index}.win_probability")
        cleaned.append(StageSpec(stage_name, spec.kind, probability))
    if len(cleaned) > MAX_STAGES:
        errors.add("stages", _("A pipeline can have at most %(count)d stages.") % {"count": MAX_STAGES}, "too_many")
    errors.raise_if_any()
    _require_every_kind([spec.kind for spec in cleaned], field="stages")
    last_position = Pipeline.objects.aggregate(last=Max("position"))["last"]
    pipeline = Pipeline.objects.create(
        name=name,
        is_default=not Pipeline.objects.filter(is_default=True).exists(),
        position=0 if last_position is None else last_position + 1,
    )
    Stage.objects.bulk_create(
        Stage(pipeline=pipeline, name=spec.name, kind=spec.kind, win_probability=spec.win_probability, position=index)
        for index, spec in enumerate(cleaned)
    )
    return pipeline


@transaction.atomic
def pipeline_rename(*, actor: User | None, pipeline: Pipeline, name: str) -> Pipeline:
    """Rename `pipeline`. Administrators only; ValidationError `name` when blank or too long."""
    access.require(actor=actor, action=Action.CONFIGURE)
    errors = FieldErrors()
    name = (name or "").strip()
    if not name:
        errors.add("name", _("Give the pipeline a name."), "required")
    elif len(name) > 100:
        errors.add("name", _("Keep the name under 100 characters."), "max_length")
    errors.raise_if_any()
    pipeline.name = name
    pipeline.save(update_fields=["name", "updated_at"])
    return pipeline


@transaction.atomic
def pipeline_set_default(*, actor: User | None, pipeline: Pipeline) -> Pipeline:
    """Make `pipeline` the one new deals and converted leads go to. Exactly one default remains."""
    access.require(actor=actor, action=Action.CONFIGURE)
    # The partial unique index allows one default: clear the old one before setting the new.
    Pipeline.objects.select_for_update().filter(is_default=True).exclude(pk=pipeline.pk).update(
        is_default=False, updated_at=timezone.now()
    )
    Pipeline.objects.filter(pk=pipeline.pk).update(is_default=True, updated_at=timezone.now())
    pipeline.refresh_from_db()
    return pipeline


@transaction.atomic
def pipeline_delete(*, actor: User | None, pipeline: Pipeline) -> None:
    """Delete an empty pipeline with its stages. Administrators only.

    Refused (Conflict `pipeline_has_deals`) while any deal, even one in the trash, is in
    it, and (Conflict `last_pipeline`) for the workspace's only pipeline. Deleting the
    default pipeline makes the next one by position the default.
    """
    access.require(actor=actor, action=Action.CONFIGURE)
    pipeline = Pipeline.objects.select_for_update().get(pk=pipeline.pk)
    if Deal.all_objects.filter(pipeline=pipeline).exists():
        raise Conflict(
            _("Move or delete the deals in this pipeline first (the trash counts too)."), code="pipeline_has_deals"
        )
    others = Pipeline.objects.exclude(pk=pipeline.pk).order_by("position", "id")
    successor = others.first()
    if successor is None:
        raise Conflict(_("The workspace needs at least one pipeline."), code="last_pipeline")
    was_default = pipeline.is_default
    # Archived stages are rows too; a pipeline without deals has no history pointing at them.
    Stage.all_objects.filter(pipeline=pipeline).delete()
    pipeline.delete()
    if was_default:
        Pipeline.objects.filter(pk=successor.pk).update(is_default=True, updated_at=timezone.now())


def _locked_stages(pipeline: Pipeline) -> list[Stage]:
    # One pipeline's stages change under one lock, so two admins cannot interleave reorders.
    Pipeline.objects.select_for_update().filter(pk=pipeline.pk).first()
    return list(Stage.objects.filter(pipeline=pipeline).order_by("position", "id"))


def _positions_apply(pipeline: Pipeline, ordered_ids: Sequence[int]) -> None:
    """Give the live stages of `pipeline` positions 0..n-1 in `ordered_ids` order.

    Two statements, each collision-free under the (pipeline, position) unique constraint:
    park every stage at offset + its new position, then bring them all down.
    """
    if len(ordered_ids) >= _PARKING_OFFSET:
        raise Conflict(_("Too many stages."), code="too_many")
    now = timezone.now()
    live = Stage.objects.filter(pipeline=pipeline, pk__in=ordered_ids)
    live.update(
        position=Case(
            *(When(pk=pk, then=Value(_PARKING_OFFSET + index)) for index, pk in enumerate(ordered_ids)),
            output_field=IntegerField(),
        ),
        updated_at=now,
    )
    live.update(position=F("position") - _PARKING_OFFSET)


@transaction.atomic
def stage_add(
    *,
    actor: User | None,
    pipeline: Pipeline,
    name: str,
    kind: str = StageKind.OPEN,
    win_probability: int | None = None,
    position: int | None = None,
) -> Stage:
    """Add a stage to `pipeline` at `position` (0 = first; default: after the last open
    stage, before won and lost). Administrators only. Stages after it move down by one.
    """
    access.require(actor=actor, action=Action.CONFIGURE)
    errors = FieldErrors()
    name = _clean_stage_name(name, errors)
    if kind not in StageKind.values:
        errors.add("kind", _("Choose open, won or lost."), "invalid_choice")
    probability = _clean_probability(_default_probability(kind) if win_probability is None else win_probability, errors)
    stages = _locked_stages(pipeline)
    if len(stages) >= MAX_STAGES:
        errors.add("name", _("A pipeline can have at most %(count)d stages.") % {"count": MAX_STAGES}, "too_many")
    if position is not None and not 0 <= position <= len(stages):
        errors.add("position", _("Choose a position within the pipeline."), "invalid")
    errors.raise_if_any()
    if position is None:
        open_positions = [index for index, stage in enumerate(stages) if stage.kind == StageKind.OPEN]
        position = open_positions[-1] + 1 if open_positions else 0
    stage = Stage.objects.create(
        pipeline=pipeline, name=name, kind=kind, win_probability=probability, position=_PARKING_OFFSET * 2
    )
    ordered = [existing.pk for existing in stages]
    ordered.insert(position, stage.pk)
    _positions_apply(pipeline, ordered)
    stage.refresh_from_db()
    return stage


@transaction.atomic
def stage_rename(*, actor: User | None, stage: Stage, name: str) -> Stage:
    """Rename `stage`. Administrators only; ValidationError `name` when blank or too long."""
    access.require(actor=actor, action=Action.CONFIGURE)
    errors = FieldErrors()
    name = _clean_stage_name(name, errors)
    errors.raise_if_any()
    stage.name = name
    stage.save(update_fields=["name", "updated_at"])
    return stage


@transaction.atomic
def stage_set_win_probability(*, actor: User | None, stage: Stage, win_probability: int) -> Stage:
    """Set the default win probability (0-100) the forecast weighs open deals in `stage` by."""
    access.require(actor=actor, action=Action.CONFIGURE)
    errors = FieldErrors()
    probability = _clean_probability(win_probability, errors)
    errors.raise_if_any()
    stage.win_probability = probability
    stage.save(update_fields=["win_probability", "updated_at"])
    return stage


@transaction.atomic
def stages_reorder(*, actor: User | None, pipeline: Pipeline, stage_ids: Sequence[int]) -> list[Stage]:
    """Put the stages of `pipeline` in the order of `stage_ids` (every live stage, once).

    Administrators only. ValidationError `stage_ids` code `invalid` when the ids are not
    exactly the pipeline's stages. Returns the stages in their new order.
    """
    access.require(actor=actor, action=Action.CONFIGURE)
    stages = _locked_stages(pipeline)
    wanted = [int(pk) for pk in stage_ids]
    if len(wanted) != len(set(wanted)) or set(wanted) != {stage.pk for stage in stages}:
        raise ValidationError(
            {"stage_ids": [ValidationError(_("List every stage of this pipeline exactly once."), code="invalid")]}
        )
    _positions_apply(pipeline, wanted)
    return list(Stage.objects.filter(pipeline=pipeline).order_by("position"))


@transaction.atomic
def stage_delete(*, actor: User | None, stage: Stage, move_deals_to: Stage | None = None) -> int:
    """Remove `stage` from its pipeline; returns how many deals were moved out of it.

    Administrators only. Deals in the stage (the trash counts too) block the removal
    (Conflict `stage_has_deals`) unless `move_deals_to`, another live stage of the same
    pipeline, is given: each of them is then moved there with an entry in its stage
    history. The last open, won or lost stage cannot be removed (ValidationError
    `stage` code `stage_kind_required`). The stage is archived, not erased, so the
    history of deals that passed through it stays whole.
    """
    access.require(actor=actor, action=Action.CONFIGURE)
    stages = _locked_stages(stage.pipeline)
    stage = next((candidate for candidate in stages if candidate.pk == stage.pk), None) or stage
    if stage.deleted_at is not None:
        raise Conflict(_("This stage has already been removed."), code="stage_removed")
    _require_every_kind([other.kind for other in stages if other.pk != stage.pk], field="stage")
    if move_deals_to is not None and (
        move_deals_to.pipeline_id != stage.pipeline_id
        or move_deals_to.pk == stage.pk
        or move_deals_to.deleted_at is not None
    ):
        raise ValidationError(
            {"move_deals_to": [ValidationError(_("Choose another stage of the same pipeline."), code="invalid")]}
        )
    deals = list(Deal.all_objects.select_for_update().filter(stage=stage).order_by("pk"))
    if deals and move_deals_to is None:
        raise Conflict(
            _("%(count)d deals are in this stage: choose a stage to move them to.") % {"count": len(deals)},
            code="stage_has_deals",
        )
    if deals:
        assert move_deals_to is not None
        _deals_move_out(actor=actor, deals=deals, source=stage, target=move_deals_to)
    now = timezone.now()
    stage.deleted_at = now
    stage.save(update_fields=["deleted_at", "updated_at"])
    _positions_apply(stage.pipeline, [other.pk for other in stages if other.pk != stage.pk])
    return len(deals)


def _deals_move_out(*, actor: User | None, deals: list[Deal], source: Stage, target: Stage) -> None:
    """Bulk version of deal_move_stage for a removed stage: one history row per deal."""
    now = timezone.now()
    changes = []
    for deal in deals:
        seconds = max(int((now - deal.stage_entered_at).total_seconds()), 0)
        changes.append(
            DealStageChange(
                deal=deal,
                from_stage=source,
                to_stage=target,
                changed_by=actor,
                changed_at=now,
                seconds_in_previous_stage=seconds,
            )
        )
        deal.stages_entered, deal.stage_seconds = stage_summary_after_move(
            deal.stages_entered,
            deal.stage_seconds,
            from_stage_id=source.pk,
            to_stage_id=target.pk,
            seconds_spent=seconds,
        )
    DealStageChange.objects.bulk_create(changes)
    Deal.all_objects.bulk_update(deals, ["stages_entered", "stage_seconds"], batch_size=1000)
    if target.kind == StageKind.LOST:
        lost_reason = gettext("Stage “%(stage)s” was removed.") % {"stage": source.name}
    else:
        lost_reason = ""
    history: dict[int, list[Change]] = {}
    for deal in deals:
        history[deal.pk] = [
            Change(field="stage", old=source.pk, new=target.pk, old_label=source.name, new_label=target.name)
        ]
        if deal.lost_reason != lost_reason:
            history[deal.pk].append(Change(field="lost_reason", old=deal.lost_reason, new=lost_reason))
    records_changes_record(record_type="deal", changes_by_id=history, actor=actor)
    fields: dict[str, Any] = {
        "stage": target,
        "previous_stage": source,
        "stage_entered_at": now,
        "closed_at": now if target.kind != StageKind.OPEN else None,
        "updated_by": actor,
        "updated_at": now,
    }
    fields["lost_reason"] = lost_reason
    Deal.all_objects.filter(pk__in=[deal.pk for deal in deals]).update(**fields)

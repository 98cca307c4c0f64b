"""Demo data for the current workspace: the small set `make run` shows, and the volume
the benchmarks measure against.

Both write with COPY (crm.demo.copy_load) rather than through the services, because
the rows carry creation times spread over past months and because the volume is in
the millions; crm.demo.generate produces rows that keep the services' promises.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Model
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from crm.activities.models import Activity, Task
from crm.catalog.models import Product
from crm.clients.models import Company, Contact
from crm.deals.models import Deal, DealStageChange, Pipeline, Stage, StageKind
from crm.demo.copy_load import (
    IdRange,
    TableWriter,
    constraints_check,
    secondary_structures_dropped,
    tables_analyze,
    tables_lock,
)
from crm.demo.generate import USD_VALUE, DemoWorld, Ids, StageInfo, Volume, deal_rate
from crm.errors import Conflict
from crm.leads.models import Lead
from crm.models import ExchangeRate
from crm.selectors import workspace_settings

SIZES: dict[str, Volume] = {
    "small": Volume(companies=60, contacts=150, leads=80, deals=60, activities=260, tasks=40, products=8),
    "medium": Volume(companies=600, contacts=1500, leads=800, deals=600, activities=2600, tasks=200, products=8),
}
SMALL_SPAN_DAYS = 365
BULK_SPAN_DAYS = 730
# Tables the loads write to, in the order they are written.
LOADED_MODELS: list[type[Model]] = [Company, Contact, Lead, Deal, DealStageChange, Activity, Task, Product]

Progress = Callable[[str], None]


@dataclass
class DemoLoadResult:
    counts: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)


def demo_data_present() -> bool:
    """Whether the workspace already has client records (trash included)."""
    return any(model.all_objects.exists() for model in (Company, Contact, Lead, Deal))


@transaction.atomic
def demo_populate(*, size: str = "small", seed: int = 2026, now: datetime | None = None) -> DemoLoadResult:
    """Fill the current workspace with a realistic sales year: companies, contacts with
    international names, leads from search ads, newsletters and referrals (UTM tags and
    keywords), deals over the last 12 months with their stage history (some won, some
    lost), activities, tasks (some overdue) and products, owned by the workspace's users.

    The same seed and `now` give the same data. Refuses (Conflict `demo_data_present`)
    when the workspace already has companies, contacts, leads or deals, so running it
    twice never doubles the data.
    """
    if size not in SIZES:
        raise ValidationError({"size": [ValidationError(_("Choose small or medium."), code="invalid_choice")]})
    if demo_data_present():
        raise Conflict(
            _("This workspace already has client records; demo data is only added to an empty one."),
            code="demo_data_present",
        )
    now = now or timezone.now()
    world = _world(volume=SIZES[size], seed=seed, now=now, span_days=SMALL_SPAN_DAYS, rich=True)
    result = _load(world, models=LOADED_MODELS)
    _exchange_rates_ensure(world)
    constraints_check()
    return result


@transaction.atomic
def demo_bulk_load(
    *,
    contacts: int,
    leads: int,
    deals: int,
    activities: int,
    seed: int = 1,
    companies: int | None = None,
    progress: Progress | None = None,
) -> DemoLoadResult:
    """Add benchmark volume to the current workspace in one transaction: contacts (one
    company per twenty), leads, deals over the last two years with a stage history row
    for every move, and activities; then refresh planner statistics.

    Rows go in with COPY while the tables' secondary indexes and foreign keys are set
    aside; both are rebuilt (and the keys validated) before the transaction commits,
    so the data is checked as strictly as row-by-row inserts would check it. Takes the
    tables' locks for the duration: run it on a workspace nobody is using.
    """
    for name, value in {"contacts": contacts, "leads": leads, "deals": deals, "activities": activities}.items():
        if value < 0:
            raise ValidationError({name: [ValidationError(_("Give a number of rows, 0 or more."), code="invalid")]})
    volume = Volume(
        companies=max(contacts // 20, 1 if contacts else 0) if companies is None else companies,
        contacts=contacts,
        leads=leads,
        deals=deals,
        activities=activities,
    )
    world = _world(volume=volume, seed=seed, now=timezone.now(), span_days=BULK_SPAN_DAYS, rich=False)
    models = [Company, Contact, Lead, Deal, DealStageChange, Activity]
    started = time.perf_counter()
    tables_lock(models)
    with secondary_structures_dropped(models):
        result = _load(world, models=models, progress=progress, locked=True)
        if progress:
            progress("rebuilding indexes and foreign keys")
        rebuild_started = time.perf_counter()
    result.seconds["indexes_and_keys"] = time.perf_counter() - rebuild_started
    analyze_started = time.perf_counter()
    tables_analyze(models)
    result.seconds["analyze"] = time.perf_counter() - analyze_started
    result.seconds["total"] = time.perf_counter() - started
    return result


def _world(*, volume: Volume, seed: int, now: datetime, span_days: int, rich: bool) -> DemoWorld:
    pipeline = Pipeline.objects.filter(is_default=True).first() or Pipeline.objects.order_by("position", "id").first()
    if pipeline is None:
        raise Conflict(_("Create a pipeline first."), code="no_pipeline")
    stages = list(Stage.objects.filter(pipeline=pipeline).order_by("position"))
    open_stages = [StageInfo(stage.pk, stage.name, stage.kind) for stage in stages if stage.kind == StageKind.OPEN]
    won = next((stage for stage in stages if stage.kind == StageKind.WON), None)
    lost = next((stage for stage in stages if stage.kind == StageKind.LOST), None)
    if not open_stages or won is None or lost is None:
        raise Conflict(_("The pipeline needs an open, a won and a lost stage."), code="stage_kind_missing")
    owners = list(User.objects.filter(is_active=True).order_by("pk").values_list("pk", flat=True))
    return DemoWorld(
        seed=seed,
        now=now,
        volume=volume,
        ids=Ids(company=0, contact=0, lead=0, deal=0),
        owner_ids=owners,
        open_stages=open_stages,
        won_stage=StageInfo(won.pk, won.name, won.kind),
        lost_stage=StageInfo(lost.pk, lost.name, lost.kind),
        pipeline_id=pipeline.pk,
        base_currency=workspace_settings().base_currency,
        span_days=span_days,
        rich=rich,
    )


def _load(
    world: DemoWorld, *, models: list[type[Model]], progress: Progress | None = None, locked: bool = False
) -> DemoLoadResult:
    """Write every table of `world` in dependency order; ids are reserved first so rows
    can point at rows not written yet (foreign keys are deferred or set aside)."""
    if not locked:
        tables_lock(models)
    ranges = {model: IdRange(model) for model in models}
    world.ids = Ids(
        company=ranges[Company].first,
        contact=ranges[Contact].first,
        lead=ranges[Lead].first,
        deal=ranges[Deal].first,
    )
    result = DemoLoadResult()
    volume = world.volume
    steps: list[tuple[type[Model], Callable[[], object], int | None]] = [
        (Company, world.companies, volume.companies),
        (Contact, world.contacts, volume.contacts),
        (Lead, world.leads, volume.leads),
        (Deal, world.deals, volume.deals),
        (DealStageChange, lambda: world.stage_history(ranges[DealStageChange].take), None),
        (Activity, lambda: world.activities(ranges[Activity].take), None),
        (Task, lambda: world.tasks(ranges[Task].take), None),
        (Product, lambda: world.products(ranges[Product].take), None),
    ]
    for model, rows, preassigned in steps:
        if model not in ranges:
            continue
        name = model._meta.model_name
        if progress:
            progress(f"writing {model._meta.verbose_name_plural}")
        started = time.perf_counter()
        count = TableWriter(model).write(rows())  # type: ignore[arg-type]
        if preassigned is not None:
            ranges[model].last = ranges[model].first + count - 1
        result.counts[name] = count
        result.seconds[name] = time.perf_counter() - started
    for id_range in ranges.values():
        id_range.close()
    return result


def _exchange_rates_ensure(world: DemoWorld) -> None:
    """Rates for the foreign currencies some demo deals are priced in, valid all year."""
    base = world.base_currency
    if base not in USD_VALUE:
        return
    since = (world.now - timedelta(days=world.span_days + 1)).date()
    for currency in USD_VALUE:
        if currency != base and not ExchangeRate.objects.filter(currency=currency).exists():
            ExchangeRate.objects.create(currency=currency, rate=deal_rate(currency, base), valid_from=since)

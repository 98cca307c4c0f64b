"""Seconds per tenant signup: the real signup (DDL replay) vs. running every migration.

Both paths run `tenants.services.tenant_signup` end to end: validation (with the password
validators), the advisory lock, the schema, the Tenant and Domain rows, roles, the admin
user (Argon2 hash) and the default pipeline in the new schema, the commit, and the
welcome email queued to the Celery broker in `on_commit`. The only difference is how the
schema is made: `schema_create_from_template` (the replayed DDL, what production runs) or
`schema_create_by_migrations` (CREATE SCHEMA + `migrate_schemas`, in the same
transaction), swapped in for the measurement.

Each population level (tenants already present) is reached with filler tenants made by
the real signup (`bench-fill-NNN`, kept between runs so re-runs skip most of the work;
levels run in the order that needs the fewest signups). At each level: a fresh database
connection, one unmeasured warm-up signup per path, then the samples of both paths
interleaved. Every sample is deleted right after it is timed, so each one is measured
with exactly N tenants present. Nobody consumes the queued welcome emails; they are
purged from the bench broker at the end.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import io
import logging
import os
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar
from unittest import mock

from bench import support

if TYPE_CHECKING:  # Django models and services are imported after django.setup().
    from tenants.services import SignupRequest

CLONE = "clone"
MIGRATIONS = "migrations"
PATHS = (CLONE, MIGRATIONS)
PATH_LABELS = {CLONE: "clone (DDL replay)", MIGRATIONS: "run all migrations"}
FILL_PREFIX = "bench-fill-"
SAMPLE_PREFIX = "bench-sample-"
PLAN = "team"
# Passes every validator in AUTH_PASSWORD_VALIDATORS, so signups do the real checks.
PASSWORD = "bench-Correct-Horse-2026"  # noqa: S105 - throwaway tenants in the bench database
GOAL_LEVEL = 500
GOAL_CLONE_P50_SECONDS = 1.0
GOAL_SPEEDUP = 5.0
# Phases of one signup, timed by wrapping the functions tenant_signup calls.
PHASES = ("schema", "rows", "password_hash", "welcome_email", "other")
PHASE_LABELS = {
    "schema": "schema",
    "rows": "roles+admin+pipeline",
    "password_hash": "argon2",
    "welcome_email": "enqueue email",
    "other": "rest",
}

P = ParamSpec("P")
R = TypeVar("R")


@dataclass
class Sample:
    seconds: float
    phases: dict[str, float]
    delete_seconds: float


@dataclass
class Level:
    tenants_present: int
    population: dict[str, Any]
    warmup_seconds: dict[str, float] = field(default_factory=dict)
    samples: dict[str, list[Sample]] = field(default_factory=lambda: {path: [] for path in PATHS})


class PhaseClock:
    """Adds up the time spent in named steps of one signup."""

    def __init__(self) -> None:
        self.spent: dict[str, float] = {}

    def wrap(self, phase: str, func: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(func)
        def timed(*args: P.args, **kwargs: P.kwargs) -> R:
            started = time.perf_counter()
            try:
                return func(*args, **kwargs)
            finally:
                self.spent[phase] = self.spent.get(phase, 0.0) + time.perf_counter() - started

        return timed

    def phases(self, total: float) -> dict[str, float]:
        spent = self.spent
        workspace = spent.get("workspace", 0.0)
        measured = {
            "schema": spent.get("schema", 0.0),
            "rows": workspace - spent.get("password_hash", 0.0),
            "password_hash": spent.get("password_hash", 0.0),
            "welcome_email": spent.get("welcome_email", 0.0),
        }
        measured["other"] = total - measured["schema"] - workspace - measured["welcome_email"]
        return measured


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench provisioning", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--levels",
        default="10,500",
        help="tenants already present when measuring, comma-separated (default: 10,500)",
    )
    parser.add_argument("--clone-samples", type=int, default=15, help="timed signups per level (default: 15)")
    parser.add_argument(
        "--migration-samples", type=int, default=10, help="timed migrations-path signups per level (default: 10)"
    )
    parser.add_argument(
        "--drop-fillers",
        action="store_true",
        help="delete the bench-fill-NNN tenants at the end instead of keeping them for the next run",
    )
    args = parser.parse_args(argv)
    try:
        levels = sorted({int(part) for part in args.levels.split(",") if part.strip()})
    except ValueError:
        parser.error("--levels takes whole numbers separated by commas")
    if not levels or min(levels) < 0 or args.clone_samples < 1 or args.migration_samples < 0:
        parser.error("need at least one level >= 0, --clone-samples >= 1 and --migration-samples >= 0")
    try:
        return run(
            levels=levels,
            counts={CLONE: args.clone_samples, MIGRATIONS: args.migration_samples},
            drop_fillers=args.drop_fillers,
        )
    except support.BenchError as error:
        print(f"bench provisioning: error: {error}")
        return 2


def run(*, levels: list[int], counts: dict[str, int], drop_fillers: bool = False) -> int:
    support.django_setup()
    from django.core.management import call_command
    from django.db import ProgrammingError, connection

    started_at = support.now_iso()
    started = time.perf_counter()
    # One "workspace created" line per signup would bury the figures.
    logging.getLogger("tenants.services").setLevel(logging.WARNING)

    machine = support.machine_info()
    from tenants.models import Tenant

    fresh = Tenant._meta.db_table not in connection.introspection.table_names()
    present = 0 if fresh else _tenants_present()
    print(f"platform_setup: migrates public and the {present} tenants present, checks the template...", flush=True)
    output = io.StringIO()
    setup_started = time.perf_counter()
    try:
        call_command("platform_setup", verbosity=0, stdout=output)
    except ProgrammingError:
        db = connection.settings_dict
        print(
            "bench provisioning: platform_setup failed on the bench database. If a tenant migration was "
            "rewritten rather than added, its tenants cannot be migrated: drop the database "
            f"(psql -h {db.get('HOST') or 'localhost'} -p {db.get('PORT') or 5432} -U {db.get('USER') or 'crm'} "
            f"-d postgres -c 'DROP DATABASE {db['NAME']}') and run again.",
            file=sys.stderr,
        )
        raise
    setup_seconds = time.perf_counter() - setup_started
    print(f"platform_setup: {setup_seconds:.1f} s ({output.getvalue().strip()})", flush=True)
    database = support.database_info()
    print(
        f"machine: {machine['cpus']} CPUs ({machine['cpu_model']}), {machine['memory_gib']} GiB; "
        f"PostgreSQL {database['server_version']} on {database['host']}/{database['database']}",
        flush=True,
    )

    leftovers = _samples_delete_leftovers()
    if leftovers:
        print(f"deleted {leftovers} sample tenants left by an interrupted run")

    measured: list[Level] = []
    for level in _levels_in_cheapest_order(levels):
        measured.append(_measure_level(level, counts))
    measured.sort(key=lambda item: item.tenants_present)

    dropped = _fillers_delete() if drop_fillers else 0
    purged = _welcome_emails_purge()
    results = [_summary(level, path) for level in measured for path in PATHS if level.samples[path]]
    _speedups_add(results)
    goal = _goal(results)

    print()
    print(_results_table(results))
    print()
    print("p50 of each step, milliseconds:")
    print(_phases_table(results))
    print()
    for line in goal["lines"]:
        print(line)

    payload = {
        "benchmark": "provisioning",
        "started_at": started_at,
        "duration_seconds": round(time.perf_counter() - started, 1),
        "machine": machine,
        "database": database,
        "method": {
            "clone_samples": counts[CLONE],
            "migration_samples": counts[MIGRATIONS],
            "levels": levels,
            "statistics": "p50 = median; p95 interpolated linearly between ranks",
            "welcome_email": "included: queued to the broker in on_commit, as in a real signup (never consumed)",
            "password_hash": "included: Argon2 as configured in PASSWORD_HASHERS",
            "settings": "DEBUG off (no query log)",
        },
        "platform_setup_seconds": round(setup_seconds, 2),
        "results": results,
        "levels": [
            {
                "tenants_present": level.tenants_present,
                "population": level.population,
                "warmup_seconds": {path: round(value, 4) for path, value in level.warmup_seconds.items()},
            }
            for level in measured
        ],
        "goal": {key: value for key, value in goal.items() if key != "lines"},
        "fillers_dropped": dropped,
        "welcome_emails_purged": purged,
    }
    payload["load_average_1m_at_end"] = round(os.getloadavg()[0], 2)
    path = support.results_write("provisioning", payload)
    print(
        f"\nload average (1 min) at start {machine['load_average_1m']:.2f}, at end "
        f"{payload['load_average_1m_at_end']:.2f} on {machine['cpus']} CPUs; results: {path}"
    )
    return 0


def _measure_level(level: int, counts: dict[str, int]) -> Level:
    from django.db import connections

    population = _population_set(level)
    print(
        f"{level} tenants present (filler signups: {population['created']} made, {population['deleted']} deleted, "
        f"{population['seconds']:.0f} s); measuring...",
        flush=True,
    )
    # A web worker's connection is recycled (CONN_MAX_AGE); don't carry the filler's caches.
    connections.close_all()
    result = Level(tenants_present=level, population=population)
    for path in PATHS:
        if counts[path]:
            result.warmup_seconds[path] = _signup_measure(path).seconds
    schedule = _interleaved(counts)
    for index, path in enumerate(schedule, start=1):
        support.progress("  samples:", index, len(schedule))
        result.samples[path].append(_signup_measure(path))
    support.progress_done()
    present = _tenants_present()
    if present != level:
        raise support.BenchError(f"expected {level} tenants after the samples, found {present}")
    return result


def _signup_measure(path: str) -> Sample:
    """One timed signup on `path`, deleted (untimed for the signup figure) right after."""
    from django.db import close_old_connections

    from tenants.services import tenant_delete, tenant_signup

    # What Django does at each request's start: recycle the connection after CONN_MAX_AGE.
    close_old_connections()
    clock = PhaseClock()
    with _instrumented(path, clock):
        started = time.perf_counter()
        tenant = tenant_signup(request=_signup_request(_sample_slug()))
        seconds = time.perf_counter() - started
    deleting = time.perf_counter()
    tenant_delete(tenant=tenant)
    return Sample(seconds=seconds, phases=clock.phases(seconds), delete_seconds=time.perf_counter() - deleting)


@contextlib.contextmanager
def _instrumented(path: str, clock: PhaseClock) -> Iterator[None]:
    """Choose the path's schema maker and time the steps tenant_signup goes through."""
    from django.contrib.auth import base_user

    from tenants import schema_template, services

    makers = {
        CLONE: schema_template.schema_create_from_template,
        MIGRATIONS: schema_template.schema_create_by_migrations,
    }
    with contextlib.ExitStack() as stack:
        stack.enter_context(
            mock.patch.object(schema_template, "schema_create_from_template", clock.wrap("schema", makers[path]))
        )
        stack.enter_context(
            mock.patch.object(services, "workspace_initialize", clock.wrap("workspace", services.workspace_initialize))
        )
        stack.enter_context(
            mock.patch.object(base_user, "make_password", clock.wrap("password_hash", base_user.make_password))
        )
        stack.enter_context(
            mock.patch.object(services, "_announce_signup", clock.wrap("welcome_email", services._announce_signup))
        )
        yield


def _interleaved(counts: dict[str, int]) -> list[str]:
    """Both paths' samples spread evenly through the run, so drift hits them alike."""
    slots = [((index + 0.5) / counts[path], path) for path in PATHS for index in range(counts[path])]
    return [path for _position, path in sorted(slots)]


_sample_counter = 0


def _sample_slug() -> str:
    global _sample_counter
    _sample_counter += 1
    return f"{SAMPLE_PREFIX}{_sample_counter:04d}"


def _signup_request(slug: str) -> SignupRequest:
    from tenants.services import SignupRequest

    return SignupRequest(
        company_name=f"Bench {slug}",
        slug=slug,
        admin_name="Bench Admin",
        admin_email=f"admin@{slug}.example",
        admin_password=PASSWORD,
        plan=PLAN,
    )


def _tenants_present() -> int:
    from django_tenants.utils import get_public_schema_name

    from tenants.models import Tenant

    return Tenant.objects.exclude(schema_name=get_public_schema_name()).count()


def _samples_delete_leftovers() -> int:
    from tenants.models import Tenant
    from tenants.services import tenant_delete

    leftovers = list(Tenant.objects.filter(slug__startswith=SAMPLE_PREFIX))
    for tenant in leftovers:
        tenant_delete(tenant=tenant)
    return len(leftovers)


def _levels_in_cheapest_order(levels: list[int]) -> list[int]:
    """Ascending, unless a previous run left the largest population: then start there and trim down."""
    return list(reversed(levels)) if _tenants_present() >= max(levels) else list(levels)


def _fill_number(slug: str) -> int | None:
    suffix = slug.removeprefix(FILL_PREFIX)
    return int(suffix) if suffix != slug and suffix.isdigit() else None


def _population_set(level: int) -> dict[str, Any]:
    """Make exactly `level` tenants exist, adding or removing filler tenants."""
    from tenants.models import Tenant
    from tenants.services import tenant_delete, tenant_signup

    started = time.perf_counter()
    fills = {
        number: tenant
        for tenant in Tenant.objects.filter(slug__startswith=FILL_PREFIX)
        if (number := _fill_number(tenant.slug)) is not None
    }
    others = _tenants_present() - len(fills)
    wanted = level - others
    if wanted < 0:
        raise support.BenchError(
            f"{others} tenants other than {FILL_PREFIX}NNN exist, more than the {level} to measure with: "
            "benchmark on a database of its own"
        )
    surplus = sorted(fills, reverse=True)[: max(len(fills) - wanted, 0)]
    for done, number in enumerate(surplus, start=1):
        support.progress("  deleting filler tenants:", done, len(surplus))
        tenant_delete(tenant=fills.pop(number))
    missing = wanted - len(fills)
    created = 0
    number = 0
    while created < missing:
        number += 1
        if number in fills:
            continue
        tenant_signup(request=_signup_request(f"{FILL_PREFIX}{number:03d}"))
        created += 1
        support.progress("  filler signups:", created, missing)
    support.progress_done()
    present = _tenants_present()
    if present != level:
        raise support.BenchError(f"wanted {level} tenants present, found {present}")
    return {"created": created, "deleted": len(surplus), "seconds": round(time.perf_counter() - started, 1)}


def _fillers_delete() -> int:
    """Remove every filler tenant, leaving the bench database small for other benchmarks."""
    from tenants.models import Tenant
    from tenants.services import tenant_delete

    fills = list(Tenant.objects.filter(slug__startswith=FILL_PREFIX))
    for done, tenant in enumerate(fills, start=1):
        support.progress("  deleting filler tenants:", done, len(fills))
        tenant_delete(tenant=tenant)
    support.progress_done()
    return len(fills)


def _welcome_emails_purge() -> int | None:
    """Drop the queued welcome emails, when the broker is the bench database's own (the default)."""
    from django.conf import settings
    from django.db import connection

    from config.celery import app

    url = str(settings.CELERY_BROKER_URL)
    if not url.startswith("sqla+") or not url.endswith(f"/{connection.settings_dict['NAME']}"):
        print("note: the Celery broker is not the bench database's; queued welcome emails were left in it")
        return None
    return int(app.control.purge())


def _summary(level: Level, path: str) -> dict[str, Any]:
    samples = level.samples[path]
    seconds = [sample.seconds for sample in samples]
    return {
        "path": path,
        "label": PATH_LABELS[path],
        "tenants_present": level.tenants_present,
        "samples": len(samples),
        "p50_seconds": round(statistics.median(seconds), 4),
        "p95_seconds": round(support.percentile(seconds, 95), 4),
        "mean_seconds": round(statistics.fmean(seconds), 4),
        "min_seconds": round(min(seconds), 4),
        "max_seconds": round(max(seconds), 4),
        "phases_p50_seconds": {
            phase: round(statistics.median(sample.phases[phase] for sample in samples), 4) for phase in PHASES
        },
        "delete_p50_seconds": round(statistics.median(sample.delete_seconds for sample in samples), 4),
        "seconds": [round(value, 4) for value in seconds],
    }


def _speedups_add(results: list[dict[str, Any]]) -> None:
    """Migrations-path p50 / this row's p50, at the same population."""
    baselines = {row["tenants_present"]: row for row in results if row["path"] == MIGRATIONS}
    for row in results:
        baseline = baselines.get(row["tenants_present"])
        row["speedup_vs_migrations"] = round(baseline["p50_seconds"] / row["p50_seconds"], 2) if baseline else None
        # The schema step alone, without the work both paths share (Argon2, rows, commit).
        row["schema_speedup_vs_migrations"] = (
            round(baseline["phases_p50_seconds"]["schema"] / row["phases_p50_seconds"]["schema"], 2)
            if baseline and row["phases_p50_seconds"]["schema"] > 0
            else None
        )


def _results_table(results: list[dict[str, Any]]) -> str:
    rows = [
        [
            row["label"],
            row["tenants_present"],
            row["samples"],
            f"{row['p50_seconds']:.3f}",
            f"{row['p95_seconds']:.3f}",
            f"{row['speedup_vs_migrations']:.1f}x" if row["speedup_vs_migrations"] else "-",
        ]
        for row in results
    ]
    return support.table(["path", "tenants present", "samples", "p50 (s)", "p95 (s)", "speed-up (p50)"], rows)


def _phases_table(results: list[dict[str, Any]]) -> str:
    rows = [
        [
            row["label"],
            row["tenants_present"],
            *(f"{row['phases_p50_seconds'][phase] * 1000:.0f}" for phase in PHASES),
            f"{row['delete_p50_seconds'] * 1000:.0f}",
        ]
        for row in results
    ]
    headers = ["path", "tenants", *(PHASE_LABELS[phase] for phase in PHASES), "delete after"]
    return support.table(headers, rows)


def _goal(results: list[dict[str, Any]]) -> dict[str, Any]:
    """The stated goal, checked against the figures (reported, never enforced)."""
    lines = [
        f"Goal: clone path p50 under {GOAL_CLONE_P50_SECONDS:g} s with {GOAL_LEVEL} tenants present, "
        f"and at least {GOAL_SPEEDUP:g}x faster than running the migrations."
    ]
    clone = [row for row in results if row["path"] == CLONE]
    at_goal = [row for row in clone if row["tenants_present"] == GOAL_LEVEL]
    row = at_goal[0] if at_goal else max(clone, key=lambda item: item["tenants_present"])
    where = f"at {row['tenants_present']} tenants" + ("" if at_goal else f" (the goal is stated for {GOAL_LEVEL})")
    p50_met = row["p50_seconds"] < GOAL_CLONE_P50_SECONDS
    lines.append(f"  clone p50 {where}: {row['p50_seconds']:.3f} s -> {'met' if p50_met else 'NOT met'}")
    speedup = row["speedup_vs_migrations"]
    speedup_met = speedup is not None and speedup >= GOAL_SPEEDUP
    if speedup is None:
        lines.append(f"  speed-up {where}: not measured (--migration-samples 0)")
    else:
        lines.append(f"  speed-up {where}: {speedup:.1f}x -> {'met' if speedup_met else 'NOT met'}")
        lines.append(
            f"  (schema step alone: {row['schema_speedup_vs_migrations']:.1f}x faster; Argon2, the same on both "
            f"paths, is {row['phases_p50_seconds']['password_hash'] * 1000:.0f} ms of the clone signup's "
            f"{row['p50_seconds'] * 1000:.0f} ms)"
        )
    return {
        "tenants_present": row["tenants_present"],
        "clone_p50_seconds": row["p50_seconds"],
        "clone_p50_met": p50_met,
        "speedup": speedup,
        "speedup_met": speedup_met if speedup is not None else None,
        "schema_speedup": row["schema_speedup_vs_migrations"],
        "lines": lines,
    }

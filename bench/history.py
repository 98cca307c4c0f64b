"""Field history: what recording it costs the writers, and what reading it costs at volume.

1. Update services: `contact_update` changing two fields, one call (one transaction,
   committed) at a time, with the history written and with its write switched off
   (`crm.history.services.field_changes_record` replaced by a no-op for that block);
   blocks of each alternate, so load on the machine falls on both alike.
2. Bulk path, as the import engine writes: 20,000 contacts updated five fields each in
   chunks of 1,000 (`bulk_update`), then the same with their 100,000 history rows built
   by `field_change_rows` and inserted with `bulk_create` in the same transaction.
3. Reading: a history of `--rows` rows (default 1,000,000: 100,000 contacts x 10, and one
   contact with 5,000), loaded with COPY; the card's and the API's queries timed and
   EXPLAINed (ANALYZE, BUFFERS); table and index size per row.

Figures go to stdout and `.data/bench/history.json`. Uses DATABASE_URL, by default
crm_bench_history; the workspace `bench-history` is made by the real signup and kept.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import random
import statistics
import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

from bench import support

PASSWORD = "bench-Correct-Horse-2026"  # noqa: S105 - a throwaway workspace in the bench database
SLUG = "bench-history"
FIELDS = ("job_title", "city", "region", "postal_code", "address")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench history", description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=1000, help="contact_update calls of each kind")
    parser.add_argument("--bulk", type=int, default=20_000, help="contacts updated on the bulk path (x5 rows)")
    parser.add_argument("--rows", type=int, default=1_000_000, help="history rows for the reading case")
    parser.add_argument(
        "--parts", default="services,bulk,reading", help="which cases to run (comma-separated: services, bulk, reading)"
    )
    args = parser.parse_args(argv)
    os.environ.setdefault(
        "DATABASE_URL", f"postgres://crm@127.0.0.1:{os.environ.get('PG_PORT', '54329')}/crm_bench_history"
    )
    try:
        return run(calls=args.calls, bulk=args.bulk, rows=args.rows, parts=set(args.parts.split(",")))
    except support.BenchError as error:
        print(f"bench history: error: {error}")
        return 2


def run(*, calls: int, bulk: int, rows: int, parts: set[str]) -> int:
    support.django_setup()
    from django.core.management import call_command
    from django_tenants.utils import schema_context

    logging.getLogger("tenants").setLevel(logging.WARNING)
    call_command("platform_setup", verbosity=0)
    machine, database = support.machine_info(), support.database_info()
    print(
        f"machine: {machine['cpus']} CPUs ({machine['cpu_model']}), load {machine['load_average_1m']}; "
        f"PostgreSQL {database['server_version']} on {database['host']}/{database['database']}",
        flush=True,
    )
    started_at = support.now_iso()
    tenant = _signup()
    with schema_context(tenant.schema_name):
        services = _update_services(calls) if "services" in parts else None
        bulk_path = _bulk_path(bulk) if "bulk" in parts else None
        reading = _reading(rows) if "reading" in parts else None
    path = support.results_write(
        "history",
        {
            "started_at": started_at,
            "machine": machine,
            "database": database,
            "update_services": services,
            "bulk_path": bulk_path,
            "reading": reading,
        },
    )
    print(f"\nfigures written to {path}")
    return 0


def _signup():
    from tenants.models import Tenant
    from tenants.services import SignupRequest, tenant_signup

    tenant = Tenant.objects.filter(slug=SLUG).first()
    if tenant is not None:
        return tenant
    return tenant_signup(
        request=SignupRequest(
            company_name="Bench history",
            slug=SLUG,
            admin_name="Bench Admin",
            admin_email=f"admin@{SLUG}.example",
            admin_password=PASSWORD,
            plan="business",
        )
    )


@contextlib.contextmanager
def _history_switched_off() -> Iterator[None]:
    from crm.history import services

    recording = services.field_changes_record
    services.field_changes_record = lambda **_kwargs: []
    try:
        yield
    finally:
        services.field_changes_record = recording


# --- 1. update services -----------------------------------------------------------------


def _update_services(calls: int) -> dict[str, Any]:
    from accounts.models import User
    from crm.clients.models import Contact
    from crm.clients.services import contact_create, contact_update
    from crm.history.models import FieldChange

    admin = User.objects.select_related("role").get(email=f"admin@{SLUG}.example")
    contacts = list(Contact.objects.filter(last_name="Updated").order_by("pk")[:100])
    for number in range(len(contacts), 100):
        contacts.append(contact_create(actor=admin, first_name=f"Bench {number}", last_name="Updated"))
    timings: dict[str, list[float]] = {"with": [], "without": []}
    before = FieldChange.objects.count()
    block = 10  # short alternating blocks: load on the machine falls on both kinds alike
    for round_number in range(max(calls // block, 1)):
        for kind in ("with", "without") if round_number % 2 == 0 else ("without", "with"):
            switch = _history_switched_off() if kind == "without" else contextlib.nullcontext()
            with switch:
                for call in range(block):
                    contact = contacts[call % len(contacts)]
                    began = time.perf_counter()
                    # Both fields get a value they never had: every call changes two fields.
                    contact_update(
                        actor=admin,
                        contact=contact,
                        job_title=f"Title {kind} {round_number}-{call}",
                        city=f"City {kind} {round_number}-{call}",
                    )
                    timings[kind].append(time.perf_counter() - began)
        support.progress("contact_update", (round_number + 1) * block, calls)
    support.progress_done()
    written = FieldChange.objects.count() - before
    result = {
        "calls_each": len(timings["with"]),
        "history_rows_written": written,
        "with_ms": _stats(timings["with"]),
        "without_ms": _stats(timings["without"]),
    }
    result["overhead_ms_median"] = result["with_ms"]["median"] - result["without_ms"]["median"]
    result["overhead_percent_median"] = 100 * result["overhead_ms_median"] / result["without_ms"]["median"]
    print()
    print(
        support.table(
            ["contact_update (2 fields)", "median ms", "p95 ms", "total s"],
            [
                [
                    kind,
                    f"{result[f'{kind}_ms']['median']:.2f}",
                    f"{result[f'{kind}_ms']['p95']:.2f}",
                    f"{sum(timings[kind]):.1f}",
                ]
                for kind in ("with", "without")
            ],
        )
    )
    print(
        f"history costs {result['overhead_ms_median']:.2f} ms a call at the median "
        f"({result['overhead_percent_median']:.1f} %); {written} rows written",
        flush=True,
    )
    return result


def _stats(values: list[float]) -> dict[str, float]:
    milliseconds = [value * 1000 for value in values]
    return {
        "median": statistics.median(milliseconds),
        "p95": support.percentile(milliseconds, 95),
        "mean": statistics.fmean(milliseconds),
    }


# --- 2. the bulk path -------------------------------------------------------------------


def _bulk_path(count: int) -> dict[str, Any]:
    from django.db import transaction
    from django.utils import timezone

    from config.request_context import change_source_bound
    from crm.clients.models import Contact
    from crm.history.models import FieldChange
    from crm.history.services import Change, field_change_rows, field_changes_copy

    have = Contact.objects.filter(last_name="Bulk").count()
    if have < count:
        Contact.objects.bulk_create(
            (
                Contact(first_name=f"Person {number}", last_name="Bulk", full_name=f"Person {number} Bulk")
                for number in range(have, count)
            ),
            batch_size=5000,
        )
    contacts = list(Contact.objects.filter(last_name="Bulk").order_by("pk")[:count])
    chunk = 1000

    def update_all(round_number: int, *, with_history: str) -> tuple[float, float, int]:
        """(seconds in all, of which building and inserting history, rows written)."""
        history_s = 0.0
        written = 0
        began = time.perf_counter()
        with change_source_bound("import", f"import:bench{round_number}"):
            for start in range(0, len(contacts), chunk):
                part = contacts[start : start + chunk]
                with transaction.atomic():
                    rows = []
                    for contact in part:
                        changes = []
                        for field in FIELDS:
                            new = f"{field} {round_number}"
                            changes.append(Change(field=field, old=getattr(contact, field), new=new))
                            setattr(contact, field, new)
                        if with_history:
                            mark = time.perf_counter()
                            rows.extend(
                                field_change_rows(
                                    record_type="contact", record_id=contact.pk, changes=changes, actor=None
                                )
                            )
                            history_s += time.perf_counter() - mark
                    stamp = timezone.now()
                    for contact in part:
                        contact.updated_at = stamp
                    Contact.objects.bulk_update(part, [*FIELDS, "updated_at"])
                    if with_history:
                        mark = time.perf_counter()
                        if with_history == "copy":
                            field_changes_copy(rows)
                        else:
                            FieldChange.objects.bulk_create(rows, batch_size=5000)
                        history_s += time.perf_counter() - mark
                        written += len(rows)
        return time.perf_counter() - began, history_s, written

    kinds = ("", "bulk_create", "copy")
    figures: dict[str, list[float]] = {kind: [] for kind in kinds}
    parts: dict[str, list[float]] = {kind: [] for kind in kinds}
    written = 0
    rounds = 4
    for round_number in range(rounds):
        order = kinds if round_number % 2 == 0 else tuple(reversed(kinds))
        for position, kind in enumerate(order):
            total, history_s, rows = update_all(round_number * 3 + position, with_history=kind)
            figures[kind].append(total)
            parts[kind].append(history_s)
            written = max(written, rows)
        support.progress("bulk rounds", round_number + 1, rounds)
    support.progress_done()
    without = statistics.median(figures[""])
    result: dict[str, Any] = {"records": len(contacts), "history_rows_per_round": written, "without_s": without}
    for kind in ("bulk_create", "copy"):
        seconds = statistics.median(figures[kind])
        part = statistics.median(parts[kind])
        result[kind] = {
            "with_s": seconds,
            "history_build_and_insert_s": part,
            "overhead_percent": 100 * (seconds - without) / without,
            "history_rows_per_second": written / part,
        }
    print()
    print(
        support.table(
            ["bulk: update 5 fields", "records", "history rows", "seconds", "history part s", "rows/s", "overhead"],
            [
                ["without history", f"{len(contacts):,}", "0", f"{without:.2f}", "-", "-", "-"],
                *(
                    [
                        f"with history ({kind})",
                        f"{len(contacts):,}",
                        f"{written:,}",
                        f"{result[kind]['with_s']:.2f}",
                        f"{result[kind]['history_build_and_insert_s']:.2f}",
                        f"{result[kind]['history_rows_per_second']:,.0f}",
                        f"{result[kind]['overhead_percent']:.0f} %",
                    ]
                    for kind in ("bulk_create", "copy")
                ),
            ],
        )
    )
    return result


# --- 3. reading at volume ---------------------------------------------------------------


def _reading(rows: int) -> dict[str, Any]:
    from django.db import connection, transaction
    from django.utils import timezone

    from crm.activities.selectors import TimelineCursor
    from crm.history.models import FieldChange
    from crm.history.selectors import record_changes_queryset
    from crm.history.services import field_changes_copy

    busy_id = 10**12  # one contact with a long history; ids far from the real ones
    have = FieldChange.objects.filter(record_type="contact", record_id__gte=busy_id).count()
    if have < rows:
        randomness = random.Random(3)
        now = timezone.now()
        with transaction.atomic():

            def generated():
                for number in range(rows - have):
                    record_id = busy_id if number < 5000 else busy_id + 1 + (number // 10)
                    at = now - timedelta(minutes=number % 500_000, seconds=randomness.random())
                    yield FieldChange(
                        created_at=at,
                        updated_at=at,
                        record_type="contact",
                        record_id=record_id,
                        field=FIELDS[number % len(FIELDS)],
                        old_value=f"old {number}",
                        new_value=f"new {number}",
                        channel="import" if number % 3 else "web",
                        batch="import:1" if number % 3 else "",
                    )

            field_changes_copy(generated())
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE history_fieldchange")

    cases = {
        "first page of a busy record (card, API)": record_changes_queryset(record_type="contact", record_id=busy_id)[
            :101
        ],
        "first page of a typical record": record_changes_queryset(record_type="contact", record_id=busy_id + 1000)[
            :101
        ],
    }
    middle = record_changes_queryset(record_type="contact", record_id=busy_id)[2500]
    cursor_at = TimelineCursor(occurred_at=middle.created_at, id=middle.pk, kind="change")
    cases["page after a cursor, half way down"] = record_changes_queryset(
        record_type="contact", record_id=busy_id
    ).filter(cursor_at._after("change", "created_at"))[:101]
    from django.db.models import Exists, OuterRef

    from crm.activities.models import Activity

    told = Activity.objects.filter(contact_id=OuterRef("record_id"), occurred_at=OuterRef("created_at"))
    cases["the card's page: changes an activity tells left out"] = record_changes_queryset(
        record_type="contact", record_id=busy_id
    ).exclude(Exists(told))[:101]
    cases["one field of a busy record (?field=)"] = record_changes_queryset(
        record_type="contact", record_id=busy_id, field="city"
    )[:51]
    measured = {}
    for name, queryset in cases.items():
        timings = []
        for _ in range(20):
            began = time.perf_counter()
            list(queryset.all())
            timings.append((time.perf_counter() - began) * 1000)
        sql, params = queryset.query.sql_with_params()
        with connection.cursor() as cursor:
            cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", params)
            plan = [line for (line,) in cursor.fetchall()]
        measured[name] = {
            "median_ms": statistics.median(timings),
            "p95_ms": support.percentile(timings, 95),
            "plan": plan,
        }
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_relation_size('history_fieldchange'), pg_indexes_size('history_fieldchange'), "
            "(SELECT count(*) FROM history_fieldchange)"
        )
        table_bytes, index_bytes, total_rows = cursor.fetchone()
        cursor.execute(
            "SELECT indexrelid::regclass::text, pg_relation_size(indexrelid) FROM pg_index "
            "WHERE indrelid = 'history_fieldchange'::regclass ORDER BY 1"
        )
        indexes = dict(cursor.fetchall())
    size = {
        "rows": total_rows,
        "table_mb": table_bytes / 1e6,
        "indexes_mb": index_bytes / 1e6,
        "bytes_per_row": (table_bytes + index_bytes) / max(total_rows, 1),
        "indexes": {name: value / 1e6 for name, value in indexes.items()},
    }
    print()
    print(
        support.table(
            ["read", "median ms", "p95 ms", "plan"],
            [
                [name, f"{row['median_ms']:.2f}", f"{row['p95_ms']:.2f}", row["plan"][1].strip()[:60]]
                for name, row in measured.items()
            ],
        )
    )
    each = ", ".join(f"{name} {megabytes:.0f} MB" for name, megabytes in size["indexes"].items())
    print(
        f"\n{total_rows:,} rows: table {size['table_mb']:.0f} MB, indexes {size['indexes_mb']:.0f} MB, "
        f"{size['bytes_per_row']:.0f} bytes a row in all ({each})"
    )
    for name, row in measured.items():
        print(f"\n{name}:")
        print("\n".join(f"  {line}" for line in row["plan"]))
    return {"queries": measured, "size": size}

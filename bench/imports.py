"""Imports at volume: 100,000 contacts from CSV and XLSX into an empty workspace and into
the million-contact workspace; rows per second, peak memory, and what field history costs.

Every import runs the real job code (`crm.imports.services.import_upload`, then
`crm.imports.runner.import_run`, the body of the Celery task) in a child process of its
own, in-process there rather than through a worker, so that its peak resident memory
(`ru_maxrss`) is the import's alone and comparable between a 10,000- and a 100,000-row
file. Cases:

- `empty`: a workspace of its own (`bench-imports`, made by the real signup and emptied
  first), create mode, CSV and XLSX of 10,000 and 100,000 contacts;
- `million`: the same 100,000-contact files into `bench-volume` (made by `bench
  crm_volume`: 1,000,000 contacts), skip mode, so every batch looks its emails and
  phones up among a million contacts; what it created is deleted again afterwards;
- `history`: update mode over the 100,000 contacts the `empty` case created, every row
  changing the job title, with the field history written and with it switched off (the
  child replaces `crm.bulk_writes.field_change_rows` by a no-op: not a product mode).

Goal (issue 15): at least 2,000 rows/s, memory flat in the file's size, history overhead
under 20 %. Figures go to stdout and `.data/bench/imports.json`.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import support

EMPTY_SLUG = "bench-imports"
VOLUME_SLUG = "bench-volume"
ADMIN_EMAIL = "admin@bench-imports.example"
PASSWORD = "bench-Correct-Horse-2026"  # noqa: S105 - throwaway workspace in the bench database
FIRST = ["Anna", "Ivan", "María", "John", "Fatima", "Chen", "Olga", "Lucas", "Aiko", "Omar", "Léa", "Pavel"]
LAST = ["Ivanova", "Smith", "García", "Müller", "Al-Sayed", "Wang", "Petrov", "Silva", "Sato", "Haddad", "Dubois"]
CITIES = ["Moscow", "Madrid", "Dubai", "London", "Berlin", "São Paulo", "Tokyo", "Cairo", "Paris", "Kazan"]
TITLES = ["CEO", "Buyer", "Engineer", "Accountant", "Head of sales", "Office manager", "CTO", "Analyst"]
HEADER = ["First Name", "Last Name", "E-mail Address", "Mobile Phone", "Company", "Job Title", "City", "Birthday",
          "Labels"]  # fmt: skip


def rows_for(count: int, *, seed: int, prefix: str, title_suffix: str = "") -> list[list[str]]:
    generator = random.Random(seed)
    rows = []
    for number in range(count):
        rows.append(
            [
                generator.choice(FIRST),
                generator.choice(LAST),
                f"{prefix}{number}@import-bench.example",
                f"+1 415 {number // 10000 % 1000:03d} {number % 10000:04d}",
                f"Company {generator.randrange(2000)}",
                generator.choice(TITLES) + title_suffix,
                generator.choice(CITIES),
                f"19{generator.randrange(50, 99)}-{generator.randrange(1, 13):02d}-{generator.randrange(1, 29):02d}",
                generator.choice(["VIP", "Partner", "Lisbon 2024", "", ""]),
            ]
        )
    return rows


def write_csv(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(HEADER)
        writer.writerows(rows)
    return path


def write_xlsx(path: Path, rows: list[list[str]]) -> Path:
    import openpyxl

    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet("Contacts")
    sheet.append(HEADER)
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


# --- the child: one import, measured ----------------------------------------------------------


def child(schema: str, path: str, mode: str, no_history: bool) -> dict[str, Any]:
    import resource

    support.django_setup()
    from django.core.files import File
    from django.db import connection

    from accounts.models import User
    from crm.imports import runner
    from crm.imports.services import import_configure, import_start, import_upload
    from tenants.models import Tenant

    if no_history:
        import crm.bulk_writes

        crm.bulk_writes.field_change_rows = lambda **_kwargs: []
    tenant = Tenant.objects.get(schema_name=schema)
    connection.set_tenant(tenant)
    actor = User.objects.select_related("role").filter(is_active=True, role__code="admin").order_by("pk").first()
    started = time.perf_counter()
    with open(path, "rb") as handle:
        job = import_upload(actor=actor, entity="contact", file=File(handle, name=Path(path).name))
    uploaded = time.perf_counter()
    job = import_configure(actor=actor, job=job, options={"mode": mode, "match": ["email"]})
    import_start(actor=actor, job=job)
    result = runner.import_run(job_id=job.pk)
    finished = time.perf_counter()
    job.refresh_from_db()
    return {
        "job": job.pk,
        "result": result,
        "rows": job.total_rows,
        "created": job.created_count,
        "updated": job.updated_count,
        "skipped": job.skipped_count,
        "rejected": job.rejected_count,
        "upload_s": round(uploaded - started, 2),
        "run_s": round(finished - uploaded, 2),
        "rows_per_s": round(job.total_rows / (finished - uploaded)),
        "rows_per_s_with_upload": round(job.total_rows / (finished - started)),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }


def measure(schema: str, path: Path, mode: str, *, no_history: bool = False) -> dict[str, Any]:
    entry = "import sys; from bench.imports import main; sys.exit(main(sys.argv[1:]))"
    command = [sys.executable, "-c", entry, "--child", schema, str(path), mode]
    if no_history:
        command.append("--no-history")
    output = subprocess.run(command, capture_output=True, text=True, check=False, env=os.environ.copy())
    if output.returncode != 0:
        raise support.BenchError(f"the import child failed:\n{output.stderr[-3000:]}")
    lines = [line for line in output.stdout.splitlines() if line.startswith("{")]
    return json.loads(lines[-1])


# --- the run ----------------------------------------------------------------------------------


def _empty_workspace():
    from django.db import connection

    from tenants.models import Tenant
    from tenants.services import SignupRequest, tenant_delete, tenant_signup

    existing = Tenant.objects.filter(slug=EMPTY_SLUG).first()
    if existing is not None:
        tenant_delete(tenant=existing)
    tenant = tenant_signup(
        request=SignupRequest(
            company_name="Import bench",
            slug=EMPTY_SLUG,
            admin_name="Bench Admin",
            admin_email=ADMIN_EMAIL,
            admin_password=PASSWORD,
            plan="business",
        )
    )
    connection.set_schema_to_public()
    return tenant


def _clean_up(schema: str, job_ids: list[int]) -> None:
    from django.db import connection

    from crm.clients.models import Company, Contact
    from crm.imports.models import ImportedRecord, ImportJob
    from tenants.models import Tenant

    connection.set_tenant(Tenant.objects.get(schema_name=schema))
    for job_id in job_ids:
        created = ImportedRecord.objects.filter(job_id=job_id, action="created")
        for model, record_type in ((Contact, "contact"), (Company, "company")):
            ids = list(created.filter(record_type=record_type).values_list("record_id", flat=True))
            for start in range(0, len(ids), 10_000):
                model.all_objects.filter(pk__in=ids[start : start + 10_000]).delete()
        ImportJob.objects.filter(pk=job_id).delete()
    connection.set_schema_to_public()


def run(*, rows: int, small: int, skip_million: bool) -> int:
    support.django_setup()
    import logging

    from tenants.models import Tenant

    logging.getLogger("tenants.services").setLevel(logging.WARNING)
    logging.getLogger("crm.imports").setLevel(logging.WARNING)
    started_at = support.now_iso()
    folder = Path(tempfile.mkdtemp(prefix="bench-imports-"))
    print(f"generating files of {small:,} and {rows:,} contacts in {folder}", flush=True)
    big_rows = rows_for(rows, seed=1, prefix="c")
    files = {
        "csv_small": write_csv(folder / f"contacts-{small}.csv", big_rows[:small]),
        "csv": write_csv(folder / f"contacts-{rows}.csv", big_rows),
        "xlsx_small": write_xlsx(folder / f"contacts-{small}.xlsx", big_rows[:small]),
        "xlsx": write_xlsx(folder / f"contacts-{rows}.xlsx", big_rows),
        "csv_update": write_csv(folder / f"contacts-{rows}-changed.csv", rows_for(rows, seed=1, prefix="c",
                                                                              title_suffix=" (new)")),
    }  # fmt: skip
    sizes = {name: round(path.stat().st_size / 1024 / 1024, 1) for name, path in files.items()}
    results: dict[str, dict[str, Any]] = {}
    tenant = _empty_workspace()
    schema = tenant.schema_name
    for key in ("csv_small", "xlsx_small"):
        print(f"empty workspace: {key}", flush=True)
        results[f"empty {key}"] = measure(schema, files[key], "create")
        _clean_up(schema, [results[f"empty {key}"]["job"]])
    print("empty workspace: xlsx", flush=True)
    results["empty xlsx"] = measure(schema, files["xlsx"], "create")
    _clean_up(schema, [results["empty xlsx"]["job"]])
    print("empty workspace: csv", flush=True)
    results["empty csv"] = measure(schema, files["csv"], "create")
    print("history: update mode with and without field history", flush=True)
    results["update with history"] = measure(schema, files["csv_update"], "update")
    results["update without history"] = measure(schema, files["csv"], "update", no_history=True)
    volume = Tenant.objects.filter(slug=VOLUME_SLUG).first()
    if volume is not None and not skip_million:
        for key in ("csv", "xlsx"):
            print(f"million-contact workspace: {key}", flush=True)
            results[f"million {key}"] = measure(volume.schema_name, files[key], "skip")
            _clean_up(volume.schema_name, [results[f"million {key}"]["job"]])
    elif not skip_million:
        print(f"(no {VOLUME_SLUG} workspace here: run `python -m bench crm_volume` first for the 1M case)")
    table_rows = [
        [name, f"{result['rows']:,}", result["created"], result["updated"], result["skipped"],
         result["upload_s"], result["run_s"], f"{result['rows_per_s']:,}", result["peak_rss_mb"]]
        for name, result in results.items()
    ]  # fmt: skip
    print()
    print(support.table(
        ["case", "rows", "created", "updated", "skipped", "read s", "import s", "rows/s", "peak MB"], table_rows
    ))  # fmt: skip
    with_history = results["update with history"]["run_s"]
    without = results["update without history"]["run_s"]
    overhead = round((with_history - without) / without * 100, 1)
    print(f"\nfield history in an update-mode import: {with_history} s with, {without} s without: {overhead:+} %")
    print(f"file sizes (MB): {sizes}")
    path = support.results_write(
        "imports",
        {
            "started_at": started_at,
            "machine": support.machine_info(),
            "database": support.database_info(),
            "rows": rows,
            "small": small,
            "file_mb": sizes,
            "results": results,
            "history_overhead_percent": overhead,
        },
    )
    print(f"results: {path}")
    return 0


def main(argv: list[str]) -> int:
    if argv[:1] == ["--child"]:
        schema, path, mode = argv[1:4]
        print(json.dumps(child(schema, path, mode, no_history="--no-history" in argv)))
        return 0
    parser = argparse.ArgumentParser(prog="python -m bench imports", description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000, help="contacts in the large files (default: 100,000)")
    parser.add_argument("--small", type=int, default=10_000, help="contacts in the small files (default: 10,000)")
    parser.add_argument("--skip-million", action="store_true", help="leave out the million-contact workspace")
    args = parser.parse_args(argv)
    if not 0 < args.small <= args.rows:
        parser.error("need 0 < --small <= --rows")
    try:
        return run(rows=args.rows, small=args.small, skip_million=args.skip_million)
    except support.BenchError as error:
        print(f"bench imports: error: {error}")
        return 2

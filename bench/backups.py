"""Backups at volume: backup and restore time and archive size for workspaces of 10k, 100k
and 1M contacts (with deals and activities in crm_volume's proportions), and the backup
time of a small workspace with 10 and with 500 tenants in the database.

Each size is a workspace made by the real signup and loaded with COPY
(`crm.demo.services.demo_bulk_load`); kept between runs (`--reload` starts over). Measured
through the real services, in this process (no worker):

- backup: `backup_take` (snapshot dump, archive, encryption when a key is set, storage);
- load: `backup_verify(deep=True)`: checksums, then the archive loaded into a scratch
  schema in one transaction, indexes and foreign keys built and checked, then dropped;
- restore: `restore_run`, what an administrator waits for: verify, safety backup of the
  live data, load, migrate check, sign-out, swap.

The tenant-count case compares our backup with a plain `pg_dump -n <schema>` (with data),
whose time grows with the catalog (ARCHITECTURE.md's trap).
Figures go to stdout and `.data/bench/backups.json`. Uses DATABASE_URL, by default
crm_bench_backups.
"""

from __future__ import annotations

import argparse
import logging
import os
import subprocess
import time
from datetime import timedelta
from typing import Any

from bench import support

SIZES = [10_000, 100_000, 1_000_000]
TENANT_COUNTS = [10, 500]
PLAN = "business"
# Passes every validator in AUTH_PASSWORD_VALIDATORS; the tenants live in the bench database only.
PASSWORD = "bench-Correct-Horse-2026"  # noqa: S105 - throwaway workspaces in the bench database


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench backups", description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)), help="contacts per workspace (comma-separated)")
    parser.add_argument("--tenants", default=",".join(map(str, TENANT_COUNTS)), help="tenant counts to compare")
    parser.add_argument("--reload", action="store_true", help="delete the benchmark workspaces and load them again")
    args = parser.parse_args(argv)
    os.environ.setdefault(
        "DATABASE_URL", f"postgres://crm@127.0.0.1:{os.environ.get('PG_PORT', '54329')}/crm_bench_backups"
    )
    try:
        return run(
            sizes=[int(size) for size in args.sizes.split(",") if size],
            tenant_counts=[int(count) for count in args.tenants.split(",") if count],
            reload=args.reload,
        )
    except support.BenchError as error:
        print(f"bench backups: error: {error}")
        return 2


def run(*, sizes: list[int], tenant_counts: list[int], reload: bool) -> int:
    support.django_setup()
    from django.core.management import call_command

    logging.getLogger("tenants").setLevel(logging.WARNING)
    call_command("platform_setup", verbosity=0)
    machine, database = support.machine_info(), support.database_info()
    print(
        f"machine: {machine['cpus']} CPUs ({machine['cpu_model']}), {machine['memory_gib']} GiB; "
        f"PostgreSQL {database['server_version']} on {database['host']}/{database['database']}",
        flush=True,
    )
    started_at = support.now_iso()
    scaling = []
    for count in sorted(tenant_counts):
        scaling.append(_tenant_count_case(count))
    volumes = [_size_case(size, reload=reload) for size in sorted(sizes)]

    print()
    print(
        support.table(
            ["contacts", "rows", "backup s", "archive MB", "load s", "restore s", "restore < 120 s"],
            [
                [
                    f"{row['contacts']:,}",
                    f"{row['rows']:,}",
                    f"{row['backup_s']:.1f}",
                    f"{row['archive_mb']:.1f}",
                    f"{row['load_s']:.1f}",
                    f"{row['restore_s']:.1f}",
                    "yes" if row["restore_s"] < 120 else "NO",
                ]
                for row in volumes
            ],
        )
    )
    print()
    print(
        support.table(
            ["tenants in database", "our backup s", "pg_dump -n (with data) s", "pg_dump --schema-only s"],
            [
                [row["tenants"], f"{row['backup_s']:.2f}", f"{row['pg_dump_s']:.2f}", f"{row['schema_only_s']:.2f}"]
                for row in scaling
            ],
        )
    )
    path = support.results_write(
        "backups",
        {
            "started_at": started_at,
            "machine": machine,
            "database": database,
            "volumes": volumes,
            "tenant_counts": scaling,
        },
    )
    print(f"\nfigures written to {path}")
    return 0


def _signup(slug: str):
    from tenants.models import Tenant
    from tenants.services import SignupRequest, tenant_signup

    tenant = Tenant.objects.filter(slug=slug).first()
    if tenant is not None:
        return tenant
    return tenant_signup(
        request=SignupRequest(
            company_name=f"Bench {slug}",
            slug=slug,
            admin_name="Bench Admin",
            admin_email=f"admin@{slug}.example",
            admin_password=PASSWORD,
            plan=PLAN,
        )
    )


def _size_case(contacts: int, *, reload: bool) -> dict[str, Any]:
    from django.db import connection
    from django_tenants.utils import schema_context

    from crm.demo.services import demo_bulk_load
    from tenants.backups import services
    from tenants.backups.models import Backup, BackupKind, JobStatus
    from tenants.models import Tenant
    from tenants.services import tenant_delete

    slug = f"bench-backup-{contacts // 1000}k"
    tenant = Tenant.objects.filter(slug=slug).first()
    if tenant is not None and reload:
        tenant_delete(tenant=tenant)
        tenant = None
    if tenant is None:
        tenant = _signup(slug)
        print(f"{slug}: loading {contacts:,} contacts with deals and activities", flush=True)
        with schema_context(tenant.schema_name):
            demo_bulk_load(
                contacts=contacts, leads=contacts // 5, deals=contacts * 3 // 10, activities=contacts * 2, seed=1
            )
    connection.set_schema_to_public()
    Backup.objects.filter(tenant=tenant).delete()

    began = time.perf_counter()
    backup = services.backup_take(tenant=tenant, kind=BackupKind.MANUAL)
    backup_s = time.perf_counter() - began
    if not backup.is_ready:
        raise support.BenchError(f"backup of {slug} failed: {backup.error}")
    print(f"{slug}: backup {backup_s:.1f} s, {backup.size_bytes / 1e6:.1f} MB", flush=True)

    began = time.perf_counter()
    services.backup_verify(backup=backup, deep=True)
    load_s = time.perf_counter() - began
    print(f"{slug}: load into a scratch schema {load_s:.1f} s", flush=True)

    began = time.perf_counter()
    job = services.restore_run(job_id=services.restore_request(actor=None, backup=backup, queue=False).pk)
    restore_s = time.perf_counter() - began
    if job.status != JobStatus.DONE:
        raise support.BenchError(f"restore of {slug} failed: {job.error}")
    print(f"{slug}: restore {restore_s:.1f} s", flush=True)
    # The previous schema is kept for a while after a restore; not in a benchmark.
    services.retired_schemas_drop(now=job.finished_at + timedelta(days=3650))
    for stored in Backup.objects.filter(tenant=tenant):
        services._backup_remove(stored)
    return {
        "contacts": contacts,
        "rows": backup.manifest["totals"]["rows"],
        "backup_s": backup_s,
        "archive_mb": backup.size_bytes / 1e6,
        "encrypted": backup.encrypted,
        "load_s": load_s,
        "restore_s": restore_s,
    }


def _tenant_count_case(count: int) -> dict[str, Any]:
    from tenants.backups import services
    from tenants.backups.models import Backup, BackupKind
    from tenants.models import Tenant
    from tenants.pg_binaries import libpq_environment, pg_binary

    have = Tenant.objects.exclude(schema_name="public").count()
    for index in range(have, count):
        _signup(f"bench-backup-fill-{index:04d}")
        support.progress(f"tenants up to {count}", index + 1 - have, count - have)
    if count > have:
        support.progress_done()
    probe = _signup("bench-backup-fill-0000")
    figures = []
    for _attempt in range(3):
        began = time.perf_counter()
        backup = services.backup_take(tenant=probe, kind=BackupKind.MANUAL)
        figures.append(time.perf_counter() - began)
        services._backup_remove(Backup.objects.get(pk=backup.pk))
    env = {**os.environ, **libpq_environment()}
    timings = {}
    for name, extra in (("pg_dump_s", []), ("schema_only_s", ["--schema-only"])):
        began = time.perf_counter()
        subprocess.run(
            [
                pg_binary("pg_dump"),
                "--schema",
                probe.schema_name,
                "--format=custom",
                "--no-sync",
                "--file=/dev/null",
                *extra,
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            check=True,
        )
        timings[name] = time.perf_counter() - began
    tenants = Tenant.objects.exclude(schema_name="public").count()
    row = {"tenants": tenants, "backup_s": min(figures), **timings}
    print(
        f"{tenants} tenants: our backup {row['backup_s']:.2f} s, pg_dump -n {row['pg_dump_s']:.2f} s, "
        f"schema-only {row['schema_only_s']:.2f} s",
        flush=True,
    )
    return row

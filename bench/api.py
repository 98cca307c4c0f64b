"""The REST API under load: list endpoints of the million-contact workspace over HTTP.

The workspace is `crm_volume`'s (1,000,000 contacts, 300,000 deals; loaded once and
kept). A real gunicorn (`--workers`, 2 by default, sync workers as in production) serves
the project with DEBUG off; `--clients` threads (16 by default) each send requests with
the workspace administrator's personal API token, one after another, for every case:

- `GET /api/v1/contacts/?page_size=50` (first pages, and pages further on via `cursor`),
- `GET /api/v1/contacts/?search=<name prefix>` (prefixes of random existing contacts),
- `GET /api/v1/deals/?stage=<id>` (each open stage of the default pipeline).

Per case: requests per second over the whole run, p50/p95 latency seen by the clients
(wall time of the HTTP call; the clients share the machine's 2 cores with the server and
PostgreSQL). Also the SQL queries one list request makes, counted in-process, for 10 and
for 50 rows: the goal is the same number (no N+1). Goal: p95 under 100 ms at 16 clients.
Figures go to stdout and `.data/bench/api.json`.
"""

from __future__ import annotations

import argparse
import os
import random
import socket
import subprocess
import sys
import threading
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

from bench import support
from bench.crm_volume import ADMIN_EMAIL, SLUG, VOLUME, _workspace_ready

GOAL_P95_MS = 100.0
BENCH_PLAN = "bench-api"


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench api", description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=16, help="concurrent clients (default: 16)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (default: 2)")
    parser.add_argument("--requests", type=int, default=800, help="measured requests per case (default: 800)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    try:
        return run(clients=args.clients, workers=args.workers, per_case=args.requests, seed=args.seed)
    except support.BenchError as error:
        print(f"bench api: error: {error}")
        return 2


def run(*, clients: int, workers: int, per_case: int, seed: int) -> int:
    support.django_setup()
    from django.core.management import call_command
    from django.db import connection

    started_at, started = support.now_iso(), time.perf_counter()
    call_command("platform_setup", verbosity=0)
    tenant, _loaded = _workspace_ready(volume=VOLUME, reload=False, seed=seed)
    _unthrottled(tenant)
    connection.set_tenant(tenant)
    try:
        token = _token()
        paths = _paths(random.Random(seed), per_case)
        queries = _queries_per_list(token)
    finally:
        connection.set_schema_to_public()
    connection.close()

    host = f"{SLUG}.{os.environ.get('BASE_DOMAIN', 'localhost')}"
    results = []
    with _gunicorn(workers=workers) as base_url:
        for case, case_paths in paths.items():
            results.append(_load(case, case_paths, base_url=base_url, host=host, token=token, clients=clients))
    print()
    print(
        support.table(
            ["case", "requests", "errors", "req/s", "p50 ms", "p95 ms", "goal p95", "met"],
            [
                [
                    row["case"],
                    row["requests"],
                    row["errors"],
                    f"{row['requests_per_second']:.0f}",
                    f"{row['p50_ms']:.1f}",
                    f"{row['p95_ms']:.1f}",
                    f"< {GOAL_P95_MS:.0f}",
                    "yes" if row["goal_met"] else "NO",
                ]
                for row in results
            ],
        )
    )
    print()
    print("SQL queries per list request (10 rows / 50 rows): " + ", ".join(f"{k} {v}" for k, v in queries.items()))
    payload = {
        "benchmark": "api",
        "started_at": started_at,
        "duration_seconds": round(time.perf_counter() - started, 1),
        "machine": support.machine_info(),
        "database": support.database_info(),
        "method": {
            "clients": clients,
            "gunicorn_workers": workers,
            "requests_per_case": per_case,
            "actor": "workspace administrator, personal API token (seat lease kept, rate limit counted)",
        },
        "goal_p95_ms": GOAL_P95_MS,
        "results": results,
        "sql_queries_per_list_request": queries,
    }
    print(f"written to {support.results_write('api', payload)}")
    return 0


def _unthrottled(tenant) -> None:
    """The benchmark measures the API, not the plan's rate limit: a plan without one."""
    from tenants.models import Plan

    plan, _ = Plan.objects.update_or_create(
        code=BENCH_PLAN,
        defaults={
            "name": "Bench (no rate limit)",
            "named_seats": 50,
            "concurrent_seats": 50,
            "max_storage_mb": 1_000_000,
            "api_requests_per_minute": 10_000_000,
            "backup_retention_days": 7,
            "price_per_seat": Decimal("1"),
            "is_public": False,
        },
    )
    type(tenant).objects.filter(pk=tenant.pk).update(plan=plan)


def _token() -> str:
    from accounts.models import User
    from accounts.tokens import api_token_issue

    admin = User.objects.get(email=ADMIN_EMAIL)
    return api_token_issue(user=admin, name="bench api", expires_in_days=1).secret


def _paths(rng: random.Random, per_case: int) -> dict[str, list[str]]:
    from django.db import connection

    from crm.clients.models import Contact
    from crm.deals.models import Pipeline, Stage, StageKind

    with connection.cursor() as cursor:
        cursor.execute("SELECT max(id) FROM clients_contact")
        top = cursor.fetchone()[0]
    names = list(
        Contact.objects.filter(pk__in=[rng.randint(1, top) for _ in range(per_case * 2)]).values_list(
            "full_name", flat=True
        )
    )
    pipeline = Pipeline.objects.filter(is_default=True).first()
    stages = list(Stage.objects.filter(pipeline=pipeline, kind=StageKind.OPEN).values_list("pk", flat=True))
    # A cursor further into the list: the 50th page's start, found once through the API's own ordering.
    far_names = sorted(rng.sample(names, min(20, len(names))))
    return {
        "contacts page_size=50": [
            "/api/v1/contacts/?page_size=50" + (f"&cursor={_cursor_after(name)}" if index % 2 and name else "")
            for index, name in enumerate(far_names * (per_case // max(1, len(far_names)) + 1))
        ][:per_case],
        "contacts ?search=": [f"/api/v1/contacts/?search={name.split(' ')[0][:4]}" for name in (names * 2)[:per_case]],
        "deals ?stage=": [f"/api/v1/deals/?stage={stages[index % len(stages)]}" for index in range(per_case)],
    }


def _cursor_after(full_name: str) -> str:
    """A `next` cursor positioned at a contact name (what a client gets after paging)."""
    import base64
    import json

    from crm.clients.models import Contact

    row = Contact.objects.filter(full_name__gte=full_name).order_by("full_name", "id").values("full_name", "id")[:1]
    first = row[0] if row else {"full_name": full_name, "id": 0}
    payload = json.dumps({"b": 0, "v": [first["full_name"], first["id"]]}, separators=(",", ":"))
    return base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")


def _queries_per_list(token: str) -> dict[str, str]:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    host = f"{SLUG}.{os.environ.get('BASE_DOMAIN', 'localhost')}"
    client = Client(HTTP_HOST=host, HTTP_AUTHORIZATION=f"Bearer {token}")
    counts = {}
    for name, path in (("contacts", "/api/v1/contacts/"), ("deals", "/api/v1/deals/")):
        per_size = []
        for size in (10, 50):
            with CaptureQueriesContext(connection) as captured:
                response = client.get(path, {"page_size": size})
            per_size.append(str(len(captured)) if response.status_code == 200 else f"HTTP {response.status_code}")
        counts[name] = " / ".join(per_size)
    return counts


class _gunicorn:
    def __init__(self, *, workers: int):
        self.workers = workers

    def __enter__(self) -> str:
        from django.conf import settings

        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        log = Path(settings.DATA_DIR) / "bench" / "api-gunicorn.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, "DEBUG": "0", "SECURE_SSL_REDIRECT": "0", "LOG_LEVEL": "WARNING"}
        self.log = log.open("wb")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "config.wsgi",
                "-b",
                f"127.0.0.1:{port}",
                "-w",
                str(self.workers),
                "--timeout",
                "120",
            ],
            cwd=settings.BASE_DIR,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        base_url = f"http://127.0.0.1:{port}"
        import requests

        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                requests.get(f"{base_url}/healthz", timeout=5)
                return base_url
            except requests.RequestException:
                if self.process.poll() is not None:
                    break
                time.sleep(0.3)
        self.__exit__()
        raise support.BenchError(f"gunicorn did not start; see {log}")

    def __exit__(self, *exc: object) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)
        self.log.close()


def _load(case: str, paths: list[str], *, base_url: str, host: str, token: str, clients: int) -> dict[str, Any]:
    import requests

    headers = {"Host": host, "Authorization": f"Bearer {token}"}
    latencies: list[float] = []
    errors: list[int] = []
    lock = threading.Lock()
    queue = list(reversed(paths))

    def worker() -> None:
        session = requests.Session()
        for path in paths[:3]:  # warm-up, not measured
            session.get(base_url + path, headers=headers, timeout=60)
        while True:
            with lock:
                if not queue:
                    return
                path = queue.pop()
            began = time.perf_counter()
            response = session.get(base_url + path, headers=headers, timeout=60)
            elapsed = (time.perf_counter() - began) * 1000
            with lock:
                latencies.append(elapsed)
                if response.status_code != 200:
                    errors.append(response.status_code)

    print(f"{case}: {len(paths)} requests from {clients} clients", flush=True)
    threads = [threading.Thread(target=worker) for _ in range(clients)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - began
    p95 = support.percentile(latencies, 95)
    return {
        "case": case,
        "requests": len(latencies),
        "errors": len(errors),
        "error_statuses": sorted(set(errors)),
        "requests_per_second": round(len(latencies) / seconds, 1),
        "p50_ms": round(support.percentile(latencies, 50), 1),
        "p95_ms": round(p95, 1),
        "max_ms": round(max(latencies), 1),
        "goal_met": p95 < GOAL_P95_MS and not errors,
    }

"""Seat and permission overhead per request, and sign-in throughput under the seat lock.

1. Overhead: django.test.Client (in-process WSGI, no network) GETs a tiny probe view
   (bench/overhead_urls.py) that runs one Contact query. The full stack (every
   middleware of settings.MIDDLEWARE: tenant by host, session, auth, seat lease touch,
   ...; a concurrent-seat user signed in through the real POST /login/, and the query
   passed through `crm.access.visible`) is compared with the same view behind Django's
   own stack with the same signed-in user (settings.MIDDLEWARE minus the tenant, seat
   and status middlewares, Django's own database sessions instead of ours that load the
   seat lease, the connection pointed at the workspace beforehand, no permission
   filter): the difference is the issue's figure, tenant resolution + seat check +
   permission check. Intermediate stacks split it into its parts, and a bare
   Django request (MIDDLEWARE=[]) shows what everything together costs. The full stack
   is also run against two workspaces in turn on one connection, as a web process
   serving many workspaces sees it.
2. Sign-in throughput: N threads, each with its own database connection and its own
   concurrent-seat user, loop `seat_lease_acquire` + `seat_lease_release` for a fixed
   time; capacity is above N, so nobody should be refused.

Runs on dedicated workspaces (`bench-seats`, plan "team" with extra shared seats, and
`bench-seats-b` for the alternating run), created by the real signup when missing.
"""

from __future__ import annotations

import argparse
import io
import logging
import threading
import time
import uuid
from typing import Any

from bench import support

SLUG = "bench-seats"
# A second workspace for the alternating run: one web process serving two workspaces in turn.
OTHER_SLUG = "bench-seats-b"
PLAN = "team"
PASSWORD = "bench-Correct-Horse-2026"  # noqa: S105 - throwaway workspace in the bench database
EMAIL_DOMAIN = "bench-seats.example"
PROBE_EMAIL = f"probe@{EMAIL_DOMAIN}"
URLCONF = "bench.overhead_urls"
CHECKED = "/bench/probe/checked/"
BARE = "/bench/probe/bare/"
GOAL_OVERHEAD_P50_US = 1000.0
SEAT_MIDDLEWARE = "accounts.middleware.SeatMiddleware"
DJANGO_SESSIONS = "django.contrib.sessions.backends.db"
# Tenant resolution and what it brings: the host lookup, restore maintenance, billing status.
TENANT_MIDDLEWARE = (
    "tenants.middleware.TenantHostMiddleware",
    "tenants.backups.middleware.MaintenanceMiddleware",
    "tenants.middleware.TenantStatusMiddleware",
)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench seats", description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000, help="timed requests per stack (default: 2000)")
    parser.add_argument("--warmup", type=int, default=200, help="unmeasured requests per stack first (default: 200)")
    parser.add_argument("--threads", type=int, default=50, help="concurrent sign-in clients (default: 50)")
    parser.add_argument("--seconds", type=float, default=10.0, help="sign-in loop duration (default: 10)")
    args = parser.parse_args(argv)
    if args.requests < 1 or args.warmup < 0 or args.threads < 1 or args.seconds <= 0:
        parser.error("need --requests >= 1, --warmup >= 0, --threads >= 1 and --seconds > 0")
    try:
        return run(requests=args.requests, warmup=args.warmup, threads=args.threads, seconds=args.seconds)
    except support.BenchError as error:
        print(f"bench seats: error: {error}")
        return 2


def run(*, requests: int, warmup: int, threads: int, seconds: float) -> int:
    support.django_setup()
    from django.core.management import call_command
    from django.db import connection, connections

    logging.getLogger("tenants.services").setLevel(logging.WARNING)
    started_at = support.now_iso()
    machine = support.machine_info()
    output = io.StringIO()
    setup_started = time.perf_counter()
    call_command("platform_setup", verbosity=0, stdout=output)
    print(f"platform_setup: {time.perf_counter() - setup_started:.1f} s ({output.getvalue().strip()})", flush=True)
    database = support.database_info()
    print(
        f"machine: {machine['cpus']} CPUs ({machine['cpu_model']}), {machine['memory_gib']} GiB; "
        f"PostgreSQL {database['server_version']} on {database['host']}/{database['database']}",
        flush=True,
    )

    tenant = _workspace(seats=threads + 10)
    people = _people(tenant, count=threads)
    other = _workspace(seats=threads + 10, slug=OTHER_SLUG)
    _people(other, count=0)
    print(f"workspace {tenant.schema_name}: {tenant.concurrent_seats} shared seats, {len(people)} sign-in users")

    variants = _overhead(tenant, other, requests=requests, warmup=warmup)
    connection.set_schema_to_public()
    sign_in = _sign_in_throughput(tenant, people, seconds=seconds)
    connections.close_all()

    p50 = {name: variant["p50_us"] for name, variant in variants.items()}
    p95 = {name: variant["p95_us"] for name, variant in variants.items()}
    parts = {
        "tenant resolution (host lookup, maintenance, status)": p50["no_seat"] - p50["django_stack"],
        "seat check (SeatMiddleware)": p50["no_permission"] - p50["no_seat"],
        "permission check (visible)": p50["full"] - p50["no_permission"],
    }
    # The figure: tenant resolution + seat check + permission check, on top of
    # the same view behind Django's own stack with a signed-in user.
    overhead_p50 = p50["full"] - p50["django_stack"]
    overhead_p95 = p95["full"] - p95["django_stack"]
    alternating_p50 = p50["full_alternating"] - p50["django_stack"]
    total_p50 = p50["full"] - p50["bare"]

    print()
    print(f"Per-request time, {requests} requests after {warmup} warm-up (microseconds)")
    print(
        support.table(
            ["stack", "p50 us", "p95 us", "mean us"],
            [
                [VARIANT_LABELS[name], f"{v['p50_us']:.0f}", f"{v['p95_us']:.0f}", f"{v['mean_us']:.0f}"]
                for name, v in variants.items()
            ]
            + [
                ["overhead: tenant + seat + permission", f"{overhead_p50:.0f}", f"{overhead_p95:.0f}", ""],
                [
                    "the same, two workspaces in turn",
                    f"{alternating_p50:.0f}",
                    f"{p95['full_alternating'] - p95['django_stack']:.0f}",
                    "",
                ],
                ["everything on top of bare Django", f"{total_p50:.0f}", f"{p95['full'] - p95['bare']:.0f}", ""],
            ],
        )
    )
    print()
    print("Overhead split (differences of p50s; noisy when small)")
    print(support.table(["part", "p50 us"], [[name, f"{value:.0f}"] for name, value in parts.items()]))
    goal_met = overhead_p50 < GOAL_OVERHEAD_P50_US
    print(
        f"goal: tenant + seat + permission under {GOAL_OVERHEAD_P50_US:.0f} us at p50: {overhead_p50:.0f} us "
        f"({'met' if goal_met else 'NOT met'})"
    )
    print()
    print(f"Sign-ins with the seat lock: {sign_in['threads']} threads for {sign_in['seconds']:.1f} s")
    print(
        support.table(
            ["figure", "value"],
            [
                ["sign-ins (acquire + release)", sign_in["sign_ins"]],
                ["sign-ins per second", f"{sign_in['per_second']:.0f}"],
                ["acquire p50 ms", f"{sign_in['acquire_p50_ms']:.1f}"],
                ["acquire p95 ms", f"{sign_in['acquire_p95_ms']:.1f}"],
                ["release p50 ms", f"{sign_in['release_p50_ms']:.1f}"],
                ["refused (expect 0)", sign_in["refused"]],
                ["errors", len(sign_in["errors"])],
            ],
        )
    )
    for error in sign_in["errors"][:5]:
        print(f"  error: {error}")

    payload: dict[str, Any] = {
        "benchmark": "seats",
        "started_at": started_at,
        "machine": machine,
        "database": database,
        "workspace": {"schema": tenant.schema_name, "concurrent_seats": tenant.concurrent_seats},
        "overhead": {
            "requests": requests,
            "warmup": warmup,
            "contacts_in_workspace": variants["full"]["contacts"],
            "variants": variants,
            "overhead_p50_us": round(overhead_p50, 1),
            "overhead_p95_us": round(overhead_p95, 1),
            "overhead_two_workspaces_in_turn_p50_us": round(alternating_p50, 1),
            "on_top_of_bare_django_p50_us": round(total_p50, 1),
            "parts_p50_us": {name: round(value, 1) for name, value in parts.items()},
            "goal_p50_us": GOAL_OVERHEAD_P50_US,
            "goal_met": goal_met,
        },
        "sign_in": sign_in,
    }
    path = support.results_write("seats", payload)
    print(f"\nresults: {path}")
    return 0


def _workspace(*, seats: int, slug: str = SLUG):
    from django.db import connection
    from django_tenants.utils import schema_context

    from accounts.models import SeatLease
    from tenants.models import Tenant
    from tenants.services import SignupRequest, tenant_signup

    connection.set_schema_to_public()
    tenant = Tenant.objects.select_related("plan").filter(slug=slug).first()
    if tenant is None:
        tenant = tenant_signup(
            request=SignupRequest(
                company_name="Bench Seats",
                slug=slug,
                admin_name="Bench Admin",
                admin_email=f"admin-{slug}@{EMAIL_DOMAIN}",
                admin_password=PASSWORD,
                plan=PLAN,
            )
        )
        connection.set_schema_to_public()
        tenant = Tenant.objects.select_related("plan").get(pk=tenant.pk)
    extra = max(seats - tenant.plan.concurrent_seats, 0)
    if tenant.extra_concurrent_seats != extra:
        tenant.extra_concurrent_seats = extra
        tenant.save(update_fields=["extra_concurrent_seats"])
    # Leases left by earlier runs would make each run start from a different state.
    with schema_context(tenant.schema_name):
        SeatLease.objects.all().delete()
    connection.set_schema_to_public()
    return tenant


def _people(tenant, *, count: int) -> list:
    """`count` concurrent-seat sales reps for the sign-in loop, plus the probe user (with a password)."""
    from django.contrib.auth.hashers import make_password
    from django.db import connection
    from django_tenants.utils import schema_context

    from accounts import roles
    from accounts.models import Role, SeatType, User

    with schema_context(tenant.schema_name):
        role = Role.objects.get(code=roles.SALES_REP)
        existing = set(User.objects.filter(email__endswith=f"@{EMAIL_DOMAIN}").values_list("email", flat=True))
        unusable = make_password(None)
        User.objects.bulk_create(
            User(
                email=f"person{i}@{EMAIL_DOMAIN}",
                full_name=f"Person {i}",
                password=unusable,
                role=role,
                seat_type=SeatType.CONCURRENT,
            )
            for i in range(count)
            if f"person{i}@{EMAIL_DOMAIN}" not in existing
        )
        if PROBE_EMAIL not in existing:
            User.objects.create(
                email=PROBE_EMAIL,
                full_name="Probe",
                password=make_password(PASSWORD),
                role=role,
                seat_type=SeatType.CONCURRENT,
            )
        people = list(User.objects.filter(email__in=[f"person{i}@{EMAIL_DOMAIN}" for i in range(count)]).order_by("pk"))
    connection.set_schema_to_public()
    return people


VARIANT_LABELS = {
    "full": "full stack + permission",
    "full_alternating": "the same, two workspaces in turn",
    "no_permission": "full stack, no permission",
    "no_seat": "full stack minus SeatMiddleware, no permission",
    "django_stack": "Django's stack signed in: no tenant, seat, permission",
    "bare": "bare Django (MIDDLEWARE=[])",
}


def _overhead(tenant, other, *, requests: int, warmup: int) -> dict[str, dict[str, Any]]:
    from django.conf import settings
    from django.db import connection
    from django.test import override_settings

    from crm.clients.models import Contact

    full = list(settings.MIDDLEWARE)
    stacks = {
        "full": (full, CHECKED, settings.SESSION_ENGINE),
        # The same, one request in `tenant` and the next in `other`, on the same connection:
        # how a web process serving many workspaces sees it (PostgreSQL re-plans what it
        # kept for the connection when the workspace changes).
        "full_alternating": (full, CHECKED, settings.SESSION_ENGINE),
        "no_permission": (full, BARE, settings.SESSION_ENGINE),
        # Without the seat check there is no lease to load with the session: Django's own
        # database sessions, so the seat's share of the session statement counts as seat.
        "no_seat": ([name for name in full if name != SEAT_MIDDLEWARE], BARE, DJANGO_SESSIONS),
        "django_stack": (
            [name for name in full if name != SEAT_MIDDLEWARE and name not in TENANT_MIDDLEWARE],
            BARE,
            DJANGO_SESSIONS,
        ),
        "bare": ([], BARE, DJANGO_SESSIONS),
    }

    cookies = {workspace.pk: _signed_in_cookies(workspace) for workspace in (tenant, other)}
    connection.set_tenant(tenant)
    contacts = Contact.objects.count()

    # The handler loads the middleware on its first request: clients per stack, each
    # primed under its own MIDDLEWARE, then the stacks are interleaved request by request
    # so that the load of a busy machine falls on all of them alike.
    clients: dict[str, list[tuple[Any, str]]] = {}
    for name, (middleware, url, sessions) in stacks.items():
        workspaces = (tenant, other) if name == "full_alternating" else (tenant,)
        # SessionMiddleware picks its engine when the handler loads it, on the first request.
        with override_settings(ROOT_URLCONF=URLCONF, MIDDLEWARE=middleware, SESSION_ENGINE=sessions):
            clients[name] = []
            for workspace in workspaces:
                client, host = _client(cookies[workspace.pk]), _host(workspace)
                connection.set_tenant(tenant)  # the stacks without tenant middleware stay in `tenant`
                _probe(client, name, url, host)
                clients[name].append((client, host))
    timings: dict[str, list[float]] = {name: [] for name in stacks}
    with override_settings(ROOT_URLCONF=URLCONF):
        for index in range(warmup + requests):
            for name, (_middleware, url, _sessions) in stacks.items():
                client, host = clients[name][index % len(clients[name])]
                if name in ("django_stack", "bare") and connection.schema_name != tenant.schema_name:
                    connection.set_tenant(tenant)  # what the tenant middleware would have done
                elapsed = _probe(client, name, url, host)
                if index >= warmup:
                    timings[name].append(elapsed)
    results: dict[str, dict[str, Any]] = {}
    for name, (middleware, url, sessions) in stacks.items():
        values = timings[name]
        results[name] = {
            "middleware": len(middleware),
            "url": url,
            "session_engine": sessions,
            "p50_us": round(support.percentile(values, 50), 1),
            "p95_us": round(support.percentile(values, 95), 1),
            "mean_us": round(sum(values) / len(values), 1),
            "contacts": contacts,
        }
    return results


def _host(workspace) -> str:
    from tenants.services import tenant_hostname

    return tenant_hostname(workspace.slug)


def _client(cookies):
    from django.test import Client

    client = Client()
    client.cookies = cookies
    return client


def _signed_in_cookies(workspace):
    """The probe user signed in to `workspace` through the real POST /login/, holding a seat."""
    from django.db import connection
    from django.test import Client, override_settings

    from accounts.models import SeatLease

    with override_settings(ROOT_URLCONF=URLCONF):
        login = Client()
        response = login.post(
            "/login/", {"username": PROBE_EMAIL, "password": PASSWORD}, HTTP_HOST=_host(workspace), secure=True
        )
    if response.status_code != 302:
        raise support.BenchError(f"sign-in of {PROBE_EMAIL} answered {response.status_code}, expected 302")
    connection.set_tenant(workspace)
    if not SeatLease.objects.filter(user__email=PROBE_EMAIL, released_at__isnull=True).exists():
        raise support.BenchError(f"the sign-in to {workspace.slug} took no seat lease")
    return login.cookies


def _probe(client, name: str, url: str, host: str) -> float:
    """One GET; microseconds it took."""
    started = time.perf_counter_ns()
    response = client.get(url, HTTP_HOST=host, secure=True)
    elapsed = time.perf_counter_ns() - started
    if response.status_code != 200:
        raise support.BenchError(f"{name}: GET {url} answered {response.status_code}, expected 200")
    return elapsed / 1000


def _sign_in_throughput(tenant, people: list, *, seconds: float) -> dict[str, Any]:
    from django.db import connection, connections

    from accounts.errors import NoSeatAvailable
    from accounts.seats import seat_lease_acquire, seat_lease_release

    start = threading.Barrier(len(people) + 1)
    lock = threading.Lock()
    acquire_ms: list[float] = []
    release_ms: list[float] = []
    refused = 0
    errors: list[str] = []
    run_id = uuid.uuid4().hex[:8]
    deadline = 0.0

    def client(number: int, person) -> None:
        nonlocal refused
        mine_acquire: list[float] = []
        mine_release: list[float] = []
        mine_refused = 0
        try:
            connection.set_tenant(tenant)
            connection.ensure_connection()
            start.wait()
            attempt = 0
            while time.perf_counter() < deadline:
                attempt += 1
                session_key = f"bench-{run_id}-{number}-{attempt}"
                began = time.perf_counter()
                try:
                    seat_lease_acquire(user=person, session_key=session_key)
                except NoSeatAvailable:
                    mine_refused += 1
                    continue
                acquired = time.perf_counter()
                seat_lease_release(session_key=session_key)
                mine_acquire.append((acquired - began) * 1000)
                mine_release.append((time.perf_counter() - acquired) * 1000)
        except BaseException as error:  # reported, never raised from a thread
            with lock:
                errors.append(f"{type(error).__name__}: {error}")
        finally:
            connections.close_all()
            with lock:
                acquire_ms.extend(mine_acquire)
                release_ms.extend(mine_release)
                refused += mine_refused

    workers = [threading.Thread(target=client, args=(i, person)) for i, person in enumerate(people)]
    for worker in workers:
        worker.start()
    began = time.perf_counter()
    deadline = began + seconds  # set before the barrier opens, read by every client after it
    start.wait()
    for worker in workers:
        worker.join()
    elapsed = time.perf_counter() - began
    return {
        "threads": len(people),
        "seconds": round(elapsed, 2),
        "sign_ins": len(acquire_ms),
        "per_second": round(len(acquire_ms) / elapsed, 1),
        "acquire_p50_ms": round(support.percentile(acquire_ms, 50), 2) if acquire_ms else None,
        "acquire_p95_ms": round(support.percentile(acquire_ms, 95), 2) if acquire_ms else None,
        "release_p50_ms": round(support.percentile(release_ms, 50), 2) if release_ms else None,
        "refused": refused,
        "errors": errors,
    }

"""Web pages on the million-contact workspace: server time and SQL queries per page.

The workspace is `crm_volume`'s (1,000,000 contacts, 200,000 leads, 300,000 deals,
2,000,000 activities; loaded once and kept). Two people sign in through the real
`POST /login/` (so the session, the seat lease and the policy layer are all paid on
every request): the administrator (sees everything) and a sales representative (sees
only their own records: role scoping changes the queries). Each then opens the main
pages with django.test.Client in-process, through the full middleware stack with DEBUG
off: lists (leads, contacts with a search, a filter, a sort and a page deep into the
list by its keyset cursor, companies, deals, tasks), the pipeline board, a contact card
with a long timeline, a deal card, the reports page (funnel), the header's quick search
(the as-you-type fragment), the trash, the settings users page and the home page.

Per page: `--warmup` unmeasured requests, then `--requests` timed ones (inputs such as
the card's record or the search text rotate through samples drawn from the data).
Server time is the wall time of the in-process request (middleware, view, SQL,
template); no network. SQL queries are counted on the connection for each request.
Goal (issue 6): p95 under 150 ms on every page. Figures go to stdout and
`.data/bench/pages.json`.

The workspace is only read, apart from what signing in writes (sessions, seat leases)
and, once, a password and a named seat for the sales representative.
"""

from __future__ import annotations

import argparse
import logging
import os
import random
import statistics
import time
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from bench import support
from bench.crm_volume import ADMIN_EMAIL, PASSWORD, SLUG, VOLUME, _workspace_ready

GOAL_P95_MS = 150.0
REP_EMAIL = "rep0@bench-volume.example"
SAMPLES = 12  # records / texts each rotating page cycles through


@dataclass
class Page:
    name: str
    paths: list[str]  # cycled through, one per request
    htmx: bool = False
    admin_only: bool = False
    queries: list[int] = field(default_factory=list)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench pages", description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=30, help="timed requests per page and person (default: 30)")
    parser.add_argument("--warmup", type=int, default=3, help="unmeasured requests per page first (default: 3)")
    parser.add_argument("--only", default="", help="measure only pages whose name contains this text")
    parser.add_argument("--as", dest="people", choices=["admin", "rep", "both"], default="both")
    parser.add_argument("--seed", type=int, default=1, help="random seed of the samples (default: 1)")
    parser.add_argument(
        "--statement-timeout",
        type=float,
        default=20.0,
        help="seconds after which PostgreSQL cancels a query: the page counts as failed (default: 20)",
    )
    args = parser.parse_args(argv)
    if args.requests < 1 or args.warmup < 0 or args.statement_timeout <= 0:
        parser.error("need --requests >= 1, --warmup >= 0 and --statement-timeout > 0")
    try:
        return run(
            requests=args.requests,
            warmup=args.warmup,
            only=args.only,
            people=args.people,
            seed=args.seed,
            statement_timeout=args.statement_timeout,
        )
    except support.BenchError as error:
        print(f"bench pages: error: {error}")
        return 2


def run(*, requests: int, warmup: int, only: str, people: str, seed: int, statement_timeout: float) -> int:
    support.django_setup()
    from django.core.management import call_command
    from django.db import connection

    # A page whose query runs for minutes must not stall the run: it fails and is reported.
    connection.close()
    options = connection.settings_dict.setdefault("OPTIONS", {})
    options["options"] = f"{options.get('options', '')} -c statement_timeout={int(statement_timeout * 1000)}".strip()

    logging.getLogger("tenants.services").setLevel(logging.WARNING)
    # A 403 for the sales rep on an admin page, say, is expected here, not worth a log line.
    logging.getLogger("django.request").setLevel(logging.ERROR)
    started_at, started = support.now_iso(), time.perf_counter()
    call_command("platform_setup", verbosity=0)
    # DEBUG off serves static files by their manifest, as in production.
    call_command("collectstatic", interactive=False, verbosity=0)
    machine, database = support.machine_info(), support.database_info()
    print(
        f"machine: {machine['cpus']} CPUs ({machine['cpu_model']}), {machine['memory_gib']} GiB, "
        f"load {machine['load_average_1m']}; PostgreSQL {database['server_version']} on "
        f"{database['host']}/{database['database']}",
        flush=True,
    )
    tenant, _loaded = _workspace_ready(volume=VOLUME, reload=False, seed=seed)
    connection.set_tenant(tenant)
    try:
        rep = _rep_ready()
        actors = {"admin": ADMIN_EMAIL, "rep": REP_EMAIL}
        if people != "both":
            actors = {people: actors[people]}
        plans = {
            who: [page for page in _pages(random.Random(seed), email) if only in page.name]
            for who, email in actors.items()
        }
    finally:
        connection.set_schema_to_public()
    print(f"sales rep: {rep.email} (own records only)", flush=True)

    host = f"{SLUG}.{os.environ.get('BASE_DOMAIN', 'localhost')}"
    results = []
    for who, email in actors.items():
        client = _signed_in(host, email)
        try:
            for page in plans[who]:
                if page.admin_only and who != "admin":
                    continue
                results.append(_measure(client, host, who, page, requests=requests, warmup=warmup))
        finally:
            client.post("/logout/", HTTP_HOST=host, secure=True)

    print()
    print(
        support.table(
            ["page", "as", "runs", "p50 ms", "p95 ms", "max ms", "SQL", "goal p95", "met"],
            [_table_row(row) for row in results],
        )
    )
    missed = [f"{row['page']} ({row['actor']})" for row in results if not row["goal_met"]]
    print()
    print("goal met on every page" if not missed else f"goal missed: {', '.join(missed)}")
    payload = {
        "benchmark": "pages",
        "started_at": started_at,
        "duration_seconds": round(time.perf_counter() - started, 1),
        "machine": machine,
        "load_average_1m_at_end": round(os.getloadavg()[0], 2),
        "database": database,
        "workspace": {"slug": SLUG},
        "method": {
            "requests_per_page": requests,
            "warmup": warmup,
            "actors": {"admin": ADMIN_EMAIL, "rep": REP_EMAIL},
            "how": "django.test.Client in-process, full middleware stack, DEBUG off, signed in through POST /login/",
            "statistics": "p50 = median; p95 interpolated linearly between ranks; milliseconds of wall time "
            "around the request; SQL = queries on the connection during the request (min-max)",
        },
        "goal_p95_ms": GOAL_P95_MS,
        "results": results,
    }
    print(f"written to {support.results_write('pages', payload)}")
    return 0


def _table_row(row: dict[str, Any]) -> list[object]:
    if "failure" in row:
        return [row["page"], row["actor"], row["requests"], "failed", "", "", "", f"< {GOAL_P95_MS:.0f}", "NO"]
    low, high = row["queries_min"], row["queries_max"]
    return [
        row["page"],
        row["actor"],
        row["requests"],
        f"{row['p50_ms']:.1f}",
        f"{row['p95_ms']:.1f}",
        f"{row['max_ms']:.1f}",
        str(low) if low == high else f"{low}-{high}",
        f"< {GOAL_P95_MS:.0f}",
        "yes" if row["goal_met"] else "NO",
    ]


def _rep_ready():
    """The sales representative can sign in: a password and a named seat (set once)."""
    from django.contrib.auth.hashers import check_password

    from accounts.models import SeatType, User
    from accounts.seats import seat_assign

    rep = User.objects.get(email=REP_EMAIL)
    if not check_password(PASSWORD, rep.password):
        rep.set_password(PASSWORD)
        rep.save(update_fields=["password"])
    if rep.seat_type != SeatType.NAMED:
        rep = seat_assign(actor=None, user=rep, seat_type=SeatType.NAMED)
    return rep


def _signed_in(host: str, email: str):
    from django.test import Client

    client = Client(raise_request_exception=False)
    response = client.post("/login/", {"username": email, "password": PASSWORD}, HTTP_HOST=host, secure=True)
    if response.status_code != 302:
        raise support.BenchError(f"sign-in of {email} answered {response.status_code}, expected 302")
    return client


def _pages(rng: random.Random, email: str) -> list[Page]:
    """The pages and their inputs, drawn from the records `email` can see."""
    from django.db import connection
    from django.utils import timezone
    from django.utils.http import urlencode

    from accounts.models import User
    from crm import access
    from crm.clients.models import Contact
    from crm.deals.models import Deal
    from crm.list_pages import _encode

    actor = User.objects.get(email=email)
    contacts = access.visible(Contact.objects.all(), actor=actor)
    with connection.cursor() as cursor:
        cursor.execute("SELECT max(id) FROM clients_contact")
        top = cursor.fetchone()[0]
    picked = list(
        contacts.filter(pk__in=[rng.randint(1, top) for _ in range(SAMPLES * 40)])
        .order_by("pk")
        .values_list("pk", "full_name")[: SAMPLES * 2]
    )
    rng.shuffle(picked)
    if len(picked) < SAMPLES:
        raise support.BenchError(f"too few contacts visible to {email} to sample from")
    first_names = [name.split(" ")[0] for _pk, name in picked[:SAMPLES]]
    typed = [name.lower()[: rng.randint(3, 6)] for _pk, name in picked[SAMPLES:] or picked]
    # A page deep into the name-ordered list: the cursor a person reaches after paging on.
    middle = sorted(name for _pk, name in picked)[len(picked) // 2]
    deep = contacts.filter(full_name__gte=middle).order_by("full_name", "id").values_list("full_name", "id").first()
    # Contacts with the longest timelines (the busiest clients) among those visible.
    visible_sql, visible_params = contacts.values("pk").query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT contact_id FROM activities_activity WHERE contact_id IN ({visible_sql}) "
            "GROUP BY contact_id ORDER BY count(*) DESC, contact_id LIMIT %s",
            [*visible_params, SAMPLES],
        )
        busiest = [pk for (pk,) in cursor.fetchall()]
        cursor.execute("SELECT max(id) FROM deals_deal")
        top_deal = cursor.fetchone()[0]
    deal_ids = list(
        access.visible(Deal.objects.all(), actor=actor)
        .filter(pk__in=[rng.randint(1, top_deal) for _ in range(SAMPLES * 40)])
        .values_list("pk", flat=True)[:SAMPLES]
    )
    month_ago = (timezone.localdate() - timedelta(days=30)).isoformat()
    owner = User.objects.get(email=REP_EMAIL).pk
    return [
        Page("home /", ["/"]),
        Page("leads", ["/leads/"]),
        Page("contacts", ["/contacts/"]),
        Page("contacts ?q=<first name>", [f"/contacts/?{urlencode({'q': name})}" for name in first_names]),
        Page("contacts ?created_from=<30 days>", [f"/contacts/?created_from={month_ago}"]),
        Page("contacts ?owner=<rep>", [f"/contacts/?owner={owner}"], admin_only=True),
        Page("contacts ?sort=-created", ["/contacts/?sort=-created"]),
        Page("contacts deep page (cursor)", [f"/contacts/?{urlencode({'after': _encode(list(deep))})}"]),
        Page("companies", ["/companies/"]),
        Page("deals", ["/deals/"]),
        Page("tasks", ["/tasks/"]),
        Page("pipeline board", ["/deals/board/"]),
        Page("contact card (long timeline)", [f"/contacts/{pk}/" for pk in busiest]),
        Page("deal card", [f"/deals/{pk}/" for pk in deal_ids]),
        Page("reports (funnel)", ["/reports/"]),
        Page("quick search (as you type)", [f"/search/?{urlencode({'q': text})}" for text in typed], htmx=True),
        Page("trash", ["/trash/"]),
        Page("settings: users", ["/settings/users/"], admin_only=True),
    ]


class _QueryCounter:
    def __init__(self) -> None:
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)


def _measure(client, host: str, who: str, page: Page, *, requests: int, warmup: int) -> dict[str, Any]:
    """Time the page; a page that fails (an error status, a query cancelled by the
    statement timeout) stops at its first failure and is reported with that."""
    from django.db import connection

    headers = {"HTTP_HOST": host, "secure": True}
    if page.htmx:
        headers["HTTP_HX_REQUEST"] = "true"
    timings: list[float] = []
    queries: list[int] = []
    failure = ""
    for index in range(warmup + requests):
        path = page.paths[index % len(page.paths)]
        counter = _QueryCounter()
        with connection.execute_wrapper(counter):
            began = time.perf_counter()
            response = client.get(path, **headers)
            elapsed = (time.perf_counter() - began) * 1000
        if response.status_code != 200:
            failure = f"GET {path} answered {response.status_code} after {elapsed / 1000:.1f} s"
            print(f"{page.name} ({who}): {failure}", flush=True)
            break
        if index >= warmup:
            timings.append(elapsed)
            queries.append(counter.count)
            support.progress(f"{page.name} ({who})", index + 1 - warmup, requests)
    support.progress_done()
    row: dict[str, Any] = {"page": page.name, "actor": who, "paths": page.paths[:3], "requests": len(timings)}
    if failure:
        return {**row, "failure": failure, "goal_p95_ms": GOAL_P95_MS, "goal_met": False}
    p95 = support.percentile(timings, 95)
    return {
        **row,
        "p50_ms": round(support.percentile(timings, 50), 1),
        "p95_ms": round(p95, 1),
        "mean_ms": round(statistics.fmean(timings), 1),
        "max_ms": round(max(timings), 1),
        "queries_min": min(queries),
        "queries_max": max(queries),
        "goal_p95_ms": GOAL_P95_MS,
        "goal_met": p95 < GOAL_P95_MS,
    }

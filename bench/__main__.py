"""`python -m bench [name] [options]`: run every benchmark, or only the one named.

To add a benchmark, write `bench/<name>.py` with `main(argv: list[str]) -> int` (use
`bench.support`) and register it below. Options after the name go to that benchmark
(`python -m bench provisioning --help`).
"""

from __future__ import annotations

import argparse
import importlib
import sys
import time

# name -> (module, what it measures). Run in this order by `python -m bench`.
BENCHMARKS: dict[str, tuple[str, str]] = {
    "provisioning": (
        "bench.provisioning",
        "seconds per tenant signup: DDL replay (the real signup) vs running all migrations",
    ),
    "crm_volume": (
        "bench.crm_volume",
        "quick search, sales funnel and timeline p50/p95 in a workspace with a million contacts",
    ),
    "api": (
        "bench.api",
        "REST API list endpoints on the million-contact workspace: req/s and p50/p95 under 16 clients, SQL per request",
    ),
    "pages": (
        "bench.pages",
        "web pages on the million-contact workspace as an admin and a sales rep: p50/p95 server time, SQL per request",
    ),
    "custom_fields": (
        "bench.custom_fields",
        "custom field filters (choice, date and number ranges) on a million contacts: list page and API p95",
    ),
    "backups": (
        "bench.backups",
        "backup/restore time and archive size at 10k, 100k, 1M contacts; backup time with 10 vs 500 tenants",
    ),
    "history": (
        "bench.history",
        "field history: cost on contact_update and on a 100k-row bulk write; reads and size at a million rows",
    ),
    "imports": (
        "bench.imports",
        "100,000 contacts from CSV and XLSX into an empty and the 1M workspace: rows/s, peak memory, history cost",
    ),
    "seats": (
        "bench.seats",
        "per-request cost of tenant + seat + permission checks, and sign-ins per second under the seat lock",
    ),
}


def main(argv: list[str]) -> int:
    if argv and argv[0] in BENCHMARKS:
        return run([argv[0]], argv[1:])
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Performance benchmarks (figures, not pass/fail). Without a name, runs them all. "
        "Options after a name go to that benchmark: python -m bench <name> --help.",
    )
    parser.add_argument("name", nargs="?", help=f"run only this benchmark: {', '.join(BENCHMARKS)}")
    parser.add_argument("--list", action="store_true", help="list the benchmarks and exit")
    args, rest = parser.parse_known_args(argv)
    if rest:
        parser.error(f"{' '.join(rest)}: options go after a benchmark name (python -m bench <name> --help)")
    if args.name is not None:
        parser.error(f"unknown benchmark {args.name!r} (python -m bench --list)")
    if args.list:
        for name, (_module, summary) in BENCHMARKS.items():
            print(f"{name:<16} {summary}")
        return 0
    return run(list(BENCHMARKS), [])


def run(names: list[str], options: list[str]) -> int:
    status = 0
    for name in names:
        module = importlib.import_module(BENCHMARKS[name][0])
        print(f"=== bench {name}", flush=True)
        started = time.perf_counter()
        code = int(module.main(options))
        print(f"=== bench {name}: {'done' if code == 0 else f'exit {code}'} in {time.perf_counter() - started:.0f} s")
        status = status or code
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

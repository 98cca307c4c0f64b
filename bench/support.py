"""Helpers shared by the benchmarks: Django setup, statistics, tables, machine facts, results."""

from __future__ import annotations

import json
import math
import os
import platform
import subprocess
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

# Benchmarks create and drop tenants by the hundred: only a database named like one
# (crm_bench, made by `make bench`) is accepted, unless this variable says otherwise.
ALLOW_ANY_DATABASE = "BENCH_ALLOW_ANY_DATABASE"
_BENCH_SECRET_KEY = "bench-only-insecure-key-never-used-to-sign-anything-real-0123456789"  # noqa: S105 - signs nothing that leaves the run


class BenchError(RuntimeError):
    """A problem that stops a benchmark (wrong database, inconsistent state), not a figure."""


def django_setup() -> None:
    """Configure Django like production (DEBUG off: no query log) against crm_bench by default."""
    import django

    port = os.environ.get("PG_PORT", "54329")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("DATABASE_URL", f"postgres://crm@127.0.0.1:{port}/crm_bench")
    # With DEBUG on, Django wraps every cursor to log each query; production runs without.
    os.environ.setdefault("DEBUG", "0")
    if not os.environ.get("SECRET_KEY_FILE"):
        os.environ.setdefault("SECRET_KEY", _BENCH_SECRET_KEY)
    os.environ.setdefault("LOG_FORMAT", "text")
    django.setup()

    from django.db import connection

    name = str(connection.settings_dict["NAME"])
    if "bench" not in name and not os.environ.get(ALLOW_ANY_DATABASE):
        raise BenchError(
            f"refusing to run against database {name!r}: benchmarks create and delete tenants. "
            f"Point DATABASE_URL at a bench database (make bench uses crm_bench) or set {ALLOW_ANY_DATABASE}=1."
        )


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100), interpolating linearly between ranks (numpy's default)."""
    if not values:
        raise ValueError("percentile of no values")
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A plain-text table: first column left-aligned, the others right-aligned."""
    cells = [[str(cell) for cell in row] for row in [headers, *rows]]
    widths = [max(len(row[index]) for row in cells) for index in range(len(headers))]

    def line(row: list[str]) -> str:
        return "  ".join(
            cell.ljust(width) if index == 0 else cell.rjust(width)
            for index, (cell, width) in enumerate(zip(row, widths, strict=True))
        ).rstrip()

    rule = "  ".join("-" * width for width in widths)
    return "\n".join([line(cells[0]), rule, *(line(row) for row in cells[1:])])


def progress(message: str, done: int, total: int) -> None:
    """`message done/total` on stderr: rewritten in place on a terminal, every tenth of the way in a log."""
    line = f"{message} {done}/{total}"
    if sys.stderr.isatty():
        sys.stderr.write(f"\r\033[K{line}")
    elif done == total or done % max(total // 10, 1) == 0:
        sys.stderr.write(line + "\n")
    sys.stderr.flush()


def progress_done() -> None:
    if sys.stderr.isatty():
        sys.stderr.write("\r\033[K")
        sys.stderr.flush()


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def machine_info() -> dict[str, Any]:
    """What the figures were measured on."""
    import django

    return {
        "cpus": os.cpu_count(),
        # Other work on the machine moves the figures: the load when the benchmark started.
        "load_average_1m": round(os.getloadavg()[0], 2),
        "cpu_model": _proc_field("/proc/cpuinfo", "model name"),
        "memory_gib": _memory_gib(),
        "os": platform.platform(),
        "python": platform.python_version(),
        "django": django.get_version(),
        "git_commit": _git("rev-parse", "--short", "HEAD"),
        "git_dirty": bool(_git("status", "--porcelain", "--untracked-files=no")),
    }


def database_info() -> dict[str, Any]:
    """Server version and the settings that move timings (the embedded server trades durability for speed)."""
    from django.db import connection

    names = ["fsync", "synchronous_commit", "full_page_writes", "shared_buffers", "work_mem", "max_connections"]
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        version = cursor.fetchone()[0]
        cursor.execute(
            "SELECT name, setting, coalesce(unit, '') FROM pg_settings WHERE name = ANY(%s) ORDER BY name", [names]
        )
        settings = {name: f"{setting}{' x ' + unit if unit else ''}" for name, setting, unit in cursor.fetchall()}
    params = connection.settings_dict
    return {
        "server_version": version,
        "database": params["NAME"],
        "host": f"{params.get('HOST') or 'localhost'}:{params.get('PORT') or 5432}",
        "settings": settings,
    }


def results_write(name: str, payload: dict[str, Any]) -> Path:
    """Write `payload` to DATA_DIR/bench/<name>.json (DATA_DIR is `.data` by default)."""
    from django.conf import settings

    folder = Path(settings.DATA_DIR) / "bench"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.json"
    path.write_text(json.dumps(payload, indent=2, sort_keys=False) + "\n")
    return path


def _proc_field(path: str, field: str) -> str:
    try:
        with open(path) as handle:
            for line in handle:
                key, _sep, value = line.partition(":")
                if key.strip() == field:
                    return value.strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _memory_gib() -> float | None:
    try:
        with open("/proc/meminfo") as handle:
            for line in handle:
                if line.startswith("MemTotal:"):
                    return round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    return None


def _git(*args: str) -> str:
    try:
        result = subprocess.run(
            ["git", *args], capture_output=True, text=True, check=True, timeout=10, cwd=Path(__file__).parent
        )
    except (OSError, subprocess.SubprocessError):
        return ""
    return result.stdout.strip()

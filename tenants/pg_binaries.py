"""Where the PostgreSQL client programs (pg_dump, pg_restore) are."""

from __future__ import annotations

import glob
import shutil
from pathlib import Path

from django.conf import settings


class PgBinaryMissing(RuntimeError):
    pass


def pg_binary(name: str) -> str:
    folders = [settings.PG_BIN_DIR] if settings.PG_BIN_DIR else []
    folders += sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)
    for folder in folders:
        candidate = Path(folder) / name
        if candidate.exists():
            return str(candidate)
    found = shutil.which(name)
    if found:
        return found
    raise PgBinaryMissing(f"{name} not found: install the PostgreSQL client or set PG_BIN_DIR.")


def libpq_environment() -> dict[str, str]:
    """Connection settings of the default database as libpq environment variables."""
    from django.db import connection

    params = connection.settings_dict
    env = {
        "PGHOST": str(params.get("HOST") or "127.0.0.1"),
        "PGPORT": str(params.get("PORT") or 5432),
        "PGUSER": str(params.get("USER") or ""),
        "PGDATABASE": str(params["NAME"]),
    }
    if params.get("PASSWORD"):
        env["PGPASSWORD"] = str(params["PASSWORD"])
    return env

"""Transaction-scoped PostgreSQL advisory locks, named by a string.

Always `pg_advisory_xact_lock`, never the session-level kind: a session lock outlives the
transaction and, behind a transaction-mode pooler, stays with a connection another client
gets next. The name is hashed to the 64-bit key PostgreSQL wants; callers put the tenant
schema in the name when the lock is per workspace.
"""

from __future__ import annotations

import hashlib

from django.db import connection


def advisory_xact_lock(name: str) -> None:
    """Wait for, then hold until the current transaction ends, the lock called `name`."""
    key = int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [key])

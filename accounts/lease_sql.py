"""The statements of the per-request seat check (accounts.seats).

They run on every signed-in request. The reading and the throttled renewal are done by two
PL/pgSQL functions (accounts migration 0007) whose plans PostgreSQL keeps per connection:
sent as a statement, the read-and-renew was planned again on every request, which cost
more than running it (bench seats). The functions name the workspace's tables without a
schema: they read the workspace the connection serves, like every query of the request.
"""

# ruff: noqa: S608

from __future__ import annotations

from datetime import timedelta
from functools import cache

from config.model_rows import in_public_schema

DEFAULT_IDLE_MINUTES = 15
# A lease is renewed at most this often: activity must not write on every request.
RENEW_AFTER = timedelta(minutes=1)
# What `accounts.seats.lease_state_settle` reads, in this order.
LEASE_COLUMNS = "lease_id, released_at, release_reason, idle_for, idle_minutes, db_now"


@cache
def touch() -> str:
    """The lease of an API token's session (no web session behind it), renewed if due."""
    return f"SELECT {LEASE_COLUMNS} FROM {in_public_schema('seat_lease_touch')}(%s, %s, %s)"


@cache
def session_with_lease() -> str:
    """A live web session's data and its lease, renewed if due (never for an expired session)."""
    return f"SELECT session_data, {LEASE_COLUMNS} FROM {in_public_schema('session_with_lease')}(%s, %s, %s)"


def params(session_key: str) -> list:
    return [session_key, DEFAULT_IDLE_MINUTES, RENEW_AFTER]

"""The hand-written statements of the per-request seat check (accounts.seats).

They run on every signed-in request, where the ORM's compilation alone cost more than the
round trip (bench seats). Only table names from the models' metadata are formatted in;
values are always parameters.
"""

# ruff: noqa: S608

from __future__ import annotations

from datetime import timedelta
from functools import cache

from django.contrib.sessions.models import Session
from django.db import connection

from accounts.models import AccessSettings, SeatLease

DEFAULT_IDLE_MINUTES = 15
# A lease is renewed at most this often: activity must not write on every request.
RENEW_AFTER = timedelta(minutes=1)
# What `accounts.seats.lease_state_settle` reads, in this order.
LEASE_COLUMNS = "lease.id, lease.released_at, lease.release_reason, lease.idle_for, lease.idle_minutes, now()"


@cache
def touch() -> str:
    return f"{_lease(renew_only_for_live_session=False)} SELECT {LEASE_COLUMNS} FROM lease"


def touch_params(session_key: str) -> list:
    return [DEFAULT_IDLE_MINUTES, session_key, RENEW_AFTER]


@cache
def session_with_lease() -> str:
    sessions = _table(Session)
    return (
        f"{_lease(renew_only_for_live_session=True)} "
        f"SELECT s.session_data, {LEASE_COLUMNS} FROM {sessions} s LEFT JOIN lease ON true "
        "WHERE s.session_key = %s AND s.expire_date > now()"
    )


def session_with_lease_params(session_key: str) -> list:
    return [*touch_params(session_key), session_key]


@cache
def _lease(*, renew_only_for_live_session: bool) -> str:
    """`WITH lease AS (...)`: the session's lease with its idle time and the workspace's idle
    timeout, renewed when last seen more than RENEW_AFTER ago and still held (and, for a
    web session, only while the session itself is alive)."""
    leases, sessions = _table(SeatLease), _table(Session)
    live_session = (
        f"AND EXISTS (SELECT 1 FROM {sessions} WHERE session_key = lease.session_key AND expire_date > now())"
        if renew_only_for_live_session
        else ""
    )
    return f"""
        WITH lease AS (
            SELECT id, session_key, released_at, release_reason, now() - last_seen_at AS idle_for,
                   coalesce((SELECT idle_timeout_minutes FROM {_table(AccessSettings)} WHERE id = 1), %s::integer)
                   AS idle_minutes
            FROM {leases} WHERE session_key = %s
        ), renewed AS (
            UPDATE {leases} SET last_seen_at = now() FROM lease
            WHERE {leases}.id = lease.id AND {leases}.released_at IS NULL
              AND lease.idle_for > %s AND lease.idle_for <= make_interval(mins => lease.idle_minutes)
              {live_session}
        )
    """


def _table(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)

"""Database sessions that bring their seat lease along.

On a workspace's host every signed-in request loads its session and then checks its seat
lease (accounts.middleware.SeatMiddleware). Loading both in one statement spares each
request a database round trip; the lease is read, renewed (at most once a minute) and
settled exactly as `accounts.seats.seat_lease_touch` does. Platform hosts (the public
schema) have no leases and load sessions the usual way.
"""

from __future__ import annotations

from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore
from django.db import connection
from django_tenants.utils import get_public_schema_name

from accounts.seats import LeaseState, lease_state_settle, seat_lease_touch, session_with_lease


class SessionStore(DatabaseSessionStore):
    _lease_row: tuple | None = None
    _lease_loaded = False

    def load(self) -> dict:
        if connection.schema_name == get_public_schema_name() or not self.session_key:
            return super().load()
        data, self._lease_row = session_with_lease(session_key=self.session_key)
        self._lease_loaded = True
        if data is None:  # missing or expired, as the database backend treats it
            self._session_key = None
            return {}
        return self.decode(data)

    def seat_lease(self) -> LeaseState | None:
        """The lease of this session (None when it has none), from the session's own load
        when that happened on this request, else read (and renewed) now."""
        session_key = self.session_key or ""
        if self._lease_loaded:
            self._lease_loaded = False  # settle once: a second call reads afresh
            row, self._lease_row = self._lease_row, None
            return None if row is None else lease_state_settle(session_key=session_key, row=row)
        return seat_lease_touch(session_key=session_key)

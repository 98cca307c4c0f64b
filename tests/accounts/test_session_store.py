"""Sessions load with their seat lease: the seat check of a request costs no round trip
of its own, and behaves exactly like `seat_lease_touch`."""

from __future__ import annotations

from datetime import timedelta

from django.contrib.sessions.models import Session
from django.db import connection
from django.db.models.functions import Now
from django.test.utils import CaptureQueriesContext

from accounts.models import ReleaseReason, SeatLease
from tests.accounts.test_seats import make_user, sign_in
from tests.conftest import inside


def statements_touching(queries, table: str) -> list[str]:
    return [q["sql"] for q in queries.captured_queries if table in q["sql"]]


def test_the_seat_is_checked_in_the_statement_that_loads_the_session(tenant_a):
    user = make_user(tenant_a, "onetrip@acme.example")
    client, _ = sign_in(user.email)

    with CaptureQueriesContext(connection) as queries:
        assert client.get("/notifications/").status_code == 200

    # One call reads the session and its lease; no other statement goes near either.
    assert len(statements_touching(queries, '"session_with_lease"')) == 1
    assert statements_touching(queries, SeatLease._meta.db_table) == []
    assert statements_touching(queries, Session._meta.db_table) == []


def test_a_lease_idle_too_long_is_freed_on_the_next_request(tenant_a):
    user = make_user(tenant_a, "idle@acme.example")
    client, _ = sign_in(user.email)
    with inside(tenant_a):
        SeatLease.objects.filter(user=user).update(last_seen_at=Now() - timedelta(minutes=16))

    response = client.get("/", follow=True)

    assert "You were away for a while" in response.content.decode()
    with inside(tenant_a):
        lease = SeatLease.objects.get(user=user)
    assert lease.released_at is not None
    assert lease.release_reason == ReleaseReason.EXPIRED


def test_an_expired_session_never_renews_its_lease(tenant_a):
    user = make_user(tenant_a, "lapsed@acme.example")
    client, _ = sign_in(user.email)
    with inside(tenant_a):
        SeatLease.objects.filter(user=user).update(last_seen_at=Now() - timedelta(minutes=5))
        seen = SeatLease.objects.get(user=user).last_seen_at
        Session.objects.update(expire_date=Now() - timedelta(seconds=1))

    response = client.get("/")

    assert response.status_code == 302
    assert "/login/" in response["Location"]
    with inside(tenant_a):
        assert SeatLease.objects.get(user=user).last_seen_at == seen

"""200 people signing in at once for 10 free shared seats: exactly 10 get one."""

from __future__ import annotations

import threading

import pytest
from django.contrib.auth.hashers import make_password
from django.db import connection, connections
from django_tenants.utils import schema_context

from accounts.errors import NoSeatAvailable
from accounts.models import SeatLease, SeatType, User
from accounts.seats import seat_lease_acquire
from tenants.services import SignupRequest, tenant_delete, tenant_signup
from tests.conftest import PASSWORD

PEOPLE = 200
SEATS = 10


@pytest.fixture
def crowded_tenant(committed_db):
    tenant = tenant_signup(
        request=SignupRequest(
            company_name="Crowd",
            slug="crowd",
            admin_name="Crowd Admin",
            admin_email="admin@crowd.example",
            admin_password=PASSWORD,
            plan="team",
        )
    )
    tenant.extra_concurrent_seats = SEATS - tenant.plan.concurrent_seats
    tenant.save(update_fields=["extra_concurrent_seats"])
    with schema_context(tenant.schema_name):
        unusable = make_password(None)
        User.objects.bulk_create(
            User(
                email=f"person{i}@crowd.example",
                full_name=f"Person {i}",
                password=unusable,
                seat_type=SeatType.CONCURRENT,
            )
            for i in range(PEOPLE)
        )
    connection.set_schema_to_public()
    yield tenant
    connection.set_schema_to_public()
    tenant_delete(tenant=tenant)


@pytest.mark.slow
def test_two_hundred_simultaneous_sign_ins_for_ten_seats_grant_exactly_ten(crowded_tenant):
    schema = crowded_tenant.schema_name
    with schema_context(schema):
        people = list(User.objects.filter(seat_type=SeatType.CONCURRENT).order_by("pk"))
    start = threading.Barrier(PEOPLE + 1)
    granted: list[int] = []
    refused: list[int] = []
    errors: list[BaseException] = []
    peak_seen = 0
    racing = threading.Event()

    def sign_in(person: User) -> None:
        try:
            connection.set_tenant(crowded_tenant)
            connection.ensure_connection()
            start.wait()
            seat_lease_acquire(user=person, session_key=f"race-{person.pk}")
            granted.append(person.pk)
        except NoSeatAvailable:
            refused.append(person.pk)
        except BaseException as error:
            errors.append(error)
        finally:
            connections.close_all()

    def watch() -> None:
        nonlocal peak_seen
        connection.set_tenant(crowded_tenant)
        while racing.is_set():
            held = SeatLease.objects.filter(released_at__isnull=True, seat_type=SeatType.CONCURRENT).count()
            peak_seen = max(peak_seen, held)
        connections.close_all()

    threads = [threading.Thread(target=sign_in, args=(person,)) for person in people]
    for thread in threads:
        thread.start()
    racing.set()
    watcher = threading.Thread(target=watch)
    watcher.start()
    start.wait()
    for thread in threads:
        thread.join(timeout=120)
    racing.clear()
    watcher.join(timeout=30)

    assert errors == []
    assert len(granted) == SEATS
    assert len(refused) == PEOPLE - SEATS
    assert peak_seen <= SEATS
    with schema_context(schema):
        assert SeatLease.objects.filter(released_at__isnull=True).count() == SEATS

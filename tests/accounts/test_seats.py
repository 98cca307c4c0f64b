"""Named and concurrent seats: who may sign in, leases, expiry, release, and the admin's powers."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db.models.functions import Now
from django.test import Client

from accounts import roles
from accounts.errors import PermissionRefused, SeatLimitReached
from accounts.models import AccessSettings, ReleaseReason, Role, SeatLease, SeatType, SeatUsageDay, User
from accounts.seats import seat_assign, seat_holders, seat_lease_force_release, seat_lease_touch, seat_overview
from accounts.services import user_create
from tests.conftest import ALICE_EMAIL, inside

SEAT_PASSWORD = "seat-test-password-77"


def make_user(tenant, email: str, seat_type: str = SeatType.CONCURRENT, role: str = roles.SALES_REP) -> User:
    with inside(tenant):
        return user_create(
            email=email,
            full_name=email.split("@")[0].title(),
            password=SEAT_PASSWORD,
            role=Role.objects.get(code=role),
            seat_type=seat_type,
        )


def sign_in(email: str, password: str = SEAT_PASSWORD) -> tuple[Client, object]:
    client = Client(HTTP_HOST="acme.localhost:8000")
    return client, client.post("/login/", {"username": email, "password": password})


@pytest.fixture
def pool_of_five(tenant_a):
    """Acme is on the Team plan: 5 shared seats. Five people fill them."""
    assert tenant_a.concurrent_seats == 5
    users = [make_user(tenant_a, f"rep{i}@acme.example") for i in range(5)]
    clients = []
    for user in users:
        client, response = sign_in(user.email)
        assert response.status_code == 302
        clients.append(client)
    return users, clients


def test_a_person_without_a_seat_cannot_sign_in_and_is_told_whom_to_ask(tenant_a):
    make_user(tenant_a, "noseat@acme.example", seat_type=SeatType.NONE)

    client, response = sign_in("noseat@acme.example")

    html = response.content.decode()
    assert response.status_code == 200
    assert "You have no seat in this workspace yet. Ask Alice Adams to give you one." in html
    assert client.get("/").status_code == 302


def test_when_all_shared_seats_are_taken_sign_in_is_refused_with_count_time_and_admin(tenant_a, pool_of_five):
    make_user(tenant_a, "sixth@acme.example")

    _client, response = sign_in("sixth@acme.example")

    html = response.content.decode()
    assert "All 5 shared seats of the workspace are in use." in html
    assert "If nobody comes back, one frees up at" in html
    assert "An administrator (Alice Adams) can free a seat now." in html


def test_named_seat_holders_sign_in_whatever_the_shared_pool(tenant_a, pool_of_five):
    _client, response = sign_in(ALICE_EMAIL, "correct-horse-battery-9")

    assert response.status_code == 302


def test_logout_frees_the_seat_at_once(tenant_a, pool_of_five):
    _users, clients = pool_of_five
    make_user(tenant_a, "sixth@acme.example")

    clients[0].post("/logout/")
    _client, response = sign_in("sixth@acme.example")

    assert response.status_code == 302


def test_a_second_browser_of_the_same_person_reuses_their_seat(tenant_a, pool_of_five):
    users, _clients = pool_of_five

    second_browser, response = sign_in(users[0].email)

    assert response.status_code == 302
    assert second_browser.get("/").status_code == 200
    with inside(tenant_a):
        assert seat_overview().concurrent_in_use == 5


def test_with_parallel_sessions_off_a_new_sign_in_ends_the_other_session(tenant_a):
    user = make_user(tenant_a, "solo@acme.example")
    with inside(tenant_a):
        AccessSettings.objects.update_or_create(pk=1, defaults={"allow_parallel_sessions": False})
    first, _ = sign_in(user.email)

    second, response = sign_in(user.email)
    kicked = first.get("/", follow=True)

    assert response.status_code == 302
    assert second.get("/").status_code == 200
    assert "You signed in somewhere else, so this session ended." in kicked.content.decode()


def test_an_idle_lease_expires_and_frees_the_seat(tenant_a, pool_of_five):
    users, clients = pool_of_five
    make_user(tenant_a, "sixth@acme.example")
    with inside(tenant_a):
        SeatLease.objects.filter(user=users[0]).update(last_seen_at=Now() - timedelta(minutes=16))

    _client, response = sign_in("sixth@acme.example")
    idle_return = clients[0].get("/", follow=True)

    assert response.status_code == 302
    assert "You were away for a while" in idle_return.content.decode()


def test_activity_renews_the_lease_at_most_once_a_minute(tenant_a):
    user = make_user(tenant_a, "busy@acme.example")
    client, _ = sign_in(user.email)
    with inside(tenant_a):
        lease = SeatLease.objects.get(user=user)
        SeatLease.objects.filter(pk=lease.pk).update(last_seen_at=Now() - timedelta(seconds=30))
        half_minute_ago = SeatLease.objects.get(pk=lease.pk).last_seen_at

    client.get("/")
    with inside(tenant_a):
        assert SeatLease.objects.get(pk=lease.pk).last_seen_at == half_minute_ago
        SeatLease.objects.filter(pk=lease.pk).update(last_seen_at=Now() - timedelta(minutes=2))

    client.get("/")
    with inside(tenant_a):
        assert SeatLease.objects.get(pk=lease.pk).last_seen_at > half_minute_ago


def test_an_admin_can_force_release_and_the_holder_is_sent_to_sign_in(tenant_a, pool_of_five):
    users, clients = pool_of_five
    with inside(tenant_a):
        alice = User.objects.get(email=ALICE_EMAIL)
        seat_lease_force_release(actor=alice, lease=SeatLease.objects.get(user=users[1]))

    response = clients[1].get("/", follow=True)

    assert response.redirect_chain[-1][0] == "/login/"
    assert "An administrator freed your seat." in response.content.decode()
    with inside(tenant_a):
        assert SeatLease.objects.get(user=users[1]).release_reason == ReleaseReason.FORCED


def test_a_sales_rep_can_neither_free_seats_nor_assign_them(tenant_a, pool_of_five):
    users, _clients = pool_of_five
    with inside(tenant_a):
        with pytest.raises(PermissionRefused) as refused:
            seat_lease_force_release(actor=users[0], lease=SeatLease.objects.get(user=users[1]))
        assert refused.value.code == "permission_denied"
        with pytest.raises(PermissionRefused):
            seat_assign(actor=users[0], user=users[0], seat_type=SeatType.NAMED)
        assert User.objects.get(pk=users[0].pk).seat_type == SeatType.CONCURRENT


def test_named_seats_never_exceed_what_the_workspace_has(tenant_a):
    # Team plan: 10 named seats, Alice holds one.
    for i in range(9):
        make_user(tenant_a, f"named{i}@acme.example", seat_type=SeatType.NAMED)
    extra = make_user(tenant_a, "eleventh@acme.example", seat_type=SeatType.NONE)

    with inside(tenant_a), pytest.raises(SeatLimitReached) as refused:
        seat_assign(actor=User.objects.get(email=ALICE_EMAIL), user=extra, seat_type=SeatType.NAMED)

    assert refused.value.code == "plan_limit_reached"
    assert "All 10 named seats of your plan are assigned." in refused.value.message
    with inside(tenant_a):
        assert User.objects.filter(seat_type=SeatType.NAMED).count() == 10


def test_taking_a_seat_away_ends_the_persons_sessions(tenant_a):
    user = make_user(tenant_a, "leaving@acme.example")
    client, _ = sign_in(user.email)
    with inside(tenant_a):
        seat_assign(actor=User.objects.get(email=ALICE_EMAIL), user=user, seat_type=SeatType.NONE)

    assert client.get("/").status_code == 302


def test_admin_view_lists_live_holders_and_daily_peak(tenant_a, pool_of_five):
    with inside(tenant_a):
        holders = list(seat_holders())
        peak = SeatUsageDay.objects.get()

    assert {lease.user.email for lease in holders} >= {f"rep{i}@acme.example" for i in range(5)}
    assert all(lease.ip_address == "127.0.0.1" for lease in holders)
    assert peak.peak_concurrent == 5


def test_seats_of_one_tenant_do_not_count_in_another(tenant_a, tenant_b, pool_of_five):
    with inside(tenant_b):
        assert seat_overview().concurrent_in_use == 0
        assert seat_lease_touch(session_key=pool_of_five[1][0].session.session_key) is None

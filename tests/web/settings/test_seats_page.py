"""Settings → Seats: live holders, force release, overview and the usage chart."""

from __future__ import annotations

import re

from django.utils import timezone

from accounts.models import ReleaseReason, SeatLease, SeatUsageDay, User
from tests.conftest import inside


def test_seats_page_lists_live_holders_within_a_query_bound(web_alice, web_rex, rex, django_assert_max_num_queries):
    # given Rex signed in from his browser
    with django_assert_max_num_queries(16):
        response = web_alice.get("/settings/seats/")
    body = response.content.decode()
    # then his session is listed with where it comes from
    assert response.status_code == 200
    holders = body.split('id="seat-holders"')[1].split("</table>")[0]
    assert "Rex Rep" in holders and "127.0.0.1" in holders
    assert "Shared seats in use now" in body


def test_force_release_asks_first_then_sends_the_holder_to_sign_in(web_alice, web_rex, rex):
    lease = SeatLease.objects.get(user=rex, released_at__isnull=True)
    # when the admin opens the button's page, nothing happens yet
    confirm = web_alice.get(f"/settings/seats/{lease.pk}/release/")
    assert confirm.status_code == 200 and "Free the seat of Rex Rep?" in confirm.content.decode()
    assert web_rex.get("/leads/").status_code == 200
    # when she confirms
    response = web_alice.post(f"/settings/seats/{lease.pk}/release/")
    assert response.status_code == 302 and response["Location"] == "/settings/seats/"
    lease.refresh_from_db()
    assert lease.release_reason == ReleaseReason.FORCED
    # then Rex's next request lands on the sign-in page, with the reason
    after = web_rex.get("/leads/", follow=True)
    assert after.redirect_chain[0][0].startswith("/login/")
    assert "An administrator freed your seat." in after.content.decode()


def test_releasing_a_seat_no_longer_held_is_not_found(web_alice, web_rex, rex):
    lease = SeatLease.objects.get(user=rex, released_at__isnull=True)
    web_alice.post(f"/settings/seats/{lease.pk}/release/")
    assert web_alice.post(f"/settings/seats/{lease.pk}/release/").status_code == 404


def test_another_workspaces_lease_is_not_found(tenant_b, web_alice):
    with inside(tenant_b):
        bob = User.objects.get(email="bob@globex.example")
        lease = SeatLease.objects.create(pk=10**12, user=bob, session_key="far-away-session", seat_type="named")
    assert web_alice.get(f"/settings/seats/{lease.pk}/release/").status_code == 404
    assert web_alice.post(f"/settings/seats/{lease.pk}/release/").status_code == 404
    with inside(tenant_b):
        lease.refresh_from_db()
        assert lease.released_at is None


def test_a_sales_rep_may_not_open_or_use_the_seats_page(web_alice, web_rex, alice):
    lease = SeatLease.objects.get(user=alice, released_at__isnull=True)
    assert web_rex.get("/settings/seats/").status_code == 403
    assert web_rex.post(f"/settings/seats/{lease.pk}/release/").status_code == 403
    lease.refresh_from_db()
    assert lease.released_at is None


def test_usage_chart_has_a_bar_per_day_and_a_table_beside_it(web_alice):
    SeatUsageDay.objects.update_or_create(
        day=timezone.localdate(), defaults={"peak_concurrent": 3, "peak_at": timezone.now()}
    )
    body = web_alice.get("/settings/seats/").content.decode()
    svg = body.split('id="seat-usage-chart"')[1].split("</svg>")[0]
    assert len(re.findall(r'<rect class="bar"', svg)) == 30
    assert 'role="img"' in body.split('id="seat-usage-chart"')[0].rsplit("<svg", 1)[1]
    assert "<title" in svg and "<desc" in svg
    assert "<caption>Peak shared seats in use per day</caption>" in body


def test_chart_numbers_are_not_localised_in_russian(web_alice, alice):
    alice.language = "ru"
    alice.save(update_fields=["language"])
    body = web_alice.get("/settings/seats/").content.decode()
    svg = body.split('id="seat-usage-chart"')[1].split("</svg>")[0]
    # SVG coordinates need a decimal point whatever the language
    assert not re.search(r'(x|y|width|height)="\d+,\d', svg)

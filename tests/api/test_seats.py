"""Seats over the API: capacity and use, live holders, force release, usage history."""

from __future__ import annotations

from django.test import Client

from accounts.models import AuditEntry, SeatType
from tests.api.people import PEOPLE_PASSWORD, person, signed_in
from tests.conftest import inside


def holder(api, email: str) -> dict:
    """The first live lease of `email` in the holders list."""
    return next(row for row in api.get("/api/v1/seats/holders/").json()["results"] if row["user"]["email"] == email)


def test_overview_counts_named_and_shared_seats(api_a, tenant_a):
    before = api_a.get("/api/v1/seats/").json()
    signed_in(tenant_a, "rita@acme.example")
    person(tenant_a, "nina@acme.example", seat_type=SeatType.NAMED)

    after = api_a.get("/api/v1/seats/").json()

    assert after["named_total"] == tenant_a.named_seats
    assert after["concurrent_total"] == tenant_a.concurrent_seats == 5
    assert after["named_assigned"] == before["named_assigned"] + 1
    assert after["concurrent_in_use"] == before["concurrent_in_use"] + 1


def test_holders_show_who_since_when_from_where(api_a, tenant_a):
    person(tenant_a, "rita@acme.example")
    Client(HTTP_HOST="acme.localhost:8000").post(
        "/api/v1/auth/token/",
        {"email": "rita@acme.example", "password": PEOPLE_PASSWORD},
        content_type="application/json",
        HTTP_USER_AGENT="RitaBot/1.0",
    )

    rows = api_a.get("/api/v1/seats/holders/").json()["results"]

    [rita] = [row for row in rows if row["user"]["email"] == "rita@acme.example"]
    assert (rita["kind"], rita["seat_type"], rita["user_agent"]) == ("api", "concurrent", "RitaBot/1.0")
    assert rita["ip_address"] == "127.0.0.1"
    assert rita["since"] and rita["last_seen_at"]


def test_force_release_ends_the_holders_api_token_and_frees_the_seat(api_a, tenant_a):
    rep = signed_in(tenant_a, "rita@acme.example")
    assert rep.get("/api/v1/me/").status_code == 200
    [lease] = [
        r for r in api_a.get("/api/v1/seats/holders/").json()["results"] if r["user"]["email"] == "rita@acme.example"
    ]
    in_use = api_a.get("/api/v1/seats/").json()["concurrent_in_use"]

    released = api_a.post(f"/api/v1/seats/{lease['id']}/release/")

    assert released.status_code == 204
    assert api_a.get("/api/v1/seats/").json()["concurrent_in_use"] == in_use - 1
    refused = rep.get("/api/v1/me/")
    assert refused.status_code == 401
    assert refused.json()["code"] == "not_authenticated"
    assert "administrator freed your seat" in refused.json()["detail"]
    assert rep.get("/api/v1/me/").status_code == 401  # the token stays revoked
    with inside(tenant_a):
        assert AuditEntry.objects.filter(action="seat.force_release").exists()


def test_force_release_sends_the_holders_browser_to_the_login_page(api_a, tenant_a):
    person(tenant_a, "rita@acme.example")
    browser = Client(HTTP_HOST="acme.localhost:8000")
    assert browser.post("/login/", {"username": "rita@acme.example", "password": PEOPLE_PASSWORD}).status_code == 302
    assert browser.get("/").status_code == 200
    [lease] = [
        r for r in api_a.get("/api/v1/seats/holders/").json()["results"] if r["user"]["email"] == "rita@acme.example"
    ]

    assert api_a.post(f"/api/v1/seats/{lease['id']}/release/").status_code == 204

    response = browser.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_a_released_or_unknown_lease_is_not_found(api_a):
    assert api_a.post("/api/v1/seats/999999/release/").status_code == 404
    assert api_a.post(f"/api/v1/seats/{2**63}/release/").status_code == 404


def test_usage_history_has_the_days_peak(api_a, tenant_a):
    signed_in(tenant_a, "rita@acme.example")
    signed_in(tenant_a, "rick@acme.example")

    days = api_a.get("/api/v1/seats/history/", {"days": 7}).json()

    assert days[-1]["peak_concurrent"] >= 2
    assert api_a.get("/api/v1/seats/history/", {"days": 0}).status_code == 400
    assert api_a.get("/api/v1/seats/history/", {"days": "week"}).status_code == 400


def test_a_sales_rep_cannot_see_or_free_seats(api_a, tenant_a):
    rep = signed_in(tenant_a, "rita@acme.example")
    [lease] = [
        r for r in api_a.get("/api/v1/seats/holders/").json()["results"] if r["user"]["email"] == "rita@acme.example"
    ]

    assert rep.get("/api/v1/seats/").status_code == 403
    assert rep.get("/api/v1/seats/holders/").status_code == 403
    assert rep.post(f"/api/v1/seats/{lease['id']}/release/").status_code == 403
    assert rep.get("/api/v1/me/").status_code == 200


def test_holder_list_queries_are_bounded(api_a, tenant_a, django_assert_max_num_queries):
    signed_in(tenant_a, "a1@acme.example", seat_type=SeatType.NAMED)
    with django_assert_max_num_queries(12) as few:
        api_a.get("/api/v1/seats/holders/")
    few_queries = len(few.captured_queries)
    for i in range(4):
        signed_in(tenant_a, f"b{i}@acme.example")
    with django_assert_max_num_queries(few_queries):
        assert len(api_a.get("/api/v1/seats/holders/").json()["results"]) >= 6


def test_another_workspaces_leases_are_not_found(api_a, api_b, tenant_b):
    [bob_lease] = [
        r for r in api_b.get("/api/v1/seats/holders/").json()["results"] if r["user"]["email"] == "bob@globex.example"
    ][:1]

    response = api_a.post(f"/api/v1/seats/{bob_lease['id']}/release/")

    assert response.status_code in (204, 404)  # ids are per workspace; never Bob's
    assert api_b.get("/api/v1/me/").status_code == 200
    assert api_a.__class__("globex.localhost:8000", api_a.token).get("/api/v1/seats/").status_code == 401

"""The token machinery of the API: signing in with a seat, personal and integration tokens,
rate limits from the plan, and Idempotency-Key replays (one of them with real threads)."""

from __future__ import annotations

import hashlib
import threading
from datetime import timedelta

import pytest
from django.db import connections
from django.utils import timezone

from accounts.models import ApiToken, SeatLease, SeatType, User
from accounts.seats import seat_overview
from crm.clients.models import Contact
from tenants.models import Plan
from tenants.services import SignupRequest, tenant_delete, tenant_signup
from tests.api.conftest import ApiClient, sign_in
from tests.api.people import ACME, PEOPLE_PASSWORD, person, role_id, signed_in
from tests.conftest import ALICE_EMAIL, PASSWORD, inside


def shared_in_use(tenant) -> int:
    with inside(tenant):
        return seat_overview().concurrent_in_use


# --- signing in and out ------------------------------------------------------------------


def test_token_obtain_answers_the_token_its_expiry_and_the_user(tenant_a):
    response = ApiClient(ACME).post("/api/v1/auth/token/", {"email": ALICE_EMAIL, "password": PASSWORD})

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"token", "expires_at", "user"}
    assert body["token"].startswith("crm_")
    assert body["user"]["email"] == ALICE_EMAIL
    assert body["user"]["role"]["code"] == "admin"
    assert "users" in body["user"]["capabilities"]
    with inside(tenant_a):
        stored = ApiToken.objects.get(token_hash=hashlib.sha256(body["token"].encode()).hexdigest())
    assert stored.kind == "personal"
    assert body["token"] not in (stored.token_hash, stored.prefix)


def test_a_bad_password_is_401(tenant_a):
    response = ApiClient(ACME).post("/api/v1/auth/token/", {"email": ALICE_EMAIL, "password": "wrong"})

    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_a_person_without_a_seat_gets_403_seat_not_assigned(tenant_a):
    person(tenant_a, "noseat@acme.example", seat_type=SeatType.NONE)

    response = ApiClient(ACME).post(
        "/api/v1/auth/token/", {"email": "noseat@acme.example", "password": PEOPLE_PASSWORD}
    )

    assert response.status_code == 403
    assert response.json()["code"] == "seat_not_assigned"
    assert "Alice Adams" in response.json()["detail"]


def test_when_every_shared_seat_is_taken_sign_in_is_403_no_seat_available(tenant_a):
    free = tenant_a.concurrent_seats - shared_in_use(tenant_a)
    for i in range(free):
        signed_in(tenant_a, f"rep{i}@acme.example")
    person(tenant_a, "late@acme.example")

    response = ApiClient(ACME).post("/api/v1/auth/token/", {"email": "late@acme.example", "password": PEOPLE_PASSWORD})

    assert response.status_code == 403
    body = response.json()
    assert body["code"] == "no_seat_available"
    assert body["seats"] == tenant_a.concurrent_seats == 5
    assert "next_free_at" in body
    with inside(tenant_a):
        assert not ApiToken.objects.filter(user__email="late@acme.example").exists()


def test_logout_revokes_the_token_and_frees_the_seat_at_once(tenant_a):
    rep = signed_in(tenant_a, "rita@acme.example")
    held = shared_in_use(tenant_a)

    response = rep.post("/api/v1/auth/logout/")

    assert response.status_code == 204
    assert shared_in_use(tenant_a) == held - 1
    assert rep.get("/api/v1/me/").status_code == 401


def test_an_expired_token_is_401(api_a, tenant_a):
    with inside(tenant_a):
        ApiToken.objects.filter(user__email=ALICE_EMAIL).update(expires_at=timezone.now() - timedelta(seconds=1))

    response = api_a.get("/api/v1/me/")

    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_a_revoked_token_is_401_and_an_unknown_one_too(api_a, tenant_a):
    with inside(tenant_a):
        ApiToken.objects.filter(user__email=ALICE_EMAIL).update(revoked_at=timezone.now())

    assert api_a.get("/api/v1/me/").status_code == 401
    assert ApiClient(ACME, "crm_made-up").get("/api/v1/me/").status_code == 401
    assert ApiClient(ACME, "\u00e9\u00e9").get("/api/v1/me/").status_code == 401


def test_owners_list_and_revoke_their_tokens_and_admins_anyones(api_a, tenant_a):
    rep = signed_in(tenant_a, "rita@acme.example")
    second = sign_in(ACME, "rita@acme.example", PEOPLE_PASSWORD)
    rick = signed_in(tenant_a, "rick@acme.example")

    own = rep.get("/api/v1/tokens/").json()["results"]
    assert {row["user"]["email"] for row in own} == {"rita@acme.example"}
    assert len(own) == 2
    everyone = {row["user"]["email"] for row in api_a.get("/api/v1/tokens/").json()["results"]}
    assert {"rita@acme.example", "rick@acme.example", ALICE_EMAIL} <= everyone
    ricks = [
        row for row in api_a.get("/api/v1/tokens/").json()["results"] if row["user"]["email"] == "rick@acme.example"
    ]

    # a rep can't see or revoke a colleague's token
    assert rep.get(f"/api/v1/tokens/{ricks[0]['id']}/").status_code == 404
    assert rep.post(f"/api/v1/tokens/{ricks[0]['id']}/revoke/").status_code == 404
    # the owner revokes one of theirs; the other keeps working
    assert rep.post(f"/api/v1/tokens/{own[0]['id']}/revoke/").status_code == 204
    assert (rep.get("/api/v1/me/").status_code, second.get("/api/v1/me/").status_code).count(401) == 1
    # the admin revokes Rick's
    assert api_a.post(f"/api/v1/tokens/{ricks[0]['id']}/revoke/").status_code == 204
    assert rick.get("/api/v1/me/").status_code == 401


# --- integration tokens ------------------------------------------------------------------


def integration(api, tenant, role: str = "read_only", **extra) -> dict:
    response = api.post("/api/v1/integration-tokens/", {"name": "ERP", "role": role_id(tenant, role), **extra})
    assert response.status_code == 201, response.content
    return response.json()


def test_an_integration_tokens_secret_is_shown_once_and_stored_hashed(api_a, tenant_a):
    created = integration(api_a, tenant_a)

    assert created["token"].startswith("crm_")
    fetched = api_a.get(f"/api/v1/integration-tokens/{created['id']}/").json()
    assert "token" not in fetched
    assert all("token" not in row for row in api_a.get("/api/v1/integration-tokens/").json()["results"])
    with inside(tenant_a):
        stored = ApiToken.objects.get(pk=created["id"])
    assert stored.token_hash == hashlib.sha256(created["token"].encode()).hexdigest()
    assert stored.prefix == created["token"][:10]


def test_an_integration_token_takes_no_seat_and_acts_with_its_roles_scopes(api_a, tenant_a):
    machine = ApiClient(ACME, integration(api_a, tenant_a, role="read_only")["token"])
    with inside(tenant_a):
        leases = SeatLease.objects.count()
    in_use = shared_in_use(tenant_a)

    read = machine.get("/api/v1/contacts/")
    write = machine.post("/api/v1/contacts/", {"first_name": "Bot"})

    assert read.status_code == 200
    assert write.status_code == 403
    assert write.json()["code"] == "permission_denied"
    assert shared_in_use(tenant_a) == in_use
    with inside(tenant_a):
        assert SeatLease.objects.count() == leases
        assert not Contact.objects.filter(first_name="Bot").exists()


def test_integration_tokens_are_limited_by_the_plan(api_a, tenant_a):
    allowed = tenant_a.plan.max_integration_tokens
    for _ in range(allowed):
        integration(api_a, tenant_a)

    response = api_a.post("/api/v1/integration-tokens/", {"name": "One more", "role": role_id(tenant_a, "read_only")})

    assert response.status_code == 403
    assert response.json()["code"] == "plan_limit_reached"
    assert f"allows {allowed} integration tokens" in response.json()["detail"]


def test_a_revoked_integration_token_is_401(api_a, tenant_a):
    created = integration(api_a, tenant_a)
    machine = ApiClient(ACME, created["token"])
    assert machine.get("/api/v1/contacts/").status_code == 200

    assert api_a.post(f"/api/v1/integration-tokens/{created['id']}/revoke/").status_code == 204

    assert machine.get("/api/v1/contacts/").status_code == 401


def test_a_sales_rep_cannot_make_integration_tokens(tenant_a):
    rep = signed_in(tenant_a, "rita@acme.example")

    response = rep.post("/api/v1/integration-tokens/", {"name": "Mine", "role": role_id(tenant_a, "admin")})

    assert response.status_code == 403


# --- rate limits -------------------------------------------------------------------------


@pytest.fixture
def plan_of_three(tenant_a):
    """Acme's plan allows 3 API requests a minute per caller (restored after)."""
    plan = Plan.objects.get(pk=tenant_a.plan_id)
    before = plan.api_requests_per_minute
    Plan.objects.filter(pk=plan.pk).update(api_requests_per_minute=3)
    yield
    Plan.objects.filter(pk=plan.pk).update(api_requests_per_minute=before)


def test_over_the_plans_requests_per_minute_answers_429_with_retry_after(api_a, plan_of_three):
    answers = [api_a.get("/api/v1/me/") for _ in range(4)]

    assert [answer.status_code for answer in answers] == [200, 200, 200, 429]
    assert answers[-1].json()["code"] == "throttled"
    assert 1 <= int(answers[-1]["Retry-After"]) <= 60


def test_an_integration_tokens_own_limit_applies(api_a, tenant_a):
    machine = ApiClient(ACME, integration(api_a, tenant_a, requests_per_minute=2)["token"])

    answers = [machine.get("/api/v1/contacts/").status_code for _ in range(3)]

    assert answers == [200, 200, 429]
    assert api_a.get("/api/v1/me/").status_code == 200  # other callers are not held back


# --- idempotency -------------------------------------------------------------------------


def test_a_retried_create_with_the_same_key_replays_the_first_answer(api_a, tenant_a):
    body = {"first_name": "Ida", "last_name": "Empotent"}

    first = api_a.post("/api/v1/contacts/", body, HTTP_IDEMPOTENCY_KEY="key-1")
    second = api_a.post("/api/v1/contacts/", body, HTTP_IDEMPOTENCY_KEY="key-1")

    assert first.status_code == second.status_code == 201
    assert second.json() == first.json()
    assert second["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first
    with inside(tenant_a):
        assert Contact.objects.filter(last_name="Empotent").count() == 1


def test_the_same_key_with_another_body_is_422(api_a, tenant_a):
    api_a.post("/api/v1/contacts/", {"first_name": "Ida"}, HTTP_IDEMPOTENCY_KEY="key-2")

    response = api_a.post("/api/v1/contacts/", {"first_name": "Other"}, HTTP_IDEMPOTENCY_KEY="key-2")

    assert response.status_code == 422
    assert response.json()["code"] == "idempotency_key_reused"
    with inside(tenant_a):
        assert not Contact.objects.filter(first_name="Other").exists()


def test_a_failed_first_attempt_does_not_block_a_corrected_retry(api_a):
    bad = api_a.post("/api/v1/contacts/", {"emails": ["not an email"]}, HTTP_IDEMPOTENCY_KEY="key-3")
    good = api_a.post("/api/v1/contacts/", {"first_name": "Fixed"}, HTTP_IDEMPOTENCY_KEY="key-3")

    assert bad.status_code == 400
    assert good.status_code == 201


@pytest.fixture
def own_workspace(committed_db):
    """A workspace of this test's own, on committed data; deleted afterwards."""
    tenant = tenant_signup(
        request=SignupRequest(
            company_name="Idem",
            slug="idem",
            admin_name="Ida Admin",
            admin_email="ida@idem.example",
            admin_password=PASSWORD,
            plan="team",
        )
    )
    try:
        yield tenant
    finally:
        connections.close_all()
        tenant_delete(tenant=tenant)


@pytest.mark.slow
def test_two_simultaneous_posts_with_one_key_create_one_contact(own_workspace):
    client = sign_in("idem.localhost:8000", "ida@idem.example")
    start = threading.Barrier(2)
    answers: list = []

    def post() -> None:
        try:
            start.wait()
            answers.append(client.post("/api/v1/contacts/", {"first_name": "Twin"}, HTTP_IDEMPOTENCY_KEY="same-key"))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=post) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(answer.status_code for answer in answers) == [201, 201]
    assert answers[0].json() == answers[1].json()
    assert sorted(answer.get("Idempotent-Replayed", "") for answer in answers) == ["", "true"]
    with inside(own_workspace):
        assert Contact.objects.filter(first_name="Twin").count() == 1
        assert User.objects.filter(email="ida@idem.example").exists()

"""The billing page on a tenant host: who may see it, what it shows, its actions and their
Idempotency-Keys (recorded on the way to localstripe)."""

from __future__ import annotations

import re
import secrets

import pytest
from django.test import Client

from accounts.models import Role, SeatType, User
from billing.models import Customer, Subscription
from tenants.models import Tenant
from tests.conftest import ALICE_EMAIL, BOB_EMAIL, PASSWORD, inside

pytestmark = pytest.mark.django_db


def signed_in(client: Client, email: str) -> Client:
    assert client.post("/login/", {"username": email, "password": PASSWORD}).status_code == 302
    return client


def token() -> str:
    return secrets.token_hex(16)


@pytest.fixture
def alice(client_a, stripe_settings) -> Client:
    return signed_in(client_a, ALICE_EMAIL)


@pytest.fixture
def bob(client_b, stripe_settings) -> Client:
    return signed_in(client_b, BOB_EMAIL)


def add_named_users(tenant: Tenant, count: int) -> None:
    with inside(tenant):
        role = Role.objects.get(code="sales_rep")
        for number in range(count):
            User.objects.create_user(
                email=f"seat{number}@{tenant.slug}.example", password=PASSWORD, full_name=f"Seat {number}",
                seat_type=SeatType.NAMED, role=role,
            )  # fmt: skip


def test_anonymous_visitors_are_sent_to_sign_in(client_a, stripe_settings):
    response = client_a.get("/billing/")

    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_people_without_the_billing_power_get_403(client_a, tenant_a, stripe_settings):
    with inside(tenant_a):
        User.objects.create_user(
            email="rep.billing@acme.example", password=PASSWORD, full_name="Rep", seat_type=SeatType.NAMED,
            role=Role.objects.get(code="sales_rep"),
        )  # fmt: skip
    signed_in(client_a, "rep.billing@acme.example")

    assert client_a.get("/billing/").status_code == 403
    assert (
        client_a.post("/billing/card/test/", {"test_card": "pm_card_visa", "request_token": token()}).status_code == 403
    )
    assert not Customer.objects.filter(tenant=tenant_a).exists()


def test_the_page_shows_plan_status_trial_and_seats(alice, synced_plans, django_assert_max_num_queries):
    with django_assert_max_num_queries(20):
        response = alice.get("/billing/")

    page = response.content.decode()
    assert response.status_code == 200
    assert 'data-test="plan">Team<' in page
    assert 'data-test="status">Trial<' in page
    assert "1 in use of 10" in page  # Alice's named seat; the Team plan's trial seats
    assert "pm_card_chargeCustomerFail" in page  # test-mode card choices


def test_a_session_from_one_workspace_means_nothing_on_another(alice, bob, tenant_b, recorder):
    # Alice's cookie was set for acme's host only; presented to globex it is unknown there.
    cookie = alice.cookies["crm_session"].value
    intruder = Client(HTTP_HOST="globex.localhost:8000")
    intruder.cookies["crm_session"] = cookie

    response = intruder.get("/billing/")

    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_another_workspaces_card_setup_is_not_found(alice, bob, tenant_a, tenant_b, recorder):
    bob.post("/billing/card/test/", {"test_card": "pm_card_visa", "request_token": token()})
    globex = Customer.objects.get(tenant=tenant_b)
    intent = [r for r in recorder.recorded if r.method == "POST" and r.url.endswith("/v1/setup_intents")][-1]
    assert globex.stripe_id in intent.body
    stolen = re.search(r"/v1/setup_intents/(seti_\w+)/confirm", " ".join(r.url for r in recorder.recorded)).group(1)

    response = alice.post("/billing/card/", {"setup_intent": stolen}, follow=True)

    assert "This card setup was not found." in response.content.decode()
    acme = Customer.objects.get(tenant=tenant_a)
    assert acme.default_payment_method == ""


def test_adding_a_test_card_then_subscribing_makes_the_workspace_active(alice, tenant_a, synced_plans, recorder):
    alice.post("/billing/card/test/", {"test_card": "pm_card_visa", "request_token": token()})

    response = alice.post("/billing/plan/", {"plan": "team", "seats": 3, "request_token": token()}, follow=True)

    page = response.content.decode()
    assert "Subscribed to Team with 3 seats" in page
    assert "Visa ending in 4242" in page
    tenant = Tenant.objects.get(pk=tenant_a.pk)
    assert (tenant.status, tenant.paid_seats, tenant.named_seats) == ("active", 3, 3)
    assert "1 in use of 3" in page


def test_a_declined_card_subscribes_nothing(alice, tenant_a, synced_plans, recorder):
    alice.post("/billing/card/test/", {"test_card": "pm_card_chargeCustomerFail", "request_token": token()})

    response = alice.post("/billing/plan/", {"plan": "team", "seats": 2, "request_token": token()}, follow=True)

    assert "The payment did not go through" in response.content.decode()
    tenant = Tenant.objects.get(pk=tenant_a.pk)
    assert (tenant.status, tenant.paid_seats) == ("trialing", None)


def test_subscribing_below_the_seats_in_use_names_how_many_to_free(alice, tenant_a, synced_plans, recorder):
    add_named_users(tenant_a, 3)  # Alice + 3 = 4 named seats in use
    alice.post("/billing/card/test/", {"test_card": "pm_card_visa", "request_token": token()})

    response = alice.post("/billing/plan/", {"plan": "team", "seats": 2, "request_token": token()}, follow=True)

    assert "4 named seats are assigned, so 2 seats are too few: free 2 seats first." in response.content.decode()
    assert not Subscription.objects.filter(customer__tenant=tenant_a).exists()


def test_a_downgrade_below_the_seats_in_use_is_refused_before_stripe_hears_of_it(
    alice, tenant_a, synced_plans, recorder
):
    alice.post("/billing/card/test/", {"test_card": "pm_card_visa", "request_token": token()})
    alice.post("/billing/plan/", {"plan": "team", "seats": 5, "request_token": token()})
    add_named_users(tenant_a, 3)
    recorder.recorded.clear()

    response = alice.post("/billing/plan/", {"plan": "team", "seats": 3, "request_token": token()}, follow=True)

    assert "free 1 seat first." in response.content.decode()
    assert recorder.writes() == []
    assert Tenant.objects.get(pk=tenant_a.pk).paid_seats == 5


def test_bad_plan_form_input_answers_field_errors_not_500(alice, synced_plans):
    response = alice.post("/billing/plan/", {"plan": "no-such-plan", "seats": "-4", "request_token": token()})

    assert response.status_code == 400
    assert response.context["plan_form"].errors.keys() == {"plan", "seats"}


def test_a_seat_change_waits_for_stripes_confirmation(alice, tenant_a, synced_plans, recorder):
    alice.post("/billing/card/test/", {"test_card": "pm_card_visa", "request_token": token()})
    alice.post("/billing/plan/", {"plan": "team", "seats": 5, "request_token": token()})

    response = alice.post("/billing/plan/", {"plan": "team", "seats": 7, "request_token": token()}, follow=True)

    assert "Requested: Team with 7 seats" in response.content.decode()
    assert Tenant.objects.get(pk=tenant_a.pk).paid_seats == 5


def test_cancel_at_period_end_and_resume_reach_stripe(alice, tenant_a, synced_plans, recorder, stripe_client):
    alice.post("/billing/card/test/", {"test_card": "pm_card_visa", "request_token": token()})
    alice.post("/billing/plan/", {"plan": "team", "seats": 2, "request_token": token()})
    subscription = Subscription.objects.get(customer__tenant=tenant_a)

    alice.post("/billing/cancel/", {"request_token": token()})
    cancelled = stripe_client.v1.subscriptions.retrieve(subscription.stripe_id)["cancel_at_period_end"]
    alice.post("/billing/resume/", {"request_token": token()})
    resumed = stripe_client.v1.subscriptions.retrieve(subscription.stripe_id)["cancel_at_period_end"]
    alice.post("/billing/refresh/")

    assert (cancelled, resumed) == (True, False)
    assert Tenant.objects.get(pk=tenant_a.pk).status == "active"


def test_every_stripe_write_of_the_page_carries_our_idempotency_key(alice, tenant_a, synced_plans, recorder):
    recorder.recorded.clear()
    alice.post("/billing/card/test/", {"test_card": "pm_card_visa", "request_token": token()})
    alice.post("/billing/plan/", {"plan": "team", "seats": 4, "request_token": token()})
    alice.post("/billing/plan/", {"plan": "business", "seats": 6, "request_token": token()})
    alice.post("/billing/cancel/", {"request_token": token()})
    alice.post("/billing/resume/", {"request_token": token()})
    alice.post("/billing/card/intent/", {"request_token": token()})

    writes = recorder.writes()
    keys = [write.headers.get("Idempotency-Key", "") for write in writes]
    assert len(writes) >= 9
    assert all(key.startswith("crm:") for key in keys), keys
    assert len(set(keys)) == len(keys)  # each operation its own key


def test_a_double_submitted_form_sends_the_same_key_twice(alice, tenant_a, synced_plans, recorder):
    alice.post("/billing/card/test/", {"test_card": "pm_card_visa", "request_token": token()})
    alice.post("/billing/plan/", {"plan": "team", "seats": 4, "request_token": token()})
    recorder.recorded.clear()
    same = token()

    alice.post("/billing/plan/", {"plan": "team", "seats": 6, "request_token": same})
    Subscription.objects.filter(customer__tenant=tenant_a).update(quantity=4)  # as if not yet confirmed
    alice.post("/billing/plan/", {"plan": "team", "seats": 6, "request_token": same})

    updates = [w.headers["Idempotency-Key"] for w in recorder.writes() if "/v1/subscriptions/" in w.url]
    assert len(updates) == 2 and updates[0] == updates[1]  # real Stripe applies it once

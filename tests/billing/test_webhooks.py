"""POST /billing/webhook/ on the public host, and processing of the stored events.

Objects live in localstripe; events it cannot emit are built in Stripe's format and
signed with the endpoint secret exactly as Stripe signs them. Processing is called in
this process here (the worker path is in test_end_to_end.py).
"""

from __future__ import annotations

import logging
import secrets
import time

import pytest

from billing import webhooks
from billing.models import Customer, EventStatus, Invoice, StatusChange, Subscription, WebhookEvent
from billing.services import card_attach_test, subscription_change, subscription_start
from tenants.models import Plan, Tenant, TenantStatus
from tests.billing.conftest import encoded, post_event, sign, stripe_event
from tests.conftest import inside

pytestmark = pytest.mark.django_db


def token() -> str:
    return secrets.token_hex(16)


def subscribe(tenant: Tenant, *, seats: int = 5, card: str = "pm_card_visa") -> Subscription:
    with inside(tenant):
        card_attach_test(tenant=tenant, test_card=card, request_token=token())
        return subscription_start(tenant=tenant, plan=Plan.objects.get(code="team"), seats=seats, request_token=token())


def process(event_id: str) -> str:
    return webhooks.event_process(event_id=WebhookEvent.objects.get(stripe_id=event_id).pk)


def remote(stripe_client, kind: str, object_id: str) -> dict:
    return getattr(stripe_client.v1, kind).retrieve(object_id).to_dict()


def fail_a_renewal(stripe_client, tenant: Tenant, subscription: Subscription) -> dict:
    """Play Stripe's part at renewal: the card now fails, the renewal invoice is charged and fails."""
    with inside(tenant):
        card_attach_test(tenant=tenant, test_card="pm_card_chargeCustomerFail", request_token=token())
    customer = Customer.objects.get(tenant=tenant)
    invoice = stripe_client.v1.invoices.create(
        params={"customer": customer.stripe_id, "subscription": subscription.stripe_id}
    )
    stripe_client.v1.invoices.pay(invoice["id"])
    return remote(stripe_client, "invoices", invoice["id"])


# -- signatures ----------------------------------------------------------------------------


def test_a_forged_signature_is_rejected_with_400_and_logged(public_client, stripe_settings, caplog):
    event = stripe_event("customer.subscription.updated", {"id": "sub_x", "object": "subscription"})
    forged = sign(encoded(event), secret="whsec_somebody_else")

    with caplog.at_level(logging.WARNING, logger="billing.views"):
        response = post_event(public_client, event, signature=forged)

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_signature"
    assert not WebhookEvent.objects.filter(stripe_id=event["id"]).exists()
    assert any("stripe webhook rejected" in record.getMessage() for record in caplog.records)


def test_an_unsigned_request_is_rejected_with_400_and_logged(public_client, stripe_settings, caplog):
    event = stripe_event("invoice.paid", {"id": "in_x", "object": "invoice"})

    with caplog.at_level(logging.WARNING, logger="billing.views"):
        response = public_client.post("/billing/webhook/", data=encoded(event), content_type="application/json")

    assert response.status_code == 400
    assert not WebhookEvent.objects.exists()
    assert any("unsigned" in record.getMessage() for record in caplog.records)


def test_a_signature_older_than_300_seconds_is_rejected(public_client, stripe_settings, caplog):
    event = stripe_event("invoice.paid", {"id": "in_x", "object": "invoice"})
    stale = sign(encoded(event), timestamp=int(time.time()) - 301)

    with caplog.at_level(logging.WARNING, logger="billing.views"):
        response = post_event(public_client, event, signature=stale)

    assert response.status_code == 400
    assert not WebhookEvent.objects.exists()
    assert any("stripe webhook rejected" in record.getMessage() for record in caplog.records)


def test_a_signature_within_the_tolerance_is_accepted(public_client, stripe_settings):
    event = stripe_event("invoice.paid", {"id": "in_x", "object": "invoice"})

    response = post_event(public_client, event, signature=sign(encoded(event), timestamp=int(time.time()) - 290))

    assert response.status_code == 200


def test_a_body_changed_after_signing_is_rejected(public_client, stripe_settings):
    event = stripe_event("invoice.paid", {"id": "in_x", "object": "invoice"})
    signature = sign(encoded(event))
    event["data"]["object"]["id"] = "in_other"

    assert post_event(public_client, event, signature=signature).status_code == 400


def test_the_webhook_is_not_served_on_a_tenant_host(client_a, stripe_settings):
    event = stripe_event("invoice.paid", {"id": "in_x", "object": "invoice"})

    assert post_event(client_a, event).status_code == 404


# -- stored once, processed once ---------------------------------------------------------


def test_an_event_is_stored_once_and_a_replay_answers_200(public_client, stripe_settings):
    event = stripe_event("invoice.paid", {"id": "in_x", "object": "invoice", "customer": "cus_nobody"})

    first = post_event(public_client, event)
    replay = post_event(public_client, event)

    assert (first.status_code, first.json()["duplicate"]) == (200, False)
    assert (replay.status_code, replay.json()["duplicate"]) == (200, True)
    assert WebhookEvent.objects.filter(stripe_id=event["id"]).count() == 1


def test_a_replayed_event_changes_nothing(public_client, recorder, synced_plans, stripe_client, tenant_a):
    subscription = subscribe(tenant_a)
    invoice = fail_a_renewal(stripe_client, tenant_a, subscription)
    event = stripe_event("invoice.payment_failed", invoice)
    post_event(public_client, event)
    assert process(event["id"]) == EventStatus.PROCESSED
    changes = StatusChange.objects.filter(tenant=tenant_a).count()
    recorder.recorded.clear()

    assert post_event(public_client, event).json()["duplicate"] is True
    assert process(event["id"]) == EventStatus.PROCESSED

    assert StatusChange.objects.filter(tenant=tenant_a).count() == changes
    assert recorder.recorded == []  # not even a read: the stored event was done
    assert WebhookEvent.objects.get(stripe_id=event["id"]).attempts == 1


def test_an_event_for_an_unknown_customer_is_stored_and_ignored(public_client, recorder):
    event = stripe_event(
        "customer.subscription.updated",
        {"id": "sub_unknown", "object": "subscription", "customer": "cus_not_ours", "status": "past_due"},
    )

    assert post_event(public_client, event).status_code == 200
    assert process(event["id"]) == EventStatus.IGNORED

    stored = WebhookEvent.objects.get(stripe_id=event["id"])
    assert stored.status == EventStatus.IGNORED and stored.tenant is None and stored.error == ""
    assert recorder.recorded == []


def test_updated_before_created_ends_in_stripes_current_state(
    public_client, recorder, synced_plans, stripe_client, tenant_a
):
    subscription = subscribe(tenant_a, seats=5)
    created_payload = remote(stripe_client, "subscriptions", subscription.stripe_id)
    with inside(tenant_a):
        subscription_change(tenant=tenant_a, plan=Plan.objects.get(code="team"), seats=7, request_token=token())
    updated_payload = remote(stripe_client, "subscriptions", subscription.stripe_id)
    now = int(time.time())
    created = stripe_event("customer.subscription.created", created_payload, created=now - 60)
    updated = stripe_event("customer.subscription.updated", updated_payload, created=now)
    assert Tenant.objects.get(pk=tenant_a.pk).paid_seats == 5  # asked, not yet confirmed

    post_event(public_client, updated)
    process(updated["id"])
    post_event(public_client, created)
    process(created["id"])

    assert Tenant.objects.get(pk=tenant_a.pk).paid_seats == 7
    mirrored = Subscription.objects.get(stripe_id=subscription.stripe_id)
    assert (mirrored.quantity, mirrored.pending_quantity) == (7, None)


def test_a_failed_payment_makes_the_workspace_past_due_and_emails_the_owner(
    public_client, recorder, synced_plans, stripe_client, tenant_a, mailoutbox, django_capture_on_commit_callbacks
):
    subscription = subscribe(tenant_a)
    invoice = fail_a_renewal(stripe_client, tenant_a, subscription)
    event = stripe_event("invoice.payment_failed", invoice)
    post_event(public_client, event)

    with django_capture_on_commit_callbacks(execute=True):
        process(event["id"])

    tenant = Tenant.objects.get(pk=tenant_a.pk)
    assert tenant.status == TenantStatus.PAST_DUE and tenant.dunning_started_at is not None
    assert Invoice.objects.get(stripe_id=invoice["id"]).payment_failed_at is not None
    assert [message.to for message in mailoutbox] == [[tenant.owner_email]]
    assert "Payment failed" in mailoutbox[0].subject


def test_a_deleted_customer_leaves_the_workspace_read_only_with_its_data(
    public_client, recorder, synced_plans, stripe_client, tenant_a
):
    subscription = subscribe(tenant_a)
    customer = Customer.objects.get(tenant=tenant_a)
    deleted = stripe_client.v1.customers.delete(customer.stripe_id).to_dict()
    event = stripe_event("customer.deleted", deleted)
    post_event(public_client, event)

    process(event["id"])

    assert Customer.objects.get(pk=customer.pk).deleted_at is not None
    assert Subscription.objects.get(pk=subscription.pk).status == "canceled"
    assert Tenant.objects.get(pk=tenant_a.pk).status == TenantStatus.READ_ONLY
    with inside(tenant_a):
        from accounts.models import User

        assert User.objects.exists()  # nothing deleted for billing reasons


def test_an_attached_payment_method_shows_as_the_card_on_file(
    public_client, recorder, synced_plans, stripe_client, tenant_a
):
    subscribe(tenant_a)
    customer = Customer.objects.get(tenant=tenant_a)
    method = stripe_client.v1.payment_methods.retrieve("pm_card_chargeCustomerFail")
    stripe_client.v1.payment_methods.attach(method["id"], params={"customer": customer.stripe_id})
    stripe_client.v1.customers.update(
        customer.stripe_id, params={"invoice_settings": {"default_payment_method": method["id"]}}
    )
    event = stripe_event("payment_method.attached", remote(stripe_client, "payment_methods", method["id"]))
    post_event(public_client, event)

    process(event["id"])

    customer.refresh_from_db()
    assert (customer.default_payment_method, customer.card_last4) == (method["id"], "0341")


def test_trial_will_end_reminds_the_owner(
    public_client, recorder, synced_plans, stripe_client, tenant_a, mailoutbox, django_capture_on_commit_callbacks
):
    subscription = subscribe(tenant_a)
    event = stripe_event(
        "customer.subscription.trial_will_end", remote(stripe_client, "subscriptions", subscription.stripe_id)
    )
    post_event(public_client, event)

    with django_capture_on_commit_callbacks(execute=True):
        process(event["id"])

    assert len(mailoutbox) == 1 and "trial" in mailoutbox[0].subject


def test_a_failing_stripe_read_marks_the_event_failed_for_a_retry(
    public_client, recorder, synced_plans, stripe_client, tenant_a, settings
):
    subscription = subscribe(tenant_a)
    event = stripe_event(
        "customer.subscription.updated", remote(stripe_client, "subscriptions", subscription.stripe_id)
    )
    post_event(public_client, event)
    reachable = settings.STRIPE_API_BASE
    settings.STRIPE_API_BASE = "http://127.0.0.1:9"  # nothing listens: Stripe is "down"

    with pytest.raises(Exception, match=r"(?i)connect"):
        process(event["id"])

    stored = WebhookEvent.objects.get(stripe_id=event["id"])
    assert stored.status == EventStatus.FAILED and stored.attempts == 1 and stored.error
    settings.STRIPE_API_BASE = reachable
    assert process(event["id"]) == EventStatus.PROCESSED

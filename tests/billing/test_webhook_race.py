"""Two workers handed the same Stripe event at the same moment: one effect (committed data, real threads)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from billing import webhooks
from billing.models import EventStatus, StatusChange, WebhookEvent
from tenants.models import Tenant, TenantStatus
from tests.billing.conftest import stripe_event
from tests.billing.test_webhooks import fail_a_renewal, subscribe
from tests.conftest import PASSWORD


@pytest.mark.slow
def test_two_workers_processing_the_same_event_at_once_produce_one_effect(
    committed_db, recorder, stripe_client, settings, mailoutbox
):
    from billing.services import plans_sync
    from tenants.services import SignupRequest, tenant_delete, tenant_signup

    plans_sync()
    tenant = tenant_signup(
        request=SignupRequest(
            company_name="Race Ltd", slug="billing-race", admin_name="Rae Race", admin_email="rae@race.example",
            admin_password=PASSWORD, plan="team",
        )
    )  # fmt: skip
    try:
        subscription = subscribe(tenant)
        invoice = fail_a_renewal(stripe_client, tenant, subscription)
        event = stripe_event("invoice.payment_failed", invoice)
        stored, _ = webhooks.event_record(data=event)
        changes_before = StatusChange.objects.filter(tenant=tenant).count()
        recorder.recorded.clear()
        mailoutbox.clear()
        barrier = threading.Barrier(2)
        outcomes, errors = [], []

        def worker():
            try:
                barrier.wait(timeout=10)
                outcomes.append(webhooks.event_process(event_id=stored.pk))
            except Exception as error:  # pragma: no cover - reported below
                errors.append(error)
            finally:
                connection.close()

        threads = [threading.Thread(target=worker) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)

        assert errors == []
        assert outcomes == [EventStatus.PROCESSED, EventStatus.PROCESSED]
        assert StatusChange.objects.filter(tenant=tenant).count() == changes_before + 1
        assert Tenant.objects.get(pk=tenant.pk).status == TenantStatus.PAST_DUE
        assert WebhookEvent.objects.get(pk=stored.pk).attempts == 1
        subscription_reads = [r for r in recorder.recorded if r.method == "GET" and "/v1/subscriptions/" in r.url]
        assert len(subscription_reads) == 1  # the second worker found the event done
        assert len(mailoutbox) == 1
    finally:
        connection.set_schema_to_public()
        WebhookEvent.objects.filter(tenant=tenant).delete()
        tenant_delete(tenant=Tenant.objects.get(pk=tenant.pk))

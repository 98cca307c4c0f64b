"""Plan → Stripe product and legacy plan, against localstripe."""

from __future__ import annotations

from decimal import Decimal

import pytest

from billing.models import StripePlan
from billing.services import plans_sync
from tenants.models import Plan

pytestmark = pytest.mark.django_db


def test_every_priced_plan_gets_a_stripe_product_and_monthly_plan(recorder, stripe_client):
    records = plans_sync()

    priced = set(Plan.objects.filter(price_per_seat__gt=0).values_list("code", flat=True))
    assert {record.plan.code for record in records} == priced
    team = StripePlan.objects.get(plan__code="team", is_current=True)
    remote = stripe_client.v1.plans.retrieve(team.stripe_plan_id)
    assert (remote["amount"], remote["currency"], remote["interval"]) == (2500, "usd", "month")
    assert remote["product"] == team.stripe_product_id
    assert not StripePlan.objects.filter(plan__code="free").exists()


def test_second_sync_only_reads(recorder):
    plans_sync()
    recorder.recorded.clear()

    plans_sync()

    assert recorder.recorded, "the second run still checks Stripe"
    assert recorder.writes() == []


def test_a_new_price_gets_a_new_stripe_plan_and_keeps_the_old_mapping(recorder):
    plans_sync()
    old = StripePlan.objects.get(plan__code="team", is_current=True)
    Plan.objects.filter(code="team").update(price_per_seat=Decimal("27.50"))

    plans_sync()

    new = StripePlan.objects.get(plan__code="team", is_current=True)
    assert new.stripe_plan_id != old.stripe_plan_id
    assert new.unit_amount == 2750
    old.refresh_from_db()
    assert old.is_current is False and old.plan.code == "team"


def test_every_sync_write_carries_our_idempotency_key(recorder, settings):
    Plan.objects.filter(code="business").update(price_per_seat=Decimal("51.00"))

    plans_sync()

    writes = recorder.writes()
    assert writes, "a new price must be written to Stripe"
    assert all(
        write.headers.get("Idempotency-Key", "").startswith("crm:plan-create:")
        or write.headers.get("Idempotency-Key", "").startswith("crm:product-")
        for write in writes
    )

"""Paid seats, once Stripe confirmed them, replace the plan's trial seats in the seat capacity."""

from __future__ import annotations

from accounts.seats import seat_capacity
from tenants.models import Tenant
from tests.conftest import inside


def test_paid_seats_replace_the_plans_trial_seats_and_staff_grants_add_on_top(tenant_a):
    Tenant.objects.filter(pk=tenant_a.pk).update(paid_seats=3, extra_named_seats=2)

    with inside(Tenant.objects.get(pk=tenant_a.pk)):
        capacity = seat_capacity()

    assert capacity.named == 5


def test_without_a_subscription_the_plan_seats_apply(tenant_a):
    with inside(tenant_a):
        capacity = seat_capacity()

    assert capacity.named == tenant_a.plan.named_seats + tenant_a.extra_named_seats

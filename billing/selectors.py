"""Reads for the billing page, the API and the platform admin."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db import connection
from django.db.models import Count, Q, QuerySet

from accounts.seats import seat_overview
from billing.dunning import dunning_for, retention_until
from billing.models import Customer, Invoice, StripePlan, Subscription
from billing.status import LIVE_STATUSES, read_only_at, suspended_at
from tenants.models import Plan, Tenant, TenantStatus


@dataclass(frozen=True)
class NextInvoice:
    date: datetime
    amount: Decimal
    currency: str


@dataclass(frozen=True)
class BillingOverview:
    tenant: Tenant
    plan: Plan
    status: str
    trial_ends_at: datetime | None
    seats_paid: int
    seats_used: int
    customer: Customer | None
    subscription: Subscription | None
    next_invoice: NextInvoice | None
    read_only_at: datetime | None
    suspended_at: datetime | None
    retention_until: datetime | None
    invoices: list[Invoice]

    @property
    def subscribed(self) -> bool:
        return self.subscription is not None and self.subscription.status in LIVE_STATUSES

    @property
    def seats_to_free(self) -> int:
        return max(0, self.seats_used - self.seats_paid)


def _current_subscription(tenant: Tenant) -> Subscription | None:
    return (
        Subscription.objects.filter(customer__tenant=tenant)
        .select_related("plan", "pending_plan")
        .order_by("-stripe_created", "-id")
        .first()
    )


def seats_used() -> int:
    """Named seats assigned in the current workspace (read in its own schema)."""
    return seat_overview().named_assigned


def billing_overview(*, tenant: Tenant) -> BillingOverview:
    """Everything the billing page shows, read from our mirror (no call to Stripe)."""
    assert connection.schema_name == tenant.schema_name, "seat counts are read inside the workspace"
    tenant = Tenant.objects.select_related("plan").get(pk=tenant.pk)
    customer = Customer.objects.filter(tenant=tenant).first()
    subscription = _current_subscription(tenant)
    next_invoice = None
    if (
        subscription is not None
        and subscription.status in LIVE_STATUSES
        and not subscription.cancel_at_period_end
        and subscription.current_period_end is not None
    ):
        next_invoice = NextInvoice(
            subscription.current_period_end, subscription.monthly_amount, subscription.currency.upper()
        )
    started = tenant.dunning_started_at
    dunning = dunning_for(tenant)
    return BillingOverview(
        tenant=tenant,
        plan=tenant.plan,
        status=tenant.status,
        trial_ends_at=tenant.trial_ends_at,
        seats_paid=tenant.named_seats,
        seats_used=seats_used(),
        customer=customer,
        subscription=subscription,
        next_invoice=next_invoice,
        read_only_at=read_only_at(dunning_started_at=started, dunning=dunning) if started else None,
        suspended_at=suspended_at(dunning_started_at=started, dunning=dunning) if started else None,
        retention_until=retention_until(tenant) if tenant.status == TenantStatus.SUSPENDED else None,
        invoices=list(Invoice.objects.filter(customer__tenant=tenant).exclude(status="draft")[:24]),
    )


def billing_summary(*, tenant: Tenant) -> dict:
    """What GET /api/v1/billing/ answers: plan, status, seats paid and used, trial end."""
    overview = billing_overview(tenant=tenant)
    subscription = overview.subscription
    return {
        "plan": {"code": overview.plan.code, "name": overview.plan.name},
        "status": overview.status,
        "seats": {"paid": overview.seats_paid, "used": overview.seats_used},
        "trial_ends_at": overview.trial_ends_at,
        "read_only_at": overview.read_only_at if overview.status == TenantStatus.PAST_DUE else None,
        "subscription": None
        if subscription is None
        else {
            "status": subscription.status,
            "quantity": subscription.quantity,
            "current_period_end": subscription.current_period_end,
            "cancel_at_period_end": subscription.cancel_at_period_end,
            "pending_quantity": subscription.pending_quantity,
        },
    }


def plans_for_sale() -> QuerySet[Plan]:
    """Priced public plans that exist in Stripe (the billing page's choices)."""
    on_sale = StripePlan.objects.filter(is_current=True).values("plan_id")
    return Plan.objects.filter(is_public=True, price_per_seat__gt=0, pk__in=on_sale).order_by("sort_order", "code")


@dataclass(frozen=True)
class PlatformFigures:
    by_status: dict[str, int]
    mrr: dict[str, Decimal]
    failed_payments_30d: int
    open_failed_invoices: int


def platform_figures(*, since: datetime) -> PlatformFigures:
    """Staff's view: workspaces per status, monthly recurring revenue per currency, failed payments."""
    by_status = dict(
        Tenant.objects.exclude(schema_name="public").values_list("status").annotate(n=Count("pk")).order_by()
    )
    mrr: dict[str, Decimal] = defaultdict(Decimal)
    # MRR counts subscriptions being paid or retried (active, past_due), not trials or unpaid ones.
    for subscription in Subscription.objects.filter(status__in=["active", "past_due"]).only(
        "quantity", "unit_amount", "currency"
    ):
        mrr[subscription.currency.upper()] += subscription.monthly_amount
    failures = Invoice.objects.aggregate(
        recent=Count("pk", filter=Q(payment_failed_at__gte=since)),
        open_failed=Count("pk", filter=Q(payment_failed_at__isnull=False, status="open")),
    )
    return PlatformFigures(by_status, dict(mrr), failures["recent"], failures["open_failed"])

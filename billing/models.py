"""The Stripe mirror (public schema): what Stripe last told us, never ahead of it.

Writes come from billing.services (our own requests to Stripe, read back) and from
webhooks (billing.webhooks), which re-read the object from Stripe rather than trusting
an event's copy, so duplicate and out-of-order deliveries converge on Stripe's state.
"""

from __future__ import annotations

from decimal import Decimal

from django.db import models
from django.utils.translation import gettext_lazy as _

from tenants.models import Plan, Tenant, TimeStamped


class StripePlan(TimeStamped):
    """One Stripe product/plan pair for one of our plans at one price.

    Stripe prices are immutable, so a price change gets a new Stripe plan id; old rows
    stay so subscriptions on the old price still map back to our plan.
    """

    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="stripe_plans")
    stripe_product_id = models.CharField(max_length=255)
    stripe_plan_id = models.CharField(max_length=255, unique=True)
    unit_amount = models.PositiveIntegerField(help_text="Minor units (cents) per seat and month.")
    currency = models.CharField(max_length=3)
    is_current = models.BooleanField(default=True)

    class Meta:
        ordering = ["plan_id", "-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["plan"], condition=models.Q(is_current=True), name="one_current_stripe_plan"
            )
        ]

    def __str__(self) -> str:
        return self.stripe_plan_id


class Customer(TimeStamped):
    """The Stripe customer of one workspace, with the card on file as Stripe reports it."""

    tenant = models.OneToOneField(Tenant, on_delete=models.CASCADE, related_name="billing_customer")
    stripe_id = models.CharField(max_length=255, unique=True)
    email = models.EmailField(blank=True)
    card_brand = models.CharField(max_length=20, blank=True)
    card_last4 = models.CharField(max_length=4, blank=True)
    card_exp_month = models.PositiveSmallIntegerField(null=True, blank=True)
    card_exp_year = models.PositiveSmallIntegerField(null=True, blank=True)
    default_payment_method = models.CharField(max_length=255, blank=True)
    deleted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["tenant_id"]

    def __str__(self) -> str:
        return self.stripe_id

    @property
    def has_card(self) -> bool:
        return bool(self.default_payment_method)


class Subscription(TimeStamped):
    """A Stripe subscription of a customer: one item, quantity = paid named seats."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="subscriptions")
    stripe_id = models.CharField(max_length=255, unique=True)
    status = models.CharField(max_length=24)
    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    stripe_plan_id = models.CharField(max_length=255, blank=True)
    item_id = models.CharField(max_length=255, blank=True)
    quantity = models.PositiveIntegerField(default=0)
    unit_amount = models.PositiveIntegerField(default=0)
    currency = models.CharField(max_length=3, blank=True)
    current_period_end = models.DateTimeField(null=True, blank=True)
    cancel_at_period_end = models.BooleanField(default=False)
    trial_end = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    # A change we asked Stripe for and it has not confirmed yet (shown on the billing page).
    pending_plan = models.ForeignKey(Plan, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    pending_quantity = models.PositiveIntegerField(null=True, blank=True)
    stripe_created = models.DateTimeField()
    synced_at = models.DateTimeField()

    class Meta:
        ordering = ["-stripe_created", "-id"]

    def __str__(self) -> str:
        return f"{self.stripe_id} ({self.status})"

    @property
    def monthly_amount(self) -> Decimal:
        return Decimal(self.unit_amount * self.quantity) / 100


class InvoiceStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    OPEN = "open", _("Open")
    PAID = "paid", _("Paid")
    VOID = "void", _("Void")
    UNCOLLECTIBLE = "uncollectible", _("Uncollectible")


class Invoice(TimeStamped):
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="invoices")
    stripe_id = models.CharField(max_length=255, unique=True)
    subscription_stripe_id = models.CharField(max_length=255, blank=True)
    number = models.CharField(max_length=64, blank=True)
    status = models.CharField(max_length=16, choices=InvoiceStatus.choices)
    amount_due = models.PositiveIntegerField(default=0)
    amount_paid = models.PositiveIntegerField(default=0)
    currency = models.CharField(max_length=3)
    attempt_count = models.PositiveIntegerField(default=0)
    payment_failed_at = models.DateTimeField(null=True, blank=True)
    hosted_invoice_url = models.URLField(max_length=1000, blank=True)
    invoice_pdf = models.URLField(max_length=1000, blank=True)
    stripe_created = models.DateTimeField()

    class Meta:
        ordering = ["-stripe_created", "-id"]
        indexes = [models.Index(fields=["payment_failed_at"], name="billing_invoice_failed")]

    def __str__(self) -> str:
        return self.number or self.stripe_id

    @property
    def total(self) -> Decimal:
        return Decimal(self.amount_due) / 100


class EventStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    PROCESSED = "processed", _("Processed")
    IGNORED = "ignored", _("Ignored")
    FAILED = "failed", _("Failed")


class WebhookEvent(TimeStamped):
    """Every verified Stripe event, stored once (unique Stripe id) before it is processed."""

    stripe_id = models.CharField(max_length=255, unique=True)
    type = models.CharField(max_length=100)
    stripe_created = models.DateTimeField()
    livemode = models.BooleanField(default=False)
    payload = models.JSONField()
    status = models.CharField(max_length=10, choices=EventStatus.choices, default=EventStatus.PENDING)
    tenant = models.ForeignKey(Tenant, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    attempts = models.PositiveIntegerField(default=0)
    processed_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-stripe_created", "-id"]
        indexes = [models.Index(fields=["status", "stripe_created"], name="billing_event_status")]

    def __str__(self) -> str:
        return f"{self.type} {self.stripe_id}"


class StatusChange(TimeStamped):
    """The audit trail of a workspace's billing status: one row per transition."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="billing_status_changes")
    from_status = models.CharField(max_length=12)
    to_status = models.CharField(max_length=12)
    reason = models.CharField(max_length=100)
    event = models.ForeignKey(WebhookEvent, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    at = models.DateTimeField()

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.tenant_id}: {self.from_status} → {self.to_status}"

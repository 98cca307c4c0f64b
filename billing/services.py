"""Writes to Stripe and to our mirror of it.

Rules every function here keeps:
- every Stripe write carries an Idempotency-Key naming the operation and the person's
  form token (billing.stripe_api), so a double click or a retry never charges twice;
- seats and plan change in our database only when Stripe confirms them: a new
  subscription from its creation answer, changes from the webhook that follows (which
  re-reads the subscription, see billing.webhooks); paying re-reads at once, so access
  comes back the moment Stripe says the invoice is paid;
- fewer paid seats than named seats in use is refused, naming how many seats to free.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import stripe
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.seats import seat_overview
from billing import stripe_api
from billing.dunning import tenant_billing_apply
from billing.errors import (
    BillingError,
    CardRefused,
    NoPaymentMethod,
    NoSubscription,
    PlanNotAvailable,
    SeatsInUse,
)
from billing.models import Customer, Invoice, StripePlan, Subscription
from billing.status import LIVE_STATUSES
from tenants.models import Plan, Tenant

logger = logging.getLogger(__name__)

# Stripe's canonical test payment methods (they work in Stripe's test mode and on
# localstripe): 4242 4242 4242 4242 and 4000 0000 0000 0341 (attaches, then fails to charge).
TEST_CARDS = {
    "pm_card_visa": "4242 4242 4242 4242",
    "pm_card_chargeCustomerFail": "4000 0000 0000 0341",
}


def _stamp(value: int | None) -> datetime | None:
    return datetime.fromtimestamp(value, tz=UTC) if value else None


def _stripe_failure(error: stripe.StripeError) -> BillingError:
    if isinstance(error, stripe.CardError):
        return CardRefused(error.user_message or _("The card was declined."))
    logger.warning("stripe request failed", extra={"stripe_error": type(error).__name__})
    return BillingError(
        _("The payment service did not answer. Nothing was changed; please try again in a minute."),
        code="stripe_unavailable",
    )


# -- plans --------------------------------------------------------------------------


def plans_sync() -> list[StripePlan]:
    """Make every priced plan exist in Stripe as a product and a monthly per-seat plan.

    Idempotent: a second run only reads (GETs) unless a name or a price changed. Stripe
    prices are immutable, so a new price gets a new Stripe plan id
    (`crm-<code>-<amount><currency>-month`); the old one stays mapped to our plan for the
    subscriptions still on it. Free plans need no Stripe plan.
    """
    client = stripe_api.client()
    synced = []
    for plan in Plan.objects.filter(price_per_seat__gt=0).order_by("sort_order", "code"):
        amount = int(plan.price_per_seat * 100)
        currency = plan.currency.lower()
        product_id = f"crm-{plan.code}"
        plan_id = f"crm-{plan.code}-{amount}{currency}-month"
        product = _retrieve_or_none(client.v1.products.retrieve, product_id)
        if product is None:
            client.v1.products.create(
                params={"id": product_id, "name": plan.name, "metadata": {"crm_plan": plan.code}},
                options=stripe_api.write_options("product-create", product_id),
            )
        elif product.get("name") != plan.name:
            client.v1.products.update(
                product_id,
                params={"name": plan.name},
                options=stripe_api.write_options("product-rename", product_id, plan.name),
            )
        if _retrieve_or_none(client.v1.plans.retrieve, plan_id) is None:
            client.v1.plans.create(
                params={
                    "id": plan_id,
                    "product": product_id,
                    "amount": amount,
                    "currency": currency,
                    "interval": "month",
                    "nickname": f"{plan.name} per seat",
                    "metadata": {"crm_plan": plan.code},
                },
                options=stripe_api.write_options("plan-create", plan_id),
            )
        synced.append(_stripe_plan_record(plan=plan, product_id=product_id, plan_id=plan_id, amount=amount))
    return synced


def _retrieve_or_none(retrieve, object_id: str):
    try:
        return stripe_api.as_dict(retrieve(object_id))
    except stripe.InvalidRequestError as error:
        if error.http_status == 404:
            return None
        raise


@transaction.atomic
def _stripe_plan_record(*, plan: Plan, product_id: str, plan_id: str, amount: int) -> StripePlan:
    StripePlan.objects.filter(plan=plan, is_current=True).exclude(stripe_plan_id=plan_id).update(is_current=False)
    record, _ = StripePlan.objects.update_or_create(
        stripe_plan_id=plan_id,
        defaults={
            "plan": plan,
            "stripe_product_id": product_id,
            "unit_amount": amount,
            "currency": plan.currency.lower(),
            "is_current": True,
        },
    )
    return record


def _current_stripe_plan(plan: Plan) -> StripePlan:
    stripe_plan = StripePlan.objects.filter(plan=plan, is_current=True).first()
    if stripe_plan is None or plan.is_free:
        raise PlanNotAvailable(_("The plan %(plan)s cannot be bought online yet.") % {"plan": plan.name})
    return stripe_plan


# -- customer and card --------------------------------------------------------------


def customer_ensure(*, tenant: Tenant) -> Customer:
    """The workspace's Stripe customer, created once (the tenant row is locked meanwhile)."""
    with transaction.atomic():
        locked = Tenant.objects.select_for_update().get(pk=tenant.pk)
        customer = Customer.objects.filter(tenant=locked).first()
        if customer is not None and customer.deleted_at is None:
            return customer
        previous = customer.stripe_id if customer is not None else ""
        try:
            created = stripe_api.client().v1.customers.create(
                params={
                    "email": locked.owner_email,
                    "name": locked.name,
                    "metadata": {"crm_tenant": locked.slug, "crm_tenant_id": str(locked.pk)},
                },
                # Deterministic: a retry can never make a second customer for the workspace.
                options=stripe_api.write_options("customer-create", locked.pk, previous),
            )
        except stripe.StripeError as error:
            raise _stripe_failure(error) from error
        if customer is None:
            customer = Customer(tenant=locked)
        customer.stripe_id = created["id"]
        customer.email = created["email"] or ""
        customer.deleted_at = None
        customer.default_payment_method = ""
        customer.card_brand = customer.card_last4 = ""
        customer.card_exp_month = customer.card_exp_year = None
        customer.save()
        return customer


def card_setup_intent_create(*, tenant: Tenant, request_token: str) -> str:
    """A SetupIntent for Stripe.js Elements; returns its client secret (the card never reaches us)."""
    customer = customer_ensure(tenant=tenant)
    try:
        intent = stripe_api.client().v1.setup_intents.create(
            params={"customer": customer.stripe_id, "usage": "off_session", "payment_method_types": ["card"]},
            options=stripe_api.write_options("setup-intent", customer.stripe_id, request_token),
        )
    except stripe.StripeError as error:
        raise _stripe_failure(error) from error
    return intent["client_secret"]


def card_save_from_setup_intent(*, tenant: Tenant, setup_intent_id: str, now: datetime | None = None) -> Customer:
    """Make the card a confirmed SetupIntent collected the workspace's default, then pay what is due.

    The SetupIntent must belong to this workspace's customer (another workspace's intent
    is refused as not found). Open invoices are retried at once with the new card, so a
    read-only workspace gets its access back the moment the payment goes through.
    """
    customer = customer_ensure(tenant=tenant)
    client = stripe_api.client()
    try:
        intent = stripe_api.as_dict(client.v1.setup_intents.retrieve(setup_intent_id))
    except stripe.InvalidRequestError as error:
        raise BillingError(_("This card setup was not found."), code="not_found") from error
    except stripe.StripeError as error:
        raise _stripe_failure(error) from error
    if intent.get("customer") != customer.stripe_id:
        raise BillingError(_("This card setup was not found."), code="not_found")
    if intent.get("status") != "succeeded" or not intent.get("payment_method"):
        raise CardRefused(_("The card could not be confirmed. Try again or use another card."))
    payment_method_id = intent["payment_method"]
    if not isinstance(payment_method_id, str):
        payment_method_id = payment_method_id["id"]
    try:
        method = stripe_api.as_dict(client.v1.payment_methods.retrieve(payment_method_id))
        if method.get("customer") != customer.stripe_id:
            client.v1.payment_methods.attach(
                payment_method_id,
                params={"customer": customer.stripe_id},
                options=stripe_api.write_options("payment-method-attach", payment_method_id, customer.stripe_id),
            )
        client.v1.customers.update(
            customer.stripe_id,
            params={"invoice_settings": {"default_payment_method": payment_method_id}},
            options=stripe_api.write_options("customer-default-card", customer.stripe_id, payment_method_id),
        )
    except stripe.StripeError as error:
        raise _stripe_failure(error) from error
    customer = customer_sync(customer=customer)
    _pay_open_invoices(customer=customer, payment_method_id=payment_method_id, now=now or timezone.now())
    return customer


def card_attach_test(*, tenant: Tenant, test_card: str, request_token: str) -> Customer:
    """Test mode only: confirm a SetupIntent server-side with one of Stripe's test cards.

    Does what Stripe.js does in the browser (confirm the SetupIntent with a card), then
    the same server path as a real card. Refused with live keys.
    """
    if not stripe_api.test_mode() or test_card not in TEST_CARDS:
        raise BillingError(_("Test cards are available with test keys only."), code="test_mode_only")
    customer = customer_ensure(tenant=tenant)
    client = stripe_api.client()
    try:
        intent = client.v1.setup_intents.create(
            params={"customer": customer.stripe_id, "usage": "off_session", "payment_method_types": ["card"]},
            options=stripe_api.write_options("setup-intent", customer.stripe_id, request_token),
        )
        client.v1.setup_intents.confirm(
            intent["id"],
            params={"payment_method": test_card},
            options=stripe_api.write_options("setup-intent-confirm", intent["id"]),
        )
    except stripe.StripeError as error:
        raise _stripe_failure(error) from error
    return card_save_from_setup_intent(tenant=tenant, setup_intent_id=intent["id"])


def customer_sync(*, customer: Customer) -> Customer:
    """Re-read the customer and its default card from Stripe (a deleted customer is marked so)."""
    client = stripe_api.client()
    try:
        remote = stripe_api.as_dict(client.v1.customers.retrieve(customer.stripe_id))
    except stripe.InvalidRequestError as error:
        if error.http_status != 404:
            raise
        remote = {"deleted": True}
    if remote.get("deleted"):
        if customer.deleted_at is None:
            customer.deleted_at = timezone.now()
            customer.save(update_fields=["deleted_at", "updated_at"])
        return customer
    method_id = (remote.get("invoice_settings") or {}).get("default_payment_method") or ""
    if not isinstance(method_id, str):
        method_id = method_id["id"]
    card = {}
    if method_id:
        card = stripe_api.as_dict(client.v1.payment_methods.retrieve(method_id)).get("card") or {}
    customer.email = remote.get("email") or ""
    customer.default_payment_method = method_id
    customer.card_brand = card.get("brand") or ""
    customer.card_last4 = card.get("last4") or ""
    customer.card_exp_month = card.get("exp_month")
    customer.card_exp_year = card.get("exp_year")
    customer.save()
    return customer


def _pay_open_invoices(*, customer: Customer, payment_method_id: str, now: datetime) -> None:
    client = stripe_api.client()
    invoices = stripe_api.as_dict(client.v1.invoices.list(params={"customer": customer.stripe_id, "limit": 20}))
    subscriptions = set()
    for invoice in invoices.get("data", []):
        if invoice.get("status") != "open":
            continue
        try:
            client.v1.invoices.pay(
                invoice["id"],
                options=stripe_api.write_options("invoice-pay", invoice["id"], payment_method_id),
            )
        except stripe.CardError as error:
            logger.info("retrying an open invoice failed", extra={"invoice": invoice["id"], "code": error.code})
        invoice_sync(stripe_id=invoice["id"])
        if invoice.get("subscription"):
            subscriptions.add(invoice["subscription"])
    for subscription_id in subscriptions:
        subscription_sync(stripe_id=subscription_id, now=now, reason="invoice paid")


# -- subscriptions -----------------------------------------------------------------


def _require_seats(*, tenant: Tenant, seats: int) -> None:
    """Refuse fewer paid seats than named seats in use (read in the tenant's own schema)."""
    assert connection.schema_name == tenant.schema_name, "seat counts are read inside the workspace"
    if seats < 1:
        raise SeatsInUse(_("Choose at least one seat."), to_free=0)
    in_use = seat_overview().named_assigned
    capacity = seats + tenant.extra_named_seats
    if in_use > capacity:
        to_free = in_use - capacity
        raise SeatsInUse(
            ngettext(
                "%(in_use)d named seats are assigned, so %(seats)d seats are too few: free %(count)d seat first.",
                "%(in_use)d named seats are assigned, so %(seats)d seats are too few: free %(count)d seats first.",
                to_free,
            )
            % {"in_use": in_use, "seats": seats, "count": to_free},
            to_free=to_free,
        )


def subscription_current(*, tenant: Tenant) -> Subscription | None:
    """The workspace's most recent subscription (live or not), or None."""
    return (
        Subscription.objects.filter(customer__tenant=tenant)
        .select_related("plan", "customer")
        .order_by("-stripe_created", "-id")
        .first()
    )


def subscription_start(*, tenant: Tenant, plan: Plan, seats: int, request_token: str) -> Subscription:
    """Subscribe the workspace to `plan` for `seats` named seats, charged now to the card on file.

    The trial ends with the first payment. The subscription is stored from Stripe's
    answer: paid → active at once; a declined card leaves it `incomplete` and raises
    CardRefused (nothing is granted).
    """
    _require_seats(tenant=tenant, seats=seats)
    stripe_plan = _current_stripe_plan(plan)
    current = subscription_current(tenant=tenant)
    if current is not None and current.status in LIVE_STATUSES:
        raise BillingError(_("This workspace already has a subscription; change it instead."), code="subscribed")
    customer = customer_ensure(tenant=tenant)
    if not customer.has_card:
        raise NoPaymentMethod(_("Add a card before choosing a plan."))
    try:
        created = stripe_api.client().v1.subscriptions.create(
            params={
                "customer": customer.stripe_id,
                "items": [{"plan": stripe_plan.stripe_plan_id, "quantity": seats}],
                "metadata": {"crm_tenant": tenant.slug},
            },
            options=stripe_api.write_options("subscription-create", customer.stripe_id, request_token),
        )
    except stripe.StripeError as error:
        raise _stripe_failure(error) from error
    subscription = subscription_store(remote=stripe_api.as_dict(created), now=timezone.now(), reason="subscribed")
    assert subscription is not None
    invoices_sync(customer=customer)
    if subscription.status not in ("active", "trialing"):
        raise CardRefused(_("The payment did not go through. Check the card or add another one."))
    return subscription


def subscription_change(*, tenant: Tenant, plan: Plan, seats: int, request_token: str) -> Subscription:
    """Ask Stripe to move the subscription to `plan` with `seats` seats (prorated by Stripe's default).

    Our seats and plan do not change here: they follow when Stripe confirms the change
    (customer.subscription.updated → re-read). The request is remembered as pending so
    the billing page can say so. Fewer seats than those in use are refused.
    """
    _require_seats(tenant=tenant, seats=seats)
    stripe_plan = _current_stripe_plan(plan)
    subscription = subscription_current(tenant=tenant)
    if subscription is None or subscription.status not in LIVE_STATUSES:
        raise NoSubscription(_("This workspace has no subscription to change."))
    if subscription.stripe_plan_id == stripe_plan.stripe_plan_id and subscription.quantity == seats:
        return subscription
    try:
        stripe_api.client().v1.subscriptions.update(
            subscription.stripe_id,
            params={"items": [{"id": subscription.item_id, "plan": stripe_plan.stripe_plan_id, "quantity": seats}]},
            options=stripe_api.write_options("subscription-update", subscription.stripe_id, request_token),
        )
    except stripe.StripeError as error:
        raise _stripe_failure(error) from error
    Subscription.objects.filter(pk=subscription.pk).update(
        pending_plan=plan, pending_quantity=seats, updated_at=timezone.now()
    )
    subscription.pending_plan, subscription.pending_quantity = plan, seats
    return subscription


def subscription_cancel(*, tenant: Tenant, request_token: str, resume: bool = False) -> Subscription:
    """Cancel at the end of the paid period (or undo that with `resume=True`).

    Nothing is taken away before the period ends; the flag shows once Stripe confirms it.
    """
    subscription = subscription_current(tenant=tenant)
    if subscription is None or subscription.status not in LIVE_STATUSES:
        raise NoSubscription(_("This workspace has no subscription to change."))
    operation = "subscription-resume" if resume else "subscription-cancel"
    try:
        stripe_api.client().v1.subscriptions.update(
            subscription.stripe_id,
            params={"cancel_at_period_end": not resume},
            options=stripe_api.write_options(operation, subscription.stripe_id, request_token),
        )
    except stripe.StripeError as error:
        raise _stripe_failure(error) from error
    return subscription


def billing_refresh(*, tenant: Tenant, now: datetime | None = None) -> None:
    """Re-read the customer, its subscription and invoices from Stripe (reconciliation)."""
    customer = Customer.objects.filter(tenant=tenant).first()
    if customer is None:
        return
    customer_sync(customer=customer)
    current = subscription_current(tenant=tenant)
    if current is not None:
        subscription_sync(stripe_id=current.stripe_id, now=now or timezone.now(), reason="refresh")
    invoices_sync(customer=customer)


# -- the mirror ------------------------------------------------------------------------


def subscription_sync(*, stripe_id: str, now: datetime, reason: str, event=None) -> Subscription | None:
    """Re-read one subscription from Stripe, store it and apply it to the workspace.

    Returns None when Stripe does not know it or it belongs to no workspace of ours.
    """
    try:
        remote = stripe_api.client().v1.subscriptions.retrieve(stripe_id)
    except stripe.InvalidRequestError as error:
        if error.http_status == 404:
            return None
        raise
    return subscription_store(remote=stripe_api.as_dict(remote), now=now, reason=reason, event=event)


def subscription_store(*, remote: dict, now: datetime, reason: str, event=None) -> Subscription | None:
    """Store Stripe's copy of a subscription (as just read) and apply it to the tenant."""
    customer = Customer.objects.select_related("tenant").filter(stripe_id=remote.get("customer")).first()
    if customer is None:
        return None
    items = (remote.get("items") or {}).get("data") or []
    item = items[0] if items else {}
    stripe_plan_data = item.get("plan") or remote.get("plan") or {}
    stripe_plan_id = stripe_plan_data.get("id", "")
    mapped = StripePlan.objects.select_related("plan").filter(stripe_plan_id=stripe_plan_id).first()
    plan = mapped.plan if mapped is not None else None
    if plan is None:
        code = (stripe_plan_data.get("metadata") or {}).get("crm_plan")
        plan = Plan.objects.filter(code=code).first() if code else None
    quantity = item.get("quantity") or remote.get("quantity") or 0
    with transaction.atomic():
        subscription, _created = Subscription.objects.select_for_update().get_or_create(
            stripe_id=remote["id"],
            defaults={"customer": customer, "status": remote["status"], "stripe_created": _stamp(remote["created"]),
                      "synced_at": now},
        )  # fmt: skip
        subscription.customer = customer
        subscription.status = remote["status"]
        subscription.plan = plan
        subscription.stripe_plan_id = stripe_plan_id
        subscription.item_id = item.get("id", "")
        subscription.quantity = quantity
        subscription.unit_amount = stripe_plan_data.get("amount") or 0
        subscription.currency = stripe_plan_data.get("currency") or ""
        subscription.current_period_end = _stamp(remote.get("current_period_end") or item.get("current_period_end"))
        subscription.cancel_at_period_end = bool(remote.get("cancel_at_period_end"))
        subscription.trial_end = _stamp(remote.get("trial_end"))
        subscription.ended_at = _stamp(remote.get("ended_at"))
        subscription.synced_at = now
        if subscription.pending_quantity == quantity and subscription.pending_plan_id == (plan.pk if plan else None):
            subscription.pending_quantity, subscription.pending_plan = None, None
        subscription.save()
        tenant_billing_apply(tenant=customer.tenant, now=now, reason=reason, event=event)
    return subscription


def invoices_sync(*, customer: Customer) -> None:
    """Re-read the customer's recent invoices (history on the billing page)."""
    listed = stripe_api.as_dict(
        stripe_api.client().v1.invoices.list(params={"customer": customer.stripe_id, "limit": 24})
    )
    for remote in listed.get("data", []):
        invoice_store(remote=remote, customer=customer)


def invoice_sync(*, stripe_id: str, failed_at: datetime | None = None) -> Invoice | None:
    try:
        remote = stripe_api.as_dict(stripe_api.client().v1.invoices.retrieve(stripe_id))
    except stripe.InvalidRequestError as error:
        if error.http_status == 404:
            return None
        raise
    customer = Customer.objects.filter(stripe_id=remote.get("customer")).first()
    if customer is None:
        return None
    return invoice_store(remote=remote, customer=customer, failed_at=failed_at)


def invoice_store(*, remote: dict, customer: Customer, failed_at: datetime | None = None) -> Invoice:
    subscription_id = remote.get("subscription") or ""
    if not subscription_id:
        parent = (remote.get("parent") or {}).get("subscription_details") or {}
        subscription_id = parent.get("subscription") or ""
    if not isinstance(subscription_id, str):
        subscription_id = subscription_id.get("id", "")
    defaults = {
        "customer": customer,
        "subscription_stripe_id": subscription_id,
        "number": remote.get("number") or "",
        "status": remote.get("status") or "draft",
        "amount_due": remote.get("amount_due") or 0,
        "amount_paid": remote.get("amount_paid") or 0,
        "currency": remote.get("currency") or "",
        "attempt_count": remote.get("attempt_count") or 0,
        "hosted_invoice_url": remote.get("hosted_invoice_url") or "",
        "invoice_pdf": remote.get("invoice_pdf") or "",
        "stripe_created": _stamp(remote.get("created") or remote.get("date")) or timezone.now(),
    }
    invoice, _ = Invoice.objects.update_or_create(stripe_id=remote["id"], defaults=defaults)
    if failed_at is not None and invoice.status == "open" and invoice.payment_failed_at is None:
        invoice.payment_failed_at = failed_at
        invoice.save(update_fields=["payment_failed_at", "updated_at"])
    return invoice

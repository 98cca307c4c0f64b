"""Applying the status machine to a workspace, the clock's sweep and the emails it sends.

Every status change goes through `tenant_billing_apply`: one transaction holding the
tenant row lock, one StatusChange row, one email after commit. Time is a parameter
(`now`) everywhere, so tests move the clock instead of sleeping.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from functools import partial

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext as _

from billing.models import Invoice, StatusChange, Subscription
from billing.status import LIVE_STATUSES, Dunning, read_only_at, status_for, suspended_at
from tenants.models import Tenant, TenantStatus
from tenants.status import tenant_billing_state_set, tenant_retention_warning_mark, tenant_subscription_set

logger = logging.getLogger(__name__)

# A suspended workspace's owner is warned this long before its data may be deleted.
RETENTION_WARNING = timedelta(days=14)
OVERDUE = {TenantStatus.PAST_DUE, TenantStatus.READ_ONLY, TenantStatus.SUSPENDED}


def dunning_for(tenant: Tenant) -> Dunning:
    return Dunning(grace_days=tenant.plan.grace_days, suspend_after_days=tenant.plan.suspend_after_days)


def tenant_billing_apply(*, tenant: Tenant, now: datetime, reason: str, event=None) -> bool:
    """Bring the workspace's plan, paid seats and status in line with its subscription at `now`.

    Holds the tenant row lock, so concurrent webhooks and sweeps apply one after the
    other; writes one StatusChange and queues one email per actual transition. Returns
    True when the status changed.
    """
    with transaction.atomic():
        tenant = Tenant.objects.select_for_update(of=("self",)).select_related("plan").get(pk=tenant.pk)
        if tenant.is_public:
            return False
        subscription = (
            Subscription.objects.filter(customer__tenant=tenant)
            .select_related("plan")
            .order_by("-stripe_created", "-id")
            .first()
        )
        subscription_status = subscription.status if subscription is not None else None
        if subscription_status == "active" and _has_failed_open_invoice(subscription):
            # Stripe can be set to leave a subscription `active` while it retries a failed
            # invoice (and localstripe always does): an unpaid renewal is overdue all the same.
            subscription_status = "past_due"
        if subscription is not None and subscription_status in LIVE_STATUSES and subscription.plan is not None:
            tenant_subscription_set(
                tenant=tenant,
                plan=subscription.plan,
                paid_seats=subscription.quantity,
                paid_from=now if subscription_status == "active" else None,
            )
        outcome = status_for(
            subscription_status=subscription_status,
            plan_is_free=tenant.plan.is_free,
            trial_ends_at=tenant.trial_ends_at,
            dunning_started_at=tenant.dunning_started_at,
            dunning=dunning_for(tenant),
            now=now,
        )
        previous = tenant.status
        changed = tenant_billing_state_set(
            tenant=tenant, status=outcome.status, dunning_started_at=outcome.dunning_started_at, now=now
        )
        if changed:
            StatusChange.objects.create(
                tenant=tenant, from_status=previous, to_status=outcome.status, reason=reason[:100], event=event, at=now
            )
            logger.info(
                "workspace billing status changed",
                extra={"workspace": tenant.slug, "from": previous, "to": outcome.status, "reason": reason},
            )
            if outcome.status in SUBJECTS and (outcome.status != TenantStatus.ACTIVE or previous in OVERDUE):
                transaction.on_commit(
                    partial(status_email_send, tenant_id=tenant.pk, status=outcome.status), robust=True
                )
    return changed


def _has_failed_open_invoice(subscription: Subscription) -> bool:
    return Invoice.objects.filter(
        subscription_stripe_id=subscription.stripe_id, status="open", payment_failed_at__isnull=False
    ).exists()


def dunning_sweep(*, now: datetime) -> int:
    """Move every workspace along the clock (trial end, grace, suspension); warn before deletion.

    Returns how many workspaces changed status. Safe to run from several beat processes:
    each workspace is applied under its row lock, each warning is sent once.
    """
    changed = 0
    pending = Tenant.objects.exclude(schema_name="public").exclude(status=TenantStatus.ACTIVE).only("pk")
    for tenant in pending.iterator():
        changed += tenant_billing_apply(tenant=tenant, now=now, reason="clock")
    for tenant in Tenant.objects.filter(status=TenantStatus.SUSPENDED, retention_warning_sent_at__isnull=True):
        _retention_warn(tenant_id=tenant.pk, now=now)
    return changed


def retention_until(tenant: Tenant) -> datetime | None:
    """When a suspended workspace's data may be deleted (staff delete it; never automatic)."""
    if tenant.dunning_started_at is None:
        return None
    return suspended_at(dunning_started_at=tenant.dunning_started_at, dunning=dunning_for(tenant)) + timedelta(
        days=tenant.plan.retention_days
    )


def _retention_warn(*, tenant_id: int, now: datetime) -> None:
    with transaction.atomic():
        tenant = Tenant.objects.select_for_update(of=("self",)).select_related("plan").get(pk=tenant_id)
        until = retention_until(tenant)
        if tenant.retention_warning_sent_at is not None or until is None or now < until - RETENTION_WARNING:
            return
        tenant_retention_warning_mark(tenant=tenant, now=now)
        transaction.on_commit(partial(status_email_send, tenant_id=tenant.pk, status="retention"), robust=True)


SUBJECTS = {
    TenantStatus.ACTIVE: lambda: _("Payment received: %(name)s is fully available again"),
    TenantStatus.PAST_DUE: lambda: _("Payment failed for %(name)s: please update your card"),
    TenantStatus.READ_ONLY: lambda: _("%(name)s is now read-only: the subscription is unpaid"),
    TenantStatus.SUSPENDED: lambda: _("%(name)s is suspended: the subscription is unpaid"),
    "retention": lambda: _("%(name)s: your data will be deleted soon unless the subscription is paid"),
    "trial_will_end": lambda: _("The trial of %(name)s ends soon"),
}


def status_email_send(*, tenant_id: int, status: str) -> bool:
    """Email the workspace owner about a billing status (in the workspace's language)."""
    if status not in SUBJECTS:
        return False
    tenant = Tenant.objects.select_related("plan").filter(pk=tenant_id).first()
    if tenant is None or not tenant.owner_email:
        return False
    dunning = dunning_for(tenant)
    started = tenant.dunning_started_at
    context = {
        "tenant": tenant,
        "status": status,
        "billing_url": f"{settings.SITE_SCHEME}://{tenant.slug}.{settings.BASE_DOMAIN}/billing/",
        "read_only_at": read_only_at(dunning_started_at=started, dunning=dunning) if started else None,
        "suspended_at": suspended_at(dunning_started_at=started, dunning=dunning) if started else None,
        "retention_until": retention_until(tenant),
    }
    with translation.override(tenant.language):
        send_mail(
            subject=SUBJECTS[status]() % {"name": tenant.name},
            message=render_to_string("billing/email/status.txt", context),
            from_email=None,
            recipient_list=[tenant.owner_email],
        )
    return True

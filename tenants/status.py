"""What each workspace status lets people do: the consequences of the billing state machine.

trialing → active; a failed payment → past_due (everything still works, admins see a
banner) → after the plan's grace period read_only (reads, exports, backups and billing
only) → after a long period suspended (administrators reach the billing page, nobody
else gets in). Paying brings the workspace back to active at once. The transitions are
computed in billing.status; this table is what the middleware enforces, and the
functions below are the only writers of the billing fields (called by billing, with the
tenant row locked).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from tenants.models import Plan, Tenant, TenantStatus


@dataclass(frozen=True)
class Access:
    read: bool
    write: bool
    # Suspended: signed-in administrators see the billing page, everyone else a notice.
    billing_only: bool = False


ACCESS: dict[str, Access] = {
    TenantStatus.TRIALING: Access(read=True, write=True),
    TenantStatus.ACTIVE: Access(read=True, write=True),
    TenantStatus.PAST_DUE: Access(read=True, write=True),
    TenantStatus.READ_ONLY: Access(read=True, write=False),
    TenantStatus.SUSPENDED: Access(read=False, write=False, billing_only=True),
}


def access_for(status: str) -> Access:
    return ACCESS[status]


def tenant_billing_state_set(
    *,
    tenant: Tenant,
    status: str,
    dunning_started_at: datetime | None,
    now: datetime,
) -> bool:
    """Store the workspace's billing status and dunning clock; True when the status changed.

    Only billing calls this, with the tenant row locked (select_for_update) and the status
    computed by billing.status from what Stripe confirmed, so two workers never interleave.
    """
    changed = tenant.status != status
    fields = []
    if changed:
        tenant.status = status
        tenant.status_changed_at = now
        fields += ["status", "status_changed_at"]
    if tenant.dunning_started_at != dunning_started_at:
        tenant.dunning_started_at = dunning_started_at
        fields.append("dunning_started_at")
        if dunning_started_at is None:
            tenant.retention_warning_sent_at = None
            fields.append("retention_warning_sent_at")
    if fields:
        tenant.save(update_fields=[*fields, "updated_at"])
    return changed


def tenant_subscription_set(*, tenant: Tenant, plan: Plan, paid_seats: int, paid_from: datetime | None) -> None:
    """Plan and paid named seats as Stripe confirmed them: the seat capacity follows at once.

    `paid_from` (the first paid moment) ends a trial that was still running: the trial
    is over once the workspace pays, so a later cancellation does not bring it back.
    """
    fields = []
    if tenant.plan_id != plan.pk or tenant.paid_seats != paid_seats:
        tenant.plan = plan
        tenant.paid_seats = paid_seats
        fields += ["plan", "paid_seats"]
    if paid_from is not None and tenant.trial_ends_at is not None and tenant.trial_ends_at > paid_from:
        tenant.trial_ends_at = paid_from
        fields.append("trial_ends_at")
    if fields:
        tenant.save(update_fields=[*fields, "updated_at"])


def tenant_retention_warning_mark(*, tenant: Tenant, now: datetime) -> None:
    tenant.retention_warning_sent_at = now
    tenant.save(update_fields=["retention_warning_sent_at", "updated_at"])

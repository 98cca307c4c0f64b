"""The workspace status machine: from what Stripe says and the clock to a TenantStatus.

A pure function, so every rule is tested with a table and a `now` the test chooses:

- Stripe `active` → active; `trialing` → trialing. Both stop the dunning clock.
- `past_due` (a renewal failed; Stripe is retrying) → past_due, and the dunning clock
  starts; after the plan's grace period → read_only; after `suspend_after_days` more →
  suspended.
- `unpaid` (Stripe gave up retrying) → at least read_only: no more grace.
- No subscription, or one that never started (`incomplete`) while our own trial runs →
  trialing; once the trial is over the clock starts at the trial's end (with grace).
- `canceled`, `incomplete_expired`, `paused`: nothing is being paid for → read_only at
  once (the customer chose it, or Stripe paused a trial without a card), suspended later.
- A free plan without a paid subscription is active.
Paying brings `active` back, whatever the state was.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from tenants.models import TenantStatus

STRIPE_STATUSES = ["trialing", "active", "incomplete", "incomplete_expired", "past_due", "unpaid", "canceled", "paused"]
# Stripe states in which the subscription is what the workspace pays for (seats follow it).
LIVE_STATUSES = {"trialing", "active", "past_due", "unpaid"}
_NOTHING_PAID = {"canceled", "incomplete_expired", "paused"}


@dataclass(frozen=True)
class Dunning:
    grace_days: int
    suspend_after_days: int


@dataclass(frozen=True)
class Outcome:
    status: str
    dunning_started_at: datetime | None


def status_for(
    *,
    subscription_status: str | None,
    plan_is_free: bool,
    trial_ends_at: datetime | None,
    dunning_started_at: datetime | None,
    dunning: Dunning,
    now: datetime,
) -> Outcome:
    """The status a workspace should have now (see the module docstring for the rules)."""
    if subscription_status == "active":
        return Outcome(TenantStatus.ACTIVE, None)
    if subscription_status == "trialing":
        return Outcome(TenantStatus.TRIALING, None)
    if subscription_status in ("past_due", "unpaid"):
        started = dunning_started_at or now
        return Outcome(_overdue(started, dunning, now, grace=subscription_status == "past_due"), started)
    # No paid subscription running.
    if plan_is_free:
        return Outcome(TenantStatus.ACTIVE, None)
    if trial_ends_at is not None and now < trial_ends_at:
        return Outcome(TenantStatus.TRIALING, None)
    if subscription_status in _NOTHING_PAID:
        started = dunning_started_at or now
        return Outcome(_overdue(started, dunning, now, grace=False), started)
    # No subscription (or an `incomplete` one) after the trial: the clock started when it ended.
    started = dunning_started_at or trial_ends_at or now
    return Outcome(_overdue(started, dunning, now, grace=True), started)


def _overdue(started: datetime, dunning: Dunning, now: datetime, *, grace: bool) -> str:
    read_only_at = started + timedelta(days=dunning.grace_days if grace else 0)
    suspended_at = read_only_at + timedelta(days=dunning.suspend_after_days)
    if now < read_only_at:
        return TenantStatus.PAST_DUE
    if now < suspended_at:
        return TenantStatus.READ_ONLY
    return TenantStatus.SUSPENDED


def read_only_at(*, dunning_started_at: datetime, dunning: Dunning) -> datetime:
    return dunning_started_at + timedelta(days=dunning.grace_days)


def suspended_at(*, dunning_started_at: datetime, dunning: Dunning) -> datetime:
    return read_only_at(dunning_started_at=dunning_started_at, dunning=dunning) + timedelta(
        days=dunning.suspend_after_days
    )

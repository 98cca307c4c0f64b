"""Every Stripe subscription status, and the dunning clock, mapped to a workspace status and access."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from billing.status import STRIPE_STATUSES, Dunning, status_for
from tenants.status import access_for

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)
DUNNING = Dunning(grace_days=7, suspend_after_days=30)
TRIAL_OVER = NOW - 20 * DAY
TRIAL_RUNNING = NOW + 3 * DAY

# (Stripe status, trial end, dunning started, free plan) → (workspace status, read, write, billing only)
TABLE = [
    ("trialing", TRIAL_RUNNING, None, False, "trialing", True, True, False),
    ("active", TRIAL_OVER, None, False, "active", True, True, False),
    ("active", TRIAL_OVER, NOW - 40 * DAY, False, "active", True, True, False),  # paying ends dunning
    ("incomplete", TRIAL_RUNNING, None, False, "trialing", True, True, False),  # first payment pending, trial left
    ("incomplete", TRIAL_OVER, None, False, "read_only", True, False, False),  # trial ended 20 days ago, grace 7
    ("incomplete_expired", TRIAL_OVER, None, False, "read_only", True, False, False),
    ("past_due", TRIAL_OVER, None, False, "past_due", True, True, False),  # clock starts now
    ("past_due", TRIAL_OVER, NOW - 6 * DAY, False, "past_due", True, True, False),
    ("past_due", TRIAL_OVER, NOW - 7 * DAY, False, "read_only", True, False, False),
    ("past_due", TRIAL_OVER, NOW - 37 * DAY, False, "suspended", False, False, True),
    ("unpaid", TRIAL_OVER, None, False, "read_only", True, False, False),  # Stripe gave up: no more grace
    ("unpaid", TRIAL_OVER, NOW - 31 * DAY, False, "suspended", False, False, True),
    ("canceled", TRIAL_OVER, None, False, "read_only", True, False, False),
    ("canceled", TRIAL_OVER, NOW - 30 * DAY, False, "suspended", False, False, True),
    ("canceled", TRIAL_OVER, None, True, "active", True, True, False),  # back on the free plan
    ("paused", TRIAL_OVER, None, False, "read_only", True, False, False),
    (None, TRIAL_RUNNING, None, False, "trialing", True, True, False),
    (None, NOW - 2 * DAY, None, False, "past_due", True, True, False),  # trial over, grace counts from its end
    (None, NOW - 8 * DAY, None, False, "read_only", True, False, False),
    (None, NOW - 40 * DAY, None, False, "suspended", False, False, True),
    (None, TRIAL_OVER, None, True, "active", True, True, False),  # free plan
]


def test_the_table_covers_every_stripe_status():
    assert {row[0] for row in TABLE} >= set(STRIPE_STATUSES)


@pytest.mark.parametrize(
    ("stripe_status", "trial_ends_at", "dunning_started_at", "free", "expected", "read", "write", "billing_only"),
    TABLE,
)
def test_stripe_status_maps_to_workspace_status_and_access(
    stripe_status, trial_ends_at, dunning_started_at, free, expected, read, write, billing_only
):
    outcome = status_for(
        subscription_status=stripe_status,
        plan_is_free=free,
        trial_ends_at=trial_ends_at,
        dunning_started_at=dunning_started_at,
        dunning=DUNNING,
        now=NOW,
    )

    assert outcome.status == expected
    access = access_for(outcome.status)
    assert (access.read, access.write, access.billing_only) == (read, write, billing_only)


def test_the_dunning_clock_starts_at_the_first_overdue_moment_and_stops_when_paid():
    first = status_for(
        subscription_status="past_due", plan_is_free=False, trial_ends_at=TRIAL_OVER, dunning_started_at=None,
        dunning=DUNNING, now=NOW,
    )  # fmt: skip
    later = status_for(
        subscription_status="past_due", plan_is_free=False, trial_ends_at=TRIAL_OVER,
        dunning_started_at=first.dunning_started_at, dunning=DUNNING, now=NOW + 8 * DAY,
    )  # fmt: skip
    paid = status_for(
        subscription_status="active", plan_is_free=False, trial_ends_at=TRIAL_OVER,
        dunning_started_at=first.dunning_started_at, dunning=DUNNING, now=NOW + 9 * DAY,
    )  # fmt: skip

    assert (first.status, first.dunning_started_at) == ("past_due", NOW)
    assert (later.status, later.dunning_started_at) == ("read_only", NOW)
    assert (paid.status, paid.dunning_started_at) == ("active", None)

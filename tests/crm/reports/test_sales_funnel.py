"""The funnel against numbers worked out by hand on a fixed set of deals.

Cohort: deals created 2026-01-01..2026-03-31. Stages s0..s4 open, s5 won, s6 lost.

    deal  created  path (days between moves)          amount  furthest
    A     01-05    s0 -2- s1 -4- s2 -6- s3 -8- s4 -10- s5   1000    s5 (won)
    B     01-10    s0 -1- s1 -3- s2 -5- lost             500    s2
    C     02-01    s0 -4- s2 -2- s3   (skipped s1, open)  300    s3
    D     03-15    s0                 (open)              200    s0
    E     03-20    s0 -2- lost                            100    s0
    outside: F created 2025-12-20; G trashed.

Reached: s0 5 (2100), s1 3 (1800; C passed it), s2 3 (1800), s3 2 (1300), s4 1, s5 1.
Entered: s1 2 (A, B). Conversion: 60.0, 100.0, 66.7, 50.0, 100.0.
Median days out of s0: [1, 2, 2, 4] → 2.0; s1: [3, 4] → 3.5; s2: [2, 5, 6] → 5.0; s3: 8 (C
is still there); s4: 10.
Lost from s0: E; from s2: B. Won 1 (1000), lost 2 (600), open 2 (500).
"""

from __future__ import annotations

import statistics
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from crm.deals.models import Deal
from crm.deals.services import stage_delete
from crm.models import WorkspaceSettings
from crm.reports.selectors import sales_funnel
from tests.crm.deals.factories import deal_with_history

Q1 = {"date_from": date(2026, 1, 1), "date_to": date(2026, 3, 31)}


def at(month: int, day: int, year: int = 2026) -> datetime:
    return datetime(year, month, day, 10, 0, tzinfo=UTC)


@pytest.fixture
def cohort(pipeline, stages):
    s = stages
    lost = s[6]
    deals = {
        "A": deal_with_history(
            pipeline=pipeline, path=s[:6], created_at=at(1, 5), days_between=[2, 4, 6, 8, 10], amount=Decimal(1000)
        ),
        "B": deal_with_history(
            pipeline=pipeline, path=[*s[:3], lost], created_at=at(1, 10), days_between=[1, 3, 5], amount=Decimal(500)
        ),
        "C": deal_with_history(
            pipeline=pipeline, path=[s[0], s[2], s[3]], created_at=at(2, 1), days_between=[4, 2], amount=Decimal(300)
        ),
        "D": deal_with_history(pipeline=pipeline, path=[s[0]], created_at=at(3, 15), amount=Decimal(200)),
        "E": deal_with_history(
            pipeline=pipeline, path=[s[0], lost], created_at=at(3, 20), days_between=2, amount=Decimal(100)
        ),
        "F": deal_with_history(
            pipeline=pipeline, path=[s[0], s[1], s[5]], created_at=at(12, 20, 2025), amount=Decimal(9999)
        ),
        "G": deal_with_history(pipeline=pipeline, path=[s[0], s[1]], created_at=at(2, 10), amount=Decimal(7777)),
    }
    Deal.objects.filter(pk=deals["G"].pk).update(deleted_at=timezone.now())
    return deals


def test_reached_counts_and_amounts_per_stage(alice, pipeline, cohort):
    funnel = sales_funnel(actor=alice, pipeline=pipeline, **Q1)

    assert [(row.reached_count, row.reached_amount) for row in funnel.stages] == [
        (5, Decimal("2100.00")),
        (3, Decimal("1800.00")),
        (3, Decimal("1800.00")),
        (2, Decimal("1300.00")),
        (1, Decimal("1000.00")),
        (1, Decimal("1000.00")),
    ]


def test_rows_are_the_open_and_won_stages_in_order(alice, pipeline, stages, cohort):
    funnel = sales_funnel(actor=alice, pipeline=pipeline, **Q1)

    assert [row.stage_id for row in funnel.stages] == [stage.pk for stage in stages[:6]]
    assert funnel.stages[-1].kind == "won"


def test_entered_counts_only_deals_that_were_in_the_stage(alice, pipeline, cohort):
    funnel = sales_funnel(actor=alice, pipeline=pipeline, **Q1)

    assert [row.entered_count for row in funnel.stages] == [5, 2, 3, 2, 1, 1]
    assert funnel.stages[1].entered_amount == Decimal("1500.00")


def test_conversion_to_next_stage(alice, pipeline, cohort):
    funnel = sales_funnel(actor=alice, pipeline=pipeline, **Q1)

    assert [row.conversion_to_next for row in funnel.stages] == [
        Decimal("60.0"),
        Decimal("100.0"),
        Decimal("66.7"),
        Decimal("50.0"),
        Decimal("100.0"),
        None,
    ]


def test_median_days_in_stage(alice, pipeline, cohort):
    funnel = sales_funnel(actor=alice, pipeline=pipeline, **Q1)

    assert [row.median_days_in_stage for row in funnel.stages] == [
        Decimal("2.0"),
        Decimal("3.5"),
        Decimal("5.0"),
        Decimal("8.0"),
        Decimal("10.0"),
        None,
    ]


def test_lost_per_stage_and_current_counts(alice, pipeline, cohort):
    funnel = sales_funnel(actor=alice, pipeline=pipeline, **Q1)

    assert [row.lost_here_count for row in funnel.stages] == [1, 0, 1, 0, 0, 0]
    assert [row.current_count for row in funnel.stages] == [1, 0, 0, 1, 0, 1]


def test_won_lost_and_open_totals(alice, pipeline, cohort):
    funnel = sales_funnel(actor=alice, pipeline=pipeline, **Q1)

    assert (funnel.total_count, funnel.total_amount) == (5, Decimal("2100.00"))
    assert (funnel.won_count, funnel.won_amount) == (1, Decimal("1000.00"))
    assert (funnel.lost_count, funnel.lost_amount) == (2, Decimal("600.00"))
    assert (funnel.open_count, funnel.open_amount) == (2, Decimal("500.00"))
    assert (funnel.win_rate, funnel.close_rate) == (Decimal("20.0"), Decimal("33.3"))


def test_without_dates_every_live_deal_counts(alice, pipeline, cohort):
    funnel = sales_funnel(actor=alice, pipeline=pipeline)

    assert funnel.total_count == 6
    assert funnel.won_count == 2


def test_period_ends_at_midnight_in_workspace_time_zone(alice, pipeline, stages):
    WorkspaceSettings.objects.update_or_create(pk=1, defaults={"time_zone": "Asia/Dubai"})
    # 21:30 UTC on March 31 is already April 1 in Dubai (UTC+4).
    deal_with_history(pipeline=pipeline, path=[stages[0]], created_at=datetime(2026, 3, 31, 21, 30, tzinfo=UTC))
    deal_with_history(pipeline=pipeline, path=[stages[0]], created_at=datetime(2026, 3, 31, 19, 30, tzinfo=UTC))

    funnel = sales_funnel(actor=alice, pipeline=pipeline, **Q1)

    assert funnel.total_count == 1


def test_switched_off_account_sees_zeros(switched_off, pipeline, cohort):
    funnel = sales_funnel(actor=switched_off, pipeline=pipeline, **Q1)

    assert funnel.total_count == 0
    assert all(row.reached_count == 0 and row.entered_count == 0 for row in funnel.stages)
    assert funnel.win_rate is None


def test_removed_stage_leaves_the_rows_but_not_the_counts_before_it(alice, pipeline, stages, cohort):
    stage_delete(actor=alice, stage=stages[1], move_deals_to=stages[2])

    funnel = sales_funnel(actor=alice, pipeline=pipeline, **Q1)

    assert [row.name for row in funnel.stages][:2] == ["New", "Proposal preparation"]
    assert [row.reached_count for row in funnel.stages] == [5, 3, 2, 1, 1]


def test_end_before_start_is_a_field_error(alice, pipeline):
    with pytest.raises(ValidationError) as caught:
        sales_funnel(actor=alice, pipeline=pipeline, date_from=date(2026, 2, 1), date_to=date(2026, 1, 1))

    assert caught.value.error_dict["date_to"][0].code == "invalid_range"


def test_funnel_is_a_fixed_number_of_queries(alice, pipeline, cohort, django_assert_max_num_queries):
    with django_assert_max_num_queries(5):
        sales_funnel(actor=alice, pipeline=pipeline, **Q1)


def test_other_workspace_sees_none_of_these_deals(cohort, tenant_b):
    from accounts.models import User
    from crm.deals.models import Pipeline
    from tests.conftest import inside

    with inside(tenant_b):
        bob = User.objects.get()
        funnel = sales_funnel(actor=bob, pipeline=Pipeline.objects.get(is_default=True), **Q1)

    assert funnel.total_count == 0


def test_medians_of_a_large_cohort_come_from_sample_buckets(pipeline, stages):
    from crm.reports.selectors import MEDIAN_SAMPLE, _stage_medians

    made = [
        deal_with_history(pipeline=pipeline, path=[stages[0], stages[1]], created_at=at(1, 5), days_between=days)
        for days in range(1, 41)
    ]
    # A cohort 32 times the sample size is read through 2 of the 64 buckets: ids % 64 in {0, 1}.
    sampled_days = sorted(days for days, deal in enumerate(made, start=1) if deal.pk % 64 < 2)

    medians = _stage_medians(Deal.objects.filter(pipeline=pipeline), [stages[0]], cohort_size=32 * MEDIAN_SAMPLE)

    if sampled_days:
        assert medians[stages[0].pk] / 86400 == statistics.median(sampled_days)
    else:
        assert medians[stages[0].pk] is None

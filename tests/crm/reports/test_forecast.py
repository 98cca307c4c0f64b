"""Forecast: open deals by expected close month, weighted by their stage's win probability."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from crm.deals.services import deal_create, deal_mark_lost, deal_mark_won, pipeline_create
from crm.reports.selectors import forecast


def month_start(offset: int) -> date:
    first = timezone.localdate().replace(day=1)
    index = first.month - 1 + offset
    return date(first.year + index // 12, index % 12 + 1, 1)


@pytest.fixture
def deals(alice, pipeline, stages):
    """Stages: s0 10 %, s1 20 %, s2 40 %, s4 80 %."""

    def deal(amount: int, stage, expected: date | None):
        return deal_create(actor=alice, title="Deal", amount=Decimal(amount), stage=stage, expected_close_date=expected)

    this_month, next_month = month_start(0), month_start(1)
    deal(1000, stages[2], this_month + timedelta(days=3))  # 400 weighted
    deal(500, stages[4], next_month + timedelta(days=10))  # 400
    deal(1000, stages[0], next_month)  # 100
    deal(100, stages[1], None)  # undated: 20
    deal(300, stages[3], month_start(-1))  # overdue: 60 % → 180
    deal(9000, stages[0], month_start(5))  # beyond three months
    deal_mark_won(actor=alice, deal=deal(2500, stages[4], next_month))  # won now: committed this month
    deal_mark_lost(actor=alice, deal=deal(4000, stages[2], this_month), reason="Budget cut")


def test_months_hold_open_amount_and_weighted_amount(alice, deals):
    report = forecast(actor=alice, months=3)

    assert [(m.month, m.open_count, m.open_amount, m.weighted_amount) for m in report.months] == [
        (month_start(0), 1, Decimal("1000.00"), Decimal("400.00")),
        (month_start(1), 2, Decimal("1500.00"), Decimal("500.00")),
        (month_start(2), 0, Decimal("0.00"), Decimal("0.00")),
    ]


def test_won_deals_are_committed_in_the_month_they_closed(alice, deals):
    this_month = forecast(actor=alice, months=3).months[0]

    assert (this_month.won_count, this_month.won_amount) == (1, Decimal("2500.00"))
    assert this_month.expected_amount == Decimal("2900.00")


def test_overdue_and_undated_are_apart(alice, deals):
    report = forecast(actor=alice, months=3)

    assert (report.overdue.count, report.overdue.amount, report.overdue.weighted_amount) == (
        1,
        Decimal("300.00"),
        Decimal("180.00"),
    )
    assert (report.undated.count, report.undated.weighted_amount) == (1, Decimal("20.00"))


def test_weights_follow_the_stage_probability(alice, deals, stages):
    from crm.deals.services import stage_set_win_probability

    stage_set_win_probability(actor=alice, stage=stages[2], win_probability=90)

    assert forecast(actor=alice, months=1).months[0].weighted_amount == Decimal("900.00")


def test_pipeline_filter(alice, deals):
    other = pipeline_create(actor=alice, name="Partners")
    deal_create(
        actor=alice,
        title="Reseller",
        amount=Decimal(50),
        pipeline=other,
        expected_close_date=month_start(0),
    )

    only_other = forecast(actor=alice, months=1, pipeline=other).months[0]

    assert (only_other.open_count, only_other.open_amount) == (1, Decimal("50.00"))


def test_switched_off_account_sees_zeros(switched_off, deals):
    report = forecast(actor=switched_off, months=2)

    assert all(month.open_count == 0 and month.won_count == 0 for month in report.months)
    assert report.overdue.count == 0


@pytest.mark.parametrize("months", [0, 37, "6"])
def test_month_count_out_of_range_is_a_field_error(alice, months):
    with pytest.raises(ValidationError) as caught:
        forecast(actor=alice, months=months)

    assert caught.value.error_dict["months"][0].code == "invalid"


def test_forecast_is_three_queries(alice, deals, django_assert_max_num_queries):
    with django_assert_max_num_queries(5):
        forecast(actor=alice, months=12)

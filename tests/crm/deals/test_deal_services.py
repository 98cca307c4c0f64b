"""Deal writes: update, won / lost / reopen, and the stage history they leave."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from crm.deals.models import Deal, DealStageChange
from crm.deals.services import deal_create, deal_mark_lost, deal_mark_won, deal_move_stage, deal_reopen, deal_update
from crm.errors import AccessDenied, Conflict
from crm.models import ExchangeRate


def error_codes(error: ValidationError) -> dict[str, list[str]]:
    return {field: [item.code for item in items] for field, items in error.error_dict.items()}


@pytest.fixture
def deal(alice, pipeline):
    return deal_create(actor=alice, title="Website redesign", amount=Decimal("1000"), currency="USD")


def test_update_changes_only_given_fields(alice, deal):
    closing = date(2027, 3, 31)

    updated = deal_update(actor=alice, deal=deal, title="  Redesign and hosting ", expected_close_date=closing)

    updated.refresh_from_db()
    assert updated.title == "Redesign and hosting"
    assert updated.expected_close_date == closing
    assert updated.amount == Decimal("1000")


def test_update_none_clears_expected_close_date(alice, deal):
    deal_update(actor=alice, deal=deal, expected_close_date=date(2027, 1, 1))

    deal_update(actor=alice, deal=deal, expected_close_date=None)

    deal.refresh_from_db()
    assert deal.expected_close_date is None


def test_update_amount_in_other_currency_recomputes_base_amount_at_rate(alice, deal):
    three_days_ago = timezone.localdate() - timedelta(days=3)
    ExchangeRate.objects.create(currency="EUR", rate=Decimal("1.10000000"), valid_from=three_days_ago)

    deal_update(actor=alice, deal=deal, amount=Decimal("250.50"), currency="eur")

    deal.refresh_from_db()
    assert (deal.amount, deal.currency, deal.amount_base) == (Decimal("250.50"), "EUR", Decimal("275.55"))


def test_update_uses_latest_rate_valid_today(alice, deal):
    today = timezone.localdate()
    ExchangeRate.objects.create(currency="EUR", rate=Decimal("1.0"), valid_from=today - timedelta(days=30))
    ExchangeRate.objects.create(currency="EUR", rate=Decimal("1.2"), valid_from=today - timedelta(days=1))
    ExchangeRate.objects.create(currency="EUR", rate=Decimal("9.9"), valid_from=today + timedelta(days=5))

    deal_update(actor=alice, deal=deal, amount=Decimal("100"), currency="EUR")

    deal.refresh_from_db()
    assert deal.amount_base == Decimal("120.00")


def test_update_to_currency_without_rate_is_a_field_error(alice, deal):
    with pytest.raises(ValidationError) as caught:
        deal_update(actor=alice, deal=deal, currency="JPY")

    assert error_codes(caught.value) == {"currency": ["missing_exchange_rate"]}
    deal.refresh_from_db()
    assert deal.currency == "USD"


def test_update_reports_every_bad_field_at_once(alice, deal):
    with pytest.raises(ValidationError) as caught:
        deal_update(actor=alice, deal=deal, title=" ", amount=Decimal("-1"), currency="dollars")

    assert error_codes(caught.value) == {
        "title": ["required"],
        "amount": ["invalid"],
        "currency": ["invalid_currency"],
    }


def test_update_refuses_inactive_owner(alice, rep, deal):
    rep.is_active = False
    rep.save()

    with pytest.raises(ValidationError) as caught:
        deal_update(actor=alice, deal=deal, owner=rep)

    assert error_codes(caught.value) == {"owner": ["inactive"]}


def test_update_sets_owner_and_records_who_changed_it(alice, rep, deal):
    deal_update(actor=alice, deal=deal, owner=rep)

    deal.refresh_from_db()
    assert deal.owner == rep
    assert deal.updated_by == alice


def test_inactive_actor_cannot_update(alice, rep, deal):
    rep.is_active = False
    rep.save()

    with pytest.raises(AccessDenied):
        deal_update(actor=rep, deal=deal, title="Mine now")


def test_move_stage_records_history_with_time_spent(alice, deal, stages):
    deal_move_stage(actor=alice, deal=deal, stage=stages[2])

    moves = list(DealStageChange.objects.filter(deal=deal).order_by("id"))
    assert [(move.from_stage, move.to_stage) for move in moves] == [(None, stages[0]), (stages[0], stages[2])]
    assert moves[1].changed_by == alice
    assert moves[1].seconds_in_previous_stage is not None


def test_move_into_lost_stage_needs_reason(alice, deal, stages):
    with pytest.raises(ValidationError) as caught:
        deal_move_stage(actor=alice, deal=deal, stage=stages[-1])

    assert error_codes(caught.value) == {"lost_reason": ["required"]}


def test_move_to_stage_of_another_pipeline_is_refused(alice, deal):
    from crm.deals.services import pipeline_create

    other = pipeline_create(actor=alice, name="Partners").stages.first()

    with pytest.raises(ValidationError) as caught:
        deal_move_stage(actor=alice, deal=deal, stage=other)

    assert error_codes(caught.value) == {"stage": ["invalid"]}


def test_mark_won_moves_to_won_stage_and_closes(alice, deal, stages):
    won = deal_mark_won(actor=alice, deal=deal)

    assert won.stage == stages[5]
    assert won.closed_at is not None
    assert DealStageChange.objects.filter(deal=deal, to_stage=stages[5]).count() == 1


def test_mark_won_twice_writes_one_history_entry(alice, deal, stages):
    deal_mark_won(actor=alice, deal=deal)

    deal_mark_won(actor=alice, deal=Deal.objects.get(pk=deal.pk))

    assert DealStageChange.objects.filter(deal=deal, to_stage=stages[5]).count() == 1


def test_mark_lost_keeps_reason(alice, deal, stages):
    lost = deal_mark_lost(actor=alice, deal=deal, reason="  Chose a cheaper agency ")

    assert lost.stage == stages[6]
    assert lost.lost_reason == "Chose a cheaper agency"
    assert lost.closed_at is not None


def test_mark_lost_without_reason_is_refused(alice, deal):
    with pytest.raises(ValidationError) as caught:
        deal_mark_lost(actor=alice, deal=deal, reason="")

    assert error_codes(caught.value) == {"lost_reason": ["required"]}


def test_reopen_returns_to_stage_it_was_closed_from(alice, deal, stages):
    deal = deal_move_stage(actor=alice, deal=deal, stage=stages[3])
    deal = deal_mark_lost(actor=alice, deal=deal, reason="No budget")

    reopened = deal_reopen(actor=alice, deal=deal)

    assert reopened.stage == stages[3]
    assert reopened.closed_at is None
    assert reopened.lost_reason == ""
    assert DealStageChange.objects.filter(deal=deal).count() == 4


def test_reopen_into_chosen_open_stage(alice, deal, stages):
    deal = deal_mark_won(actor=alice, deal=deal)

    reopened = deal_reopen(actor=alice, deal=deal, stage=stages[1])

    assert reopened.stage == stages[1]


def test_reopen_into_closed_stage_is_refused(alice, deal, stages):
    deal = deal_mark_won(actor=alice, deal=deal)

    with pytest.raises(ValidationError) as caught:
        deal_reopen(actor=alice, deal=deal, stage=stages[6])

    assert error_codes(caught.value) == {"stage": ["invalid"]}


def test_reopen_of_open_deal_is_refused(alice, deal):
    with pytest.raises(Conflict) as caught:
        deal_reopen(actor=alice, deal=deal)

    assert caught.value.code == "deal_not_closed"


def test_deal_created_directly_in_won_stage_reopens_to_first_open_stage(alice, stages):
    deal = deal_create(actor=alice, title="Signed on the spot", stage=stages[5])

    reopened = deal_reopen(actor=alice, deal=deal)

    assert reopened.stage == stages[0]

"""Each deal carries a summary of its stage history (stages entered, seconds per stage,
the stage it came from) that the funnel reads; the services keep it equal to the history."""

from __future__ import annotations

import importlib
from datetime import timedelta
from decimal import Decimal

from django.db import connection
from django.utils import timezone

from crm.deals.models import Deal
from crm.deals.services import deal_create, deal_mark_lost, deal_move_stage, deal_reopen, stage_delete
from tests.crm.deals.factories import deal_with_history


def test_new_deal_has_entered_its_first_stage(alice, stages):
    deal = deal_create(actor=alice, title="Fresh")

    deal.refresh_from_db()
    assert (deal.stages_entered, deal.stage_seconds, deal.previous_stage) == ([stages[0].pk], [None], None)


def test_move_adds_time_to_the_stage_left(alice, stages):
    deal = deal_create(actor=alice, title="Moving")
    Deal.objects.filter(pk=deal.pk).update(stage_entered_at=deal.stage_entered_at - timedelta(hours=5))

    deal = deal_move_stage(actor=alice, deal=deal, stage=stages[2])

    deal.refresh_from_db()
    assert deal.stages_entered == [stages[0].pk, stages[2].pk]
    assert deal.stage_seconds[1] is None
    assert 5 * 3600 <= deal.stage_seconds[0] < 5 * 3600 + 60
    assert deal.previous_stage == stages[0]


def test_coming_back_to_a_stage_lists_it_once_and_adds_up_the_stays(alice, stages):
    deal = deal_create(actor=alice, title="Back and forth")
    deal = deal_move_stage(actor=alice, deal=deal, stage=stages[1])
    deal = deal_mark_lost(actor=alice, deal=deal, reason="Silence")
    Deal.objects.filter(pk=deal.pk).update(stage_entered_at=deal.stage_entered_at - timedelta(days=2))

    deal = deal_reopen(actor=alice, deal=Deal.objects.get(pk=deal.pk))

    deal.refresh_from_db()
    assert deal.stages_entered == [stages[0].pk, stages[1].pk, stages[6].pk]
    assert deal.stage_seconds[2] >= 2 * 86400
    assert deal.previous_stage == stages[6]


def test_stage_removal_moves_keep_the_summary(alice, stages):
    deal = deal_create(actor=alice, title="Displaced", stage=stages[1])

    stage_delete(actor=alice, stage=stages[1], move_deals_to=stages[2])

    deal.refresh_from_db()
    assert deal.stages_entered == [stages[1].pk, stages[2].pk]
    assert deal.stage_seconds[0] is not None
    assert deal.previous_stage == stages[1]


def test_migration_backfill_rebuilds_the_summary_from_history(pipeline, stages):
    deal = deal_with_history(
        pipeline=pipeline,
        path=[stages[0], stages[1], stages[0], stages[2], stages[6]],
        created_at=timezone.now() - timedelta(days=30),
        days_between=[1, 2, 3, 4],
        amount=Decimal(10),
    )
    expected = (deal.stages_entered, deal.stage_seconds, deal.previous_stage_id)
    Deal.objects.filter(pk=deal.pk).update(stages_entered=[], stage_seconds=[], previous_stage=None)
    backfill = importlib.import_module("crm.deals.migrations.0003_deal_stage_summary").BACKFILL

    with connection.cursor() as cursor:
        cursor.execute(backfill)

    deal.refresh_from_db()
    assert (deal.stages_entered, deal.stage_seconds, deal.previous_stage_id) == expected
    assert deal.stages_entered == [stages[0].pk, stages[1].pk, stages[2].pk, stages[6].pk]
    assert deal.stage_seconds == [(1 + 3) * 86400, 2 * 86400, 4 * 86400, None]

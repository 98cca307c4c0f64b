"""crm.dashboard.selectors: "my" records, today in the workspace's time zone, the funnel
by stage, and indexed reads."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.utils import timezone

from crm.activities.services import task_create
from crm.dashboard.selectors import (
    my_day,
    my_deals_needing_attention,
    my_new_leads,
    my_open_deals_by_stage,
    my_tasks_due,
)
from crm.deals.models import Deal, Pipeline, Stage
from crm.deals.services import deal_create, deal_move_stage
from crm.leads.services import lead_create
from crm.models import WorkspaceSettings


def test_today_ends_at_midnight_in_the_workspaces_time_zone(acme):
    WorkspaceSettings.objects.update_or_create(pk=1, defaults={"time_zone": "Asia/Tokyo"})
    # 20:00 UTC is 05:00 the next morning in Tokyo.
    day = my_day(now=datetime(2026, 3, 10, 20, 0, tzinfo=UTC))
    assert day.today.isoformat() == "2026-03-11"
    assert day.end_of_today == datetime(2026, 3, 12, tzinfo=ZoneInfo("Asia/Tokyo"))


def test_an_unknown_time_zone_setting_falls_back_to_utc(acme):
    WorkspaceSettings.objects.update_or_create(pk=1, defaults={"time_zone": "Mars/Olympus"})
    assert my_day().zone == ZoneInfo("UTC")


def test_tasks_due_splits_overdue_from_today_and_stops_at_local_midnight(alice):
    WorkspaceSettings.objects.update_or_create(pk=1, defaults={"time_zone": "Asia/Tokyo"})
    now = datetime(2026, 3, 10, 20, 0, tzinfo=UTC)  # 05:00 on 11 March in Tokyo
    day = my_day(now=now)
    for title, due in [
        ("overdue", now - timedelta(hours=1)),
        ("tokyo afternoon", now + timedelta(hours=10)),  # 15:00 Tokyo, same day
        ("tokyo tomorrow", now + timedelta(hours=20)),  # 01:00 Tokyo, next day
    ]:
        task_create(actor=alice, title=title, due_at=due, owner=alice)
    due = my_tasks_due(actor=alice, day=day)
    assert [task.title for task in due.tasks] == ["overdue", "tokyo afternoon"]
    assert (due.overdue_count, due.today_count, due.total) == (1, 1, 2)


def test_tasks_due_caps_the_rows_but_counts_them_all(alice):
    now = timezone.now()
    for number in range(12):
        task_create(actor=alice, title=f"t{number}", due_at=now - timedelta(hours=number + 1), owner=alice)
    due = my_tasks_due(actor=alice, day=my_day(now=now), limit=8)
    assert len(due.tasks) == 8 and due.overdue_count == 12
    assert due.tasks[0].title == "t11"  # the oldest first


def test_new_leads_are_mine_and_new_only(alice, rex):
    lead_create(actor=alice, name="Rex's", owner=rex)
    lead_create(actor=alice, name="Alice's", owner=alice)
    new = my_new_leads(actor=rex)
    assert [lead.name for lead in new.leads] == ["Rex's"] and new.count == 1
    # an administrator's "my" is her own too
    assert [lead.name for lead in my_new_leads(actor=alice).leads] == ["Alice's"]


@pytest.mark.parametrize(("asked", "used"), [(0, 1), (1000, 365), (7, 7)])
def test_deals_needing_attention_keeps_the_days_within_range(rex, asked, used):
    assert my_deals_needing_attention(actor=rex, day=my_day(), days=asked).days == used


def test_deals_needing_attention_says_how_long_each_has_been_quiet(rex):
    deal = deal_create(actor=rex, title="Quiet", owner=rex)
    Deal.objects.filter(pk=deal.pk).update(last_activity_at=timezone.now() - timedelta(days=9, hours=1))
    stale = my_deals_needing_attention(actor=rex, day=my_day(), days=7)
    assert [(d.title, d.idle_days) for d in stale.deals] == [("Quiet", 9)] and stale.count == 1
    assert my_deals_needing_attention(actor=rex, day=my_day(), days=10).count == 0


def test_the_funnel_counts_my_open_deals_per_stage_of_each_pipeline_holding_some(alice, rex):
    default = Pipeline.objects.get(is_default=True)
    second = Pipeline.objects.create(name="Renewals", position=5)
    renewal_stage = Stage.objects.create(pipeline=second, name="Renewal talk", position=0)
    Stage.objects.create(pipeline=second, name="Renewed", position=1, kind="won")
    empty = Pipeline.objects.create(name="Unused", position=6)
    Stage.objects.create(pipeline=empty, name="Nothing here", position=0)

    deal_create(actor=rex, title="A", owner=rex, amount=Decimal("100"))
    deal_create(actor=rex, title="B", owner=rex, amount=Decimal("50.25"), pipeline=second, stage=renewal_stage)
    won = deal_create(actor=rex, title="Won", owner=rex, amount=Decimal("999"))
    deal_move_stage(actor=rex, deal=won, stage=default.stages.get(kind="won"))
    deal_create(actor=alice, title="Alice's", owner=alice, amount=Decimal("7"))

    funnel = my_open_deals_by_stage(actor=rex, day=my_day())

    assert [pipeline.name for pipeline in funnel.pipelines] == [default.name, "Renewals"]
    first = funnel.pipelines[0]
    assert [row.stage.kind for row in first.stages] == ["open"] * len(first.stages)  # won and lost left out
    assert (first.stages[0].count, first.stages[0].amount) == (1, Decimal("100.00"))
    assert (first.count, first.amount) == (1, Decimal("100.00"))
    assert [(row.stage.name, row.count) for row in funnel.pipelines[1].stages] == [("Renewal talk", 1)]
    assert funnel.count == 2 and funnel.currency == "USD"


def test_nobody_elses_deals_make_my_funnel(alice, rex):
    deal_create(actor=alice, title="Alice's", owner=alice, amount=Decimal("7"))
    assert my_open_deals_by_stage(actor=rex, day=my_day()).pipelines == []


def _plan(queryset) -> str:
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        # Tiny test tables would be scanned whole; without that choice the planner shows
        # which index the query can use, as it would on a large workspace.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
        cursor.execute("SET LOCAL enable_seqscan = on")
    return plan


def test_the_widgets_rows_are_read_through_indexes(rex):
    from crm.activities.models import TaskStatus
    from crm.activities.selectors import task_list
    from crm.deals.selectors import deals_needing_attention
    from crm.leads.selectors import lead_list

    day = my_day()
    tasks = task_list(actor=rex, owner=rex, status=TaskStatus.OPEN, due_before=day.end_of_today)
    leads = lead_list(actor=rex, owner=rex, status="new")
    deals = deals_needing_attention(actor=rex, days=7).filter(owner=rex)
    # No whole-table scan is left for any of them (on empty test tables the planner may
    # prefer another index of the same table, e.g. the open tasks' `task_open_due`).
    for queryset, table in ((tasks, "activities_task"), (leads, "leads_lead"), (deals, "deals_deal")):
        plan = _plan(queryset[:8])
        assert f"Seq Scan on {table}" not in plan and f"on {table}" in plan, plan


def test_counts_beyond_what_a_widget_shows_are_exact_up_to_the_cap(alice, monkeypatch):
    from crm.dashboard import selectors

    monkeypatch.setattr(selectors, "COUNT_CAP", 7)  # the cap is 1,000; 7 keeps the test small
    for number in range(7):
        lead_create(actor=alice, name=f"Lead {number}", owner=alice)

    at_cap = my_new_leads(actor=alice, limit=5)
    lead_create(actor=alice, name="One more", owner=alice)
    over_cap = my_new_leads(actor=alice, limit=5)

    assert len(at_cap.leads) == 5 and at_cap.count == 7 and at_cap.shown == "7"
    assert over_cap.count == 8 and over_cap.shown == "7+" and over_cap.plural_count == 7

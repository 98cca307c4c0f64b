"""Deal lists, a deal, the board and stale deals: filtered, visible only, without N+1."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from crm.clients.services import company_create, contact_create
from crm.deals.models import Deal
from crm.deals.selectors import (
    deal_counts_by_status,
    deal_get,
    deal_list,
    deal_stage_history,
    deals_needing_attention,
    pipeline_board,
    pipeline_list,
)
from crm.deals.services import deal_create, deal_mark_lost, deal_mark_won, deal_move_stage, pipeline_create
from crm.errors import RecordNotFound
from crm.models import WorkspaceSettings


@pytest.fixture
def deals(alice, rep, stages):
    company = company_create(actor=alice, name="Vector LLC")
    contact = contact_create(actor=alice, first_name="Anna", last_name="Petrova", company=company)

    def deal(title, amount, stage=None, owner=None, expected=None):
        return deal_create(
            actor=alice,
            title=title,
            amount=Decimal(amount),
            stage=stage,
            owner=owner or alice,
            contact=contact,
            company=company,
            expected_close_date=expected,
        )

    made = {
        "audit": deal("Sales audit", 2400, expected=date(2027, 1, 15)),
        "crm": deal("CRM rollout", 5800, stages[2], owner=rep, expected=date(2027, 2, 1)),
        "seo": deal("SEO campaign", 1200, stages[3], expected=date(2027, 3, 1)),
        "training": deal("Sales training", 1500, stages[1], owner=rep),
    }
    made["crm"] = deal_mark_won(actor=alice, deal=made["crm"])
    made["seo"] = deal_mark_lost(actor=alice, deal=made["seo"], reason="No budget")
    return made


def titles(queryset) -> list[str]:
    return [deal.title for deal in queryset]


def test_list_newest_first_by_default(alice, deals):
    assert titles(deal_list(actor=alice)) == ["Sales training", "SEO campaign", "CRM rollout", "Sales audit"]


@pytest.mark.parametrize(
    ("status", "expected"),
    [("open", {"Sales audit", "Sales training"}), ("won", {"CRM rollout"}), ("lost", {"SEO campaign"})],
)
def test_list_by_status(alice, deals, status, expected):
    assert set(titles(deal_list(actor=alice, status=status))) == expected


def test_list_by_owner_stage_and_pipeline(alice, rep, deals, pipeline, stages):
    assert set(titles(deal_list(actor=alice, owner=rep))) == {"CRM rollout", "Sales training"}
    assert titles(deal_list(actor=alice, stage=stages[1])) == ["Sales training"]
    assert len(deal_list(actor=alice, pipeline=pipeline)) == 4


def test_list_by_amount_and_expected_close_range(alice, deals):
    by_amount = deal_list(actor=alice, amount_min=Decimal(1500), amount_max=Decimal(2400), ordering="amount")
    by_date = deal_list(actor=alice, expected_close_from=date(2027, 1, 20), expected_close_to=date(2027, 2, 28))

    assert titles(by_amount) == ["Sales training", "Sales audit"]
    assert titles(by_date) == ["CRM rollout"]


def test_search_matches_title_anywhere_any_case(alice, deals):
    assert set(titles(deal_list(actor=alice, search="  SALES "))) == {"Sales audit", "Sales training"}


def test_ordering_by_expected_close_puts_undated_last(alice, deals):
    assert titles(deal_list(actor=alice, ordering="expected_close_date")) == [
        "Sales audit",
        "CRM rollout",
        "SEO campaign",
        "Sales training",
    ]


def test_unknown_status_or_ordering_is_a_field_error(alice, deals):
    with pytest.raises(ValidationError) as caught:
        deal_list(actor=alice, status="maybe", ordering="owner")

    assert {field: [e.code for e in errors] for field, errors in caught.value.error_dict.items()} == {
        "status": ["invalid_choice"],
        "ordering": ["invalid_choice"],
    }


def test_list_reads_related_records_and_tags_in_two_queries(alice, deals, django_assert_max_num_queries):
    with django_assert_max_num_queries(2):
        for deal in deal_list(actor=alice):
            assert all(
                (deal.stage.name, deal.pipeline.name, deal.owner.email, deal.contact.full_name, deal.company.name)
            )
            assert list(deal.tags.all()) == []


def test_list_hides_trashed_deals(alice, deals):
    Deal.objects.filter(pk=deals["audit"].pk).update(deleted_at=timezone.now())

    assert "Sales audit" not in titles(deal_list(actor=alice))


def test_switched_off_account_lists_nothing(rep, deals):
    rep.is_active = False
    rep.save()

    assert titles(deal_list(actor=rep)) == []


def test_get_returns_visible_deal(alice, deals):
    assert deal_get(actor=alice, deal_id=deals["audit"].pk).title == "Sales audit"


def test_get_trashed_or_missing_deal_is_not_found(alice, deals):
    Deal.objects.filter(pk=deals["audit"].pk).update(deleted_at=timezone.now())

    with pytest.raises(RecordNotFound):
        deal_get(actor=alice, deal_id=deals["audit"].pk)
    with pytest.raises(RecordNotFound):
        deal_get(actor=alice, deal_id=10**9)


def test_another_workspace_cannot_get_or_list_these_deals(deals, tenant_b):
    from accounts.models import User
    from tests.conftest import inside

    with inside(tenant_b):
        bob = User.objects.get()
        with pytest.raises(RecordNotFound):
            deal_get(actor=bob, deal_id=deals["audit"].pk)
        assert titles(deal_list(actor=bob)) == []


def test_stage_history_oldest_first(alice, deals, stages):
    moves = list(deal_stage_history(actor=alice, deal=deals["crm"]))

    assert [(move.from_stage, move.to_stage) for move in moves] == [(None, stages[2]), (stages[2], stages[5])]


def test_board_counts_totals_and_first_deals_per_stage(alice, deals, pipeline, stages):
    board = pipeline_board(actor=alice, pipeline=pipeline)

    assert [column.stage for column in board] == stages
    assert [(column.count, column.total_amount) for column in board] == [
        (1, Decimal("2400.00")),
        (1, Decimal("1500.00")),
        (0, Decimal("0")),
        (0, Decimal("0")),
        (0, Decimal("0")),
        (1, Decimal("5800.00")),
        (1, Decimal("1200.00")),
    ]
    assert board[1].weighted_amount == Decimal("300.00")
    assert [deal.title for deal in board[0].deals] == ["Sales audit"]


def test_board_shows_most_recently_moved_first_and_caps_each_column(alice, pipeline, stages):
    for number in range(5):
        deal_create(actor=alice, title=f"Deal {number}")

    column = pipeline_board(actor=alice, pipeline=pipeline, per_stage=3)[0]

    assert column.count == 5
    assert [deal.title for deal in column.deals] == ["Deal 4", "Deal 3", "Deal 2"]


def test_board_is_four_queries_whatever_the_stages_and_deals(alice, deals, pipeline, django_assert_max_num_queries):
    with django_assert_max_num_queries(4):
        board = pipeline_board(actor=alice, pipeline=pipeline)
        for column in board:
            for deal in column.deals:
                assert deal.owner and deal.company  # what a board card shows


def test_board_for_one_owner(alice, rep, deals, pipeline):
    board = pipeline_board(actor=alice, pipeline=pipeline, owner=rep)

    assert sum(column.count for column in board) == 2


def test_deals_needing_attention_uses_workspace_setting(alice, deals):
    WorkspaceSettings.objects.update_or_create(pk=1, defaults={"stale_deal_days": 10})
    long_ago = timezone.now() - timedelta(days=11)
    Deal.objects.filter(pk=deals["audit"].pk).update(last_activity_at=long_ago)
    Deal.objects.filter(pk=deals["training"].pk).update(created_at=long_ago, last_activity_at=None)

    assert set(titles(deals_needing_attention(actor=alice))) == {"Sales audit", "Sales training"}
    assert titles(deals_needing_attention(actor=alice, days=30)) == []


def test_closed_deals_never_need_attention(alice, deals):
    Deal.objects.update(last_activity_at=timezone.now() - timedelta(days=100))

    assert set(titles(deals_needing_attention(actor=alice))) == {"Sales audit", "Sales training"}


def test_recent_stage_move_counts_as_activity(alice, deals, stages):
    Deal.objects.filter(pk=deals["audit"].pk).update(last_activity_at=timezone.now() - timedelta(days=100))

    deal_move_stage(actor=alice, deal=deals["audit"], stage=stages[1])

    assert "Sales audit" not in titles(deals_needing_attention(actor=alice))


def test_counts_by_status(alice, deals):
    assert deal_counts_by_status(actor=alice) == {"open": 2, "won": 1, "lost": 1}


def test_pipeline_list_default_first_with_live_stages(alice, pipeline, django_assert_max_num_queries):
    pipeline_create(actor=alice, name="Partners")

    with django_assert_max_num_queries(2):
        pipelines = list(pipeline_list(actor=alice))
        stage_counts = [len(p.stages.all()) for p in pipelines]

    assert pipelines[0] == pipeline
    assert stage_counts == [7, 7]

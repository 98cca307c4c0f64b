"""The pipeline board: columns with counts and totals, moves through deal_move_stage
(stage history written), won/lost asking the reason, filters, isolation."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from crm.deals.models import Deal, DealStageChange, Pipeline, StageKind
from crm.deals.services import deal_create
from tests.conftest import inside


@pytest.fixture
def pipeline(acme):
    return Pipeline.objects.get(is_default=True)


def _stages(pipeline, kind=StageKind.OPEN):
    return list(pipeline.stages.filter(kind=kind).order_by("position"))


def test_board_shows_each_stage_with_count_and_total(alice, web_alice, pipeline, django_assert_max_num_queries):
    first, second = _stages(pipeline)[:2]
    for number in range(12):
        deal_create(actor=alice, title=f"Board deal {number}", amount=Decimal("100"), stage=first)
    deal_create(actor=alice, title="Further along", amount=Decimal("250.50"), stage=second)
    with django_assert_max_num_queries(20):
        response = web_alice.get("/deals/board/")
    body = response.content.decode()
    assert response.status_code == 200
    assert f'data-stage="{first.pk}"' in body and "12 deals" in body and "1,200.00" in body
    assert "1 deal<" in body and "250.50" in body
    assert body.count('<section class="board-column') == pipeline.stages.count()


def test_moving_a_deal_writes_the_stage_history(alice, web_alice, pipeline):
    first, second = _stages(pipeline)[:2]
    deal = deal_create(actor=alice, title="Mover", stage=first)
    response = web_alice.post(
        f"/deals/{deal.pk}/move/", {"stage": second.pk, "from": "board", "query": ""}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200 and 'id="board"' in response.content.decode()
    assert Deal.objects.get(pk=deal.pk).stage_id == second.pk
    moves = list(DealStageChange.objects.filter(deal=deal).order_by("id").values_list("from_stage", "to_stage"))
    assert moves == [(None, first.pk), (first.pk, second.pk)]


def test_moving_without_javascript_returns_to_the_board_with_its_filters(alice, web_alice, pipeline):
    first, second = _stages(pipeline)[:2]
    deal = deal_create(actor=alice, title="Mover", stage=first)
    response = web_alice.post(f"/deals/{deal.pk}/move/", {"stage": second.pk, "from": "board", "query": "owner=1"})
    assert response.status_code == 302 and response["Location"] == "/deals/board/?owner=1"


def test_a_lost_stage_asks_for_the_reason_first(alice, web_alice, pipeline):
    deal = deal_create(actor=alice, title="Maybe lost", stage=_stages(pipeline)[0])
    lost = _stages(pipeline, StageKind.LOST)[0]
    response = web_alice.post(f"/deals/{deal.pk}/move/", {"stage": lost.pk, "from": "board"})
    body = response.content.decode()
    assert response.status_code == 400 and "Say why the deal was lost." in body and 'name="lost_reason"' in body
    assert Deal.objects.get(pk=deal.pk).stage.kind == StageKind.OPEN
    web_alice.post(f"/deals/{deal.pk}/move/", {"stage": lost.pk, "lost_reason": "Too expensive", "from": "board"})
    deal.refresh_from_db()
    assert (deal.stage_id, deal.lost_reason) == (lost.pk, "Too expensive")


def test_the_board_offers_won_and_lost_dialogs(web_alice, pipeline):
    body = web_alice.get("/deals/board/").content.decode()
    assert '<dialog id="close-dialog"' in body and 'data-kind="lost"' in body and 'data-kind="won"' in body


def test_a_stage_of_another_pipeline_is_refused(alice, web_alice, pipeline):
    from crm.deals.services import pipeline_create

    other = pipeline_create(actor=alice, name="Partners")
    deal = deal_create(actor=alice, title="Stays", stage=_stages(pipeline)[0])
    foreign = other.stages.order_by("position").first()
    response = web_alice.post(f"/deals/{deal.pk}/move/", {"stage": foreign.pk})
    assert response.status_code == 400 and "Choose a stage of this deal" in response.content.decode()
    garbage = web_alice.post(f"/deals/{deal.pk}/move/", {"stage": "abc", "from": "board"}, HTTP_HX_REQUEST="true")
    assert garbage.status_code == 200 and 'role="alert">Choose a stage' in garbage.content.decode()
    assert Deal.objects.get(pk=deal.pk).stage == _stages(pipeline)[0]


def test_filters_by_owner_and_close_date(alice, rex, web_alice, pipeline):
    stage = _stages(pipeline)[0]
    deal_create(actor=alice, title="Alice June", stage=stage, expected_close_date=date(2030, 6, 1))
    deal_create(actor=alice, title="Rex June", stage=stage, owner=rex, expected_close_date=date(2030, 6, 2))
    deal_create(actor=alice, title="Alice July", stage=stage, expected_close_date=date(2030, 7, 1))
    body = web_alice.get("/deals/board/", {"owner": alice.pk, "close_from": "2030-06-01", "close_to": "2030-06-30"})
    text = body.content.decode()
    assert "Alice June" in text and "Rex June" not in text and "Alice July" not in text


def test_bad_filters_are_field_errors(web_alice):
    response = web_alice.get("/deals/board/", {"close_from": "someday", "pipeline": "999999"})
    assert response.status_code == 200 and 'class="error"' in response.content.decode()


def test_a_rep_sees_only_his_deals_and_cannot_move_others(alice, rex, web_rex, pipeline):
    first, second = _stages(pipeline)[:2]
    deal_create(actor=rex, title="Rex's own", stage=first, owner=rex)
    hidden = deal_create(actor=alice, title="Alice's", stage=first)
    body = web_rex.get("/deals/board/").content.decode()
    assert "Rex&#x27;s own" in body and "Alice&#x27;s" not in body
    assert web_rex.post(f"/deals/{hidden.pk}/move/", {"stage": second.pk}).status_code == 404
    assert Deal.objects.get(pk=hidden.pk).stage_id == first.pk


def test_another_workspaces_deal_cannot_be_moved(alice, tenant_a, web_bob):
    with inside(tenant_a):
        first, second = _stages(Pipeline.objects.get(is_default=True))[:2]
        deal = deal_create(actor=alice, title="Acme deal", stage=first)
    assert web_bob.post(f"/deals/{deal.pk}/move/", {"stage": second.pk}).status_code == 404
    assert "Acme deal" not in web_bob.get("/deals/board/").content.decode()
    with inside(tenant_a):
        assert Deal.objects.get(pk=deal.pk).stage_id == first.pk


def test_marking_won_from_the_card(alice, web_alice, pipeline):
    deal = deal_create(actor=alice, title="Winner", stage=_stages(pipeline)[0])
    won = _stages(pipeline, StageKind.WON)[0]
    card = web_alice.get(f"/deals/{deal.pk}/").content.decode()
    assert f'name="stage" value="{won.pk}"' in card
    response = web_alice.post(f"/deals/{deal.pk}/move/", {"stage": won.pk})
    assert response["Location"] == f"/deals/{deal.pk}/"
    assert Deal.objects.get(pk=deal.pk).stage_id == won.pk
    assert "Winner" in web_alice.get(f"/deals/{deal.pk}/").content.decode()

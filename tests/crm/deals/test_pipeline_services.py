"""Pipeline management: admins only, every pipeline keeps an open, a won and a lost stage,
positions stay unique through reorders, removed stages keep the history whole."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from crm.deals.models import Deal, DealStageChange, Pipeline, Stage, StageKind
from crm.deals.services import (
    StageSpec,
    deal_create,
    deal_move_stage,
    pipeline_create,
    pipeline_delete,
    pipeline_rename,
    pipeline_set_default,
    stage_add,
    stage_delete,
    stage_rename,
    stage_set_win_probability,
    stages_reorder,
)
from crm.errors import AccessDenied, Conflict
from tests.crm.deals.factories import stages_of

THREE_KINDS = [
    StageSpec("Talk", StageKind.OPEN, 20),
    StageSpec("Offer", StageKind.OPEN, 50),
    StageSpec("Signed", StageKind.WON, 100),
    StageSpec("Dropped", StageKind.LOST, 0),
]


def names(pipeline: Pipeline) -> list[str]:
    return [stage.name for stage in stages_of(pipeline)]


def codes(error: ValidationError) -> dict[str, list[str]]:
    return {field: [item.code for item in items] for field, items in error.error_dict.items()}


@pytest.fixture
def partners(alice):
    return pipeline_create(actor=alice, name="Partners", stages=THREE_KINDS)


def test_create_keeps_stage_order_and_probabilities(partners):
    stages = stages_of(partners)

    assert [(s.name, s.kind, s.win_probability, s.position) for s in stages] == [
        ("Talk", "open", 20, 0),
        ("Offer", "open", 50, 1),
        ("Signed", "won", 100, 2),
        ("Dropped", "lost", 0, 3),
    ]
    assert not partners.is_default


def test_create_without_stages_uses_the_service_process(alice):
    pipeline = pipeline_create(actor=alice, name="Second line")

    assert names(pipeline)[:2] == ["New", "Needs discovery"]
    assert len(names(pipeline)) == 7


def test_create_without_won_stage_is_refused(alice):
    with pytest.raises(ValidationError) as caught:
        pipeline_create(actor=alice, name="Broken", stages=[StageSpec("Talk"), StageSpec("Gone", StageKind.LOST)])

    assert codes(caught.value) == {"stages": ["stage_kind_required"]}
    assert not Pipeline.objects.filter(name="Broken").exists()


def test_create_reports_bad_stage_fields(alice):
    with pytest.raises(ValidationError) as caught:
        pipeline_create(actor=alice, name=" ", stages=[StageSpec("", "maybe", 120)])

    assert codes(caught.value) == {
        "name": ["required"],
        "stages.0.name": ["required"],
        "stages.0.kind": ["invalid_choice"],
        "stages.0.win_probability": ["invalid"],
    }


def test_sales_rep_cannot_configure_pipelines(rep, pipeline):
    with pytest.raises(AccessDenied):
        pipeline_create(actor=rep, name="Mine", stages=THREE_KINDS)
    with pytest.raises(AccessDenied):
        stage_rename(actor=rep, stage=stages_of(pipeline)[0], name="Fresh")


def test_reorder_puts_stages_in_the_given_order(alice, partners):
    talk, offer, signed, dropped = stages_of(partners)

    stages_reorder(actor=alice, pipeline=partners, stage_ids=[offer.pk, talk.pk, dropped.pk, signed.pk])

    assert names(partners) == ["Offer", "Talk", "Dropped", "Signed"]
    assert [stage.position for stage in stages_of(partners)] == [0, 1, 2, 3]


def test_reorder_reversing_every_stage_keeps_positions_unique(alice, pipeline):
    reversed_ids = [stage.pk for stage in reversed(stages_of(pipeline))]

    stages_reorder(actor=alice, pipeline=pipeline, stage_ids=reversed_ids)

    assert [stage.pk for stage in stages_of(pipeline)] == reversed_ids


def test_reorder_with_missing_or_foreign_stage_is_refused(alice, partners, pipeline):
    talk, offer, signed, _dropped = stages_of(partners)
    foreign = stages_of(pipeline)[0]

    for ids in ([talk.pk, offer.pk, signed.pk], [talk.pk, offer.pk, signed.pk, foreign.pk], [talk.pk] * 4):
        with pytest.raises(ValidationError) as caught:
            stages_reorder(actor=alice, pipeline=partners, stage_ids=ids)
        assert codes(caught.value) == {"stage_ids": ["invalid"]}
    assert names(partners) == ["Talk", "Offer", "Signed", "Dropped"]


def test_stage_added_without_position_goes_after_last_open_stage(alice, partners):
    stage = stage_add(actor=alice, pipeline=partners, name="Contract")

    assert names(partners) == ["Talk", "Offer", "Contract", "Signed", "Dropped"]
    assert (stage.position, stage.kind, stage.win_probability) == (2, "open", 0)


def test_stage_added_at_position_shifts_the_rest(alice, partners):
    stage_add(actor=alice, pipeline=partners, name="Intro", position=0, win_probability=5)

    assert names(partners) == ["Intro", "Talk", "Offer", "Signed", "Dropped"]


def test_stage_add_with_bad_position_is_a_field_error(alice, partners):
    with pytest.raises(ValidationError) as caught:
        stage_add(actor=alice, pipeline=partners, name="Far", position=9)

    assert codes(caught.value) == {"position": ["invalid"]}


def test_rename_and_probability(alice, partners):
    talk = stages_of(partners)[0]

    stage_rename(actor=alice, stage=talk, name="  First talk ")
    stage_set_win_probability(actor=alice, stage=talk, win_probability=15)

    talk.refresh_from_db()
    assert (talk.name, talk.win_probability) == ("First talk", 15)


def test_rename_to_blank_is_refused(alice, partners):
    with pytest.raises(ValidationError) as caught:
        stage_rename(actor=alice, stage=stages_of(partners)[0], name="  ")

    assert codes(caught.value) == {"name": ["required"]}


def test_stage_with_deals_cannot_be_removed_without_a_target(alice, partners):
    talk = stages_of(partners)[0]
    deal_create(actor=alice, title="Reseller deal", pipeline=partners)

    with pytest.raises(Conflict) as caught:
        stage_delete(actor=alice, stage=talk)

    assert caught.value.code == "stage_has_deals"
    assert names(partners)[0] == "Talk"


def test_trashed_deal_also_blocks_removal(alice, partners):
    deal = deal_create(actor=alice, title="Trashed", pipeline=partners)
    Deal.objects.filter(pk=deal.pk).update(deleted_at=deal.created_at)

    with pytest.raises(Conflict):
        stage_delete(actor=alice, stage=stages_of(partners)[0])


def test_removing_stage_moves_its_deals_with_history(alice, partners):
    talk, offer, _signed, _dropped = stages_of(partners)
    deals = [deal_create(actor=alice, title=f"Deal {n}", pipeline=partners) for n in range(3)]

    moved = stage_delete(actor=alice, stage=talk, move_deals_to=offer)

    assert moved == 3
    assert names(partners) == ["Offer", "Signed", "Dropped"]
    for deal in deals:
        deal.refresh_from_db()
        assert deal.stage == offer
        last = DealStageChange.objects.filter(deal=deal).order_by("-id").first()
        assert (last.from_stage, last.to_stage, last.changed_by) == (talk, offer, alice)


def test_removed_stage_is_archived_and_history_still_points_at_it(alice, partners):
    talk, offer, _signed, _dropped = stages_of(partners)
    deal = deal_create(actor=alice, title="Old deal", pipeline=partners)
    deal_move_stage(actor=alice, deal=deal, stage=offer)

    stage_delete(actor=alice, stage=talk)

    assert not Stage.objects.filter(pk=talk.pk).exists()
    archived = Stage.all_objects.get(pk=talk.pk)
    assert archived.deleted_at is not None
    first = DealStageChange.objects.filter(deal=deal).order_by("id").first()
    assert first.to_stage == archived


def test_new_stage_can_take_the_position_of_a_removed_one(alice, partners):
    talk = stages_of(partners)[0]
    stage_delete(actor=alice, stage=talk)

    stage_add(actor=alice, pipeline=partners, name="Talk again", position=0)

    assert names(partners) == ["Talk again", "Offer", "Signed", "Dropped"]


def test_last_won_stage_cannot_be_removed(alice, partners):
    signed = stages_of(partners)[2]

    with pytest.raises(ValidationError) as caught:
        stage_delete(actor=alice, stage=signed)

    assert codes(caught.value) == {"stage": ["stage_kind_required"]}


def test_moving_deals_to_another_pipelines_stage_is_refused(alice, partners, pipeline):
    deal_create(actor=alice, title="Deal", pipeline=partners)

    with pytest.raises(ValidationError) as caught:
        stage_delete(actor=alice, stage=stages_of(partners)[0], move_deals_to=stages_of(pipeline)[0])

    assert codes(caught.value) == {"move_deals_to": ["invalid"]}


def test_deal_cannot_enter_removed_stage(alice, partners):
    talk, offer, _signed, _dropped = stages_of(partners)
    deal = deal_create(actor=alice, title="Deal", pipeline=partners, stage=offer)
    stage_delete(actor=alice, stage=talk)

    with pytest.raises(ValidationError) as caught:
        deal_move_stage(actor=alice, deal=deal, stage=Stage.all_objects.get(pk=talk.pk))

    assert codes(caught.value) == {"stage": ["invalid"]}


def test_set_default_leaves_exactly_one_default(alice, partners, pipeline):
    pipeline_set_default(actor=alice, pipeline=partners)

    assert list(Pipeline.objects.filter(is_default=True)) == [partners]


def test_new_deals_go_to_the_default_pipeline(alice, partners):
    pipeline_set_default(actor=alice, pipeline=partners)

    deal = deal_create(actor=alice, title="Where am I")

    assert (deal.pipeline, deal.stage.name) == (partners, "Talk")


def test_pipeline_with_deals_cannot_be_deleted(alice, partners):
    deal_create(actor=alice, title="Keeps it alive", pipeline=partners)

    with pytest.raises(Conflict) as caught:
        pipeline_delete(actor=alice, pipeline=partners)

    assert caught.value.code == "pipeline_has_deals"


def test_deleting_default_pipeline_makes_another_default(alice, partners, pipeline):
    pipeline_delete(actor=alice, pipeline=pipeline)

    assert list(Pipeline.objects.all()) == [partners]
    partners.refresh_from_db()
    assert partners.is_default


def test_only_pipeline_cannot_be_deleted(alice, pipeline):
    with pytest.raises(Conflict) as caught:
        pipeline_delete(actor=alice, pipeline=pipeline)

    assert caught.value.code == "last_pipeline"


def test_rename_pipeline(alice, partners):
    pipeline_rename(actor=alice, pipeline=partners, name="Resellers")

    partners.refresh_from_db()
    assert partners.name == "Resellers"


def test_pipelines_of_one_workspace_do_not_reach_another(alice, partners, tenant_b):
    from tests.conftest import inside

    with inside(tenant_b):
        assert not Pipeline.objects.filter(name="Partners").exists()
        assert Pipeline.objects.count() == 1

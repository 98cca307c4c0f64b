"""What the API needs from crm.deals and crm.leads: filters by company, contact and tag,
lead orderings, and tags that move `updated_at` (the API's ETag)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from crm.clients.services import company_create
from crm.deals.selectors import deal_list, stage_get
from crm.deals.services import deal_create, deal_update
from crm.errors import RecordNotFound
from crm.leads.selectors import lead_list
from crm.leads.services import lead_create, lead_update


def test_deals_filter_by_company_contact_and_tag(alice):
    company = company_create(actor=alice, name="Filtered")
    tagged = deal_create(actor=alice, title="Tagged", amount=Decimal("1"), company=company, tags=["Hot"])
    deal_create(actor=alice, title="Plain", amount=Decimal("1"))
    tag = tagged.tags.get()
    assert list(deal_list(actor=alice, company=company)) == [tagged]
    assert list(deal_list(actor=alice, tag=tag)) == [tagged]
    assert list(deal_list(actor=alice, tag=tag.pk, company=company.pk)) == [tagged]


def test_changing_only_tags_moves_updated_at(alice):
    deal = deal_create(actor=alice, title="Tags", amount=Decimal("1"))
    before = deal.updated_at
    changed = deal_update(actor=alice, deal=deal, tags=["a", "b"])
    assert changed.updated_at > before
    assert sorted(tag.name for tag in changed.tags.all()) == ["a", "b"]

    lead = lead_create(actor=alice, name="Lead tags")
    before = lead.updated_at
    assert lead_update(actor=alice, lead=lead, tags=["x"]).updated_at > before


def test_a_tag_name_too_long_is_a_field_error_and_nothing_is_saved(alice):
    deal = deal_create(actor=alice, title="Long", amount=Decimal("1"))
    with pytest.raises(ValidationError) as error:
        deal_update(actor=alice, deal=deal, title="Changed", tags=["x" * 100])
    assert "tags" in error.value.message_dict
    with pytest.raises(ValidationError):
        lead_create(actor=alice, name="Long tag", tags=["x" * 100])


def test_leads_filter_by_tag_and_sort_by_name(alice):
    bob = lead_create(actor=alice, name="Bob", tags=["warm"])
    ann = lead_create(actor=alice, name="Ann")
    assert list(lead_list(actor=alice, tag=bob.tags.get())) == [bob]
    assert [lead.pk for lead in lead_list(actor=alice, ordering="name") if lead.pk in (ann.pk, bob.pk)] == [
        ann.pk,
        bob.pk,
    ]
    with pytest.raises(ValidationError):
        lead_list(actor=alice, ordering="phone")


def test_stage_get_finds_live_stages_of_the_given_pipeline_only(alice, pipeline, stages):
    assert stage_get(actor=alice, stage_id=stages[0].pk, pipeline=pipeline) == stages[0]
    with pytest.raises(RecordNotFound):
        stage_get(actor=alice, stage_id=99999999)

"""Tags on contacts and companies: one tag per name whatever its case."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from crm.clients.services import company_create, contact_create
from crm.models import Tag
from crm.tags import record_tags_set, tag_get_or_create


def test_tag_get_or_create_finds_an_existing_tag_whatever_the_case(alice):
    vip = tag_get_or_create(actor=alice, name="VIP")

    assert tag_get_or_create(actor=alice, name="  vip ") == vip
    assert Tag.objects.count() == 1


def test_tag_get_or_create_refuses_a_blank_or_too_long_name(alice):
    with pytest.raises(ValidationError) as blank:
        tag_get_or_create(actor=alice, name=" ")
    with pytest.raises(ValidationError) as long:
        tag_get_or_create(actor=alice, name="x" * 51)

    assert blank.value.error_dict["name"][0].code == "required"
    assert long.value.error_dict["name"][0].code == "max_length"


def test_record_tags_set_makes_the_tags_exactly_the_given_ones(alice):
    contact = contact_create(actor=alice, last_name="Smith", tags=["old", "keep"])

    tags = record_tags_set(actor=alice, record=contact, tags=["Keep", "new", "NEW", ""])

    assert [tag.name for tag in tags] == ["keep", "new"]
    assert sorted(tag.name for tag in contact.tags.all()) == ["keep", "new"]


def test_one_tag_serves_contacts_and_companies(alice):
    contact = contact_create(actor=alice, last_name="Smith", tags=["Partner"])
    company = company_create(actor=alice, name="Acme Supplies", tags=["partner"])

    assert contact.tags.get() == company.tags.get()


def test_a_too_long_tag_is_a_field_error_on_create(alice):
    with pytest.raises(ValidationError) as caught:
        contact_create(actor=alice, last_name="Smith", tags=["y" * 60])

    assert caught.value.error_dict["tags"][0].code == "max_length"

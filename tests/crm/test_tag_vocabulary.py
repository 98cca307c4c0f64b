"""The tag vocabulary: listing, renaming and deleting need no more and no less than they should."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from accounts import roles
from accounts.models import Role, User
from crm.clients.services import contact_create
from crm.errors import AccessDenied
from crm.tags import tag_delete, tag_get_or_create, tag_list, tag_update
from tests.conftest import ALICE_EMAIL, inside


@pytest.fixture
def people(tenant_a):
    with inside(tenant_a):
        alice = User.objects.select_related("role").get(email=ALICE_EMAIL)
        rep = User.objects.create_user(
            email="rep@acme.example", password="x", full_name="Rep", role=Role.objects.get(code=roles.SALES_REP)
        )
        yield alice, rep


def test_renaming_keeps_names_unique_whatever_the_case(people):
    alice, _rep = people
    tag = tag_get_or_create(actor=alice, name="Hot")
    tag_get_or_create(actor=alice, name="Cold")
    with pytest.raises(ValidationError) as refused:
        tag_update(actor=alice, tag=tag, name="COLD")
    assert refused.value.error_dict["name"][0].code == "name_taken"
    assert tag_update(actor=alice, tag=tag, name="Warm", color="#FF0000").color == "#ff0000"
    assert [t.name for t in tag_list(actor=alice, search="ar")] == ["Warm"]


def test_a_bad_colour_is_refused_on_create_and_update(people):
    alice, _rep = people
    with pytest.raises(ValidationError):
        tag_get_or_create(actor=alice, name="Red", color="red")
    tag = tag_get_or_create(actor=alice, name="Red", color="#aa0000")
    with pytest.raises(ValidationError):
        tag_update(actor=alice, tag=tag, color="#12345")


def test_only_the_settings_power_renames_or_deletes(people):
    alice, rep = people
    tag = tag_get_or_create(actor=rep, name="Rep made")
    with pytest.raises(AccessDenied):
        tag_update(actor=rep, tag=tag, name="Mine")
    with pytest.raises(AccessDenied):
        tag_delete(actor=rep, tag=tag)
    contact = contact_create(actor=alice, first_name="Tagged", tags=[tag])
    tag_delete(actor=alice, tag=tag)
    assert list(contact.tags.all()) == []

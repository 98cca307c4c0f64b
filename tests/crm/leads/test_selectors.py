"""lead_list and lead_get: filters, search, query bounds and isolation."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from crm.errors import RecordNotFound
from crm.leads.models import Lead, LeadStatus
from crm.leads.selectors import lead_get, lead_list
from crm.leads.services import lead_create, lead_set_status
from crm.models import WorkspaceSettings
from tests.conftest import inside


@pytest.fixture
def leads(alice, rita, sam, lead_form):
    ivan = lead_create(
        actor=None,
        name="Ivan Petrov",
        phone="+7 912 345-67-89",
        email="ivan@romashka.example",
        company_name="Romashka",
        owner=rita,
        channel="web_form",
        form=lead_form,
        source={"utm_source": "yandex", "utm_campaign": "spring"},
    )
    maria = lead_create(
        actor=None,
        name="Maria Lopez",
        email="maria@example.es",
        owner=sam,
        channel="phone",
        source={"utm_source": "google", "utm_campaign": "spring"},
    )
    old = lead_create(actor=None, name="Old Timer", phone="+12125550100", owner=rita, channel="manual")
    Lead.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=40))
    lead_set_status(actor=rita, lead=ivan, status=LeadStatus.QUALIFIED)
    return {"ivan": ivan, "maria": maria, "old": old}


def names(queryset) -> list[str]:
    return [lead.name for lead in queryset]


def test_newest_lead_comes_first(alice, leads):
    assert names(lead_list(actor=alice)) == ["Maria Lopez", "Ivan Petrov", "Old Timer"]


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"status": "qualified"}, ["Ivan Petrov"]),
        ({"channel": "phone"}, ["Maria Lopez"]),
        ({"utm_source": "yandex"}, ["Ivan Petrov"]),
        ({"utm_campaign": "spring"}, ["Maria Lopez", "Ivan Petrov"]),
        ({"search": "petr"}, ["Ivan Petrov"]),
        ({"search": "ROMASHKA"}, ["Ivan Petrov"]),
        ({"search": "Maria@Example.es"}, ["Maria Lopez"]),
        ({"search": "(212) 555-0100"}, ["Old Timer"]),
        ({"search": "nobody"}, []),
    ],
)
def test_filters(alice, leads, filters, expected):
    assert names(lead_list(actor=alice, **filters)) == expected


def test_filter_by_owner(alice, rita, leads):
    assert names(lead_list(actor=alice, owner=rita)) == ["Ivan Petrov", "Old Timer"]


def test_phone_search_understands_local_formats(alice, leads):
    WorkspaceSettings.objects.filter(pk=1).update(default_phone_region="RU")

    assert names(lead_list(actor=alice, search="89123456789")) == ["Ivan Petrov"]


def test_created_range_takes_whole_days(alice, leads):
    today = timezone.localdate()

    assert names(lead_list(actor=alice, created_from=today, created_to=today)) == ["Maria Lopez", "Ivan Petrov"]
    assert names(lead_list(actor=alice, created_to=today - timedelta(days=30))) == ["Old Timer"]


def test_list_loads_owner_form_and_tags_in_a_fixed_number_of_queries(alice, leads, django_assert_max_num_queries):
    for n in range(10):
        lead_create(actor=None, name=f"Extra {n}", owner=alice, source={"utm_source": "bing"})

    with django_assert_max_num_queries(2):
        rows = [
            (lead.owner.full_name if lead.owner else "", lead.form.name if lead.form else "", list(lead.tags.all()))
            for lead in lead_list(actor=alice)
        ]

    assert len(rows) == 13


def test_trashed_lead_is_not_listed_or_found(alice, leads):
    Lead.objects.filter(pk=leads["maria"].pk).update(deleted_at=timezone.now())

    assert "Maria Lopez" not in names(lead_list(actor=alice))
    with pytest.raises(RecordNotFound):
        lead_get(actor=alice, lead_id=leads["maria"].pk)


def test_lead_get_returns_the_lead(alice, leads):
    assert lead_get(actor=alice, lead_id=leads["ivan"].pk) == leads["ivan"]


def test_switched_off_user_sees_no_leads(alice, rita, leads):
    rita.is_active = False
    rita.save(update_fields=["is_active"])

    assert names(lead_list(actor=rita)) == []
    with pytest.raises(RecordNotFound):
        lead_get(actor=rita, lead_id=leads["ivan"].pk)


def test_another_workspace_sees_none_of_these_leads(tenant_b, bob, leads):
    with inside(tenant_b):
        assert names(lead_list(actor=bob)) == []
        with pytest.raises(RecordNotFound):
            lead_get(actor=bob, lead_id=leads["ivan"].pk)

"""Times are shown in the reader's zone: their own, else the workspace's; stored in UTC."""

from __future__ import annotations

import importlib
from datetime import UTC, datetime

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone

from accounts.services import user_time_zone_set
from crm.activities.services import task_create
from crm.selectors import workspace_settings
from crm.services import workspace_settings_update
from tenants.models import Tenant
from tests.conftest import inside


def test_a_workspace_signed_up_in_russian_works_in_moscow_time(tenant_b):
    assert Tenant.objects.get(pk=tenant_b.pk).time_zone == "Europe/Moscow"


def test_changing_the_workspace_zone_in_settings_moves_the_workspace(alice, tenant_a):
    current = workspace_settings()
    workspace_settings_update(
        actor=alice,
        base_currency=current.base_currency,
        default_phone_region=current.default_phone_region,
        time_zone="Asia/Dubai",
        lead_followup_minutes=current.lead_followup_minutes,
        stale_deal_days=current.stale_deal_days,
        language="en",
        idle_timeout_minutes=15,
        allow_parallel_sessions=True,
    )

    assert Tenant.objects.get(pk=tenant_a.pk).time_zone == "Asia/Dubai"
    assert workspace_settings().time_zone == "Asia/Dubai"


@pytest.fixture
def task_at_noon_utc(alice):
    return task_create(
        actor=alice, title="Noon UTC call", due_at=datetime(2026, 12, 15, 12, 0, tzinfo=UTC), owner=alice
    )


def test_pages_show_times_in_the_workspace_zone(alice, tenant_a, task_at_noon_utc, web_alice):
    Tenant.objects.filter(pk=tenant_a.pk).update(time_zone="Asia/Dubai")

    body = web_alice.get("/calendar/?view=day&date=2026-12-15").content.decode()

    assert "16:00" in body and "Asia/Dubai" in body


def test_a_persons_own_zone_wins_over_the_workspaces(alice, tenant_a, task_at_noon_utc, web_alice):
    Tenant.objects.filter(pk=tenant_a.pk).update(time_zone="Asia/Dubai")

    web_alice.post("/time-zone/", {"time_zone": "America/New_York", "next": "/calendar/"})
    body = web_alice.get("/calendar/?view=day&date=2026-12-15").content.decode()

    assert "07:00" in body and "America/New_York" in body
    alice.refresh_from_db()
    assert alice.time_zone == "America/New_York"


def test_an_unknown_zone_is_refused(alice):
    with pytest.raises(ValidationError) as refused:
        user_time_zone_set(user=alice, time_zone="Mars/Olympus_Mons")

    assert refused.value.error_dict["time_zone"][0].code == "invalid_choice"


def test_the_zone_chooser_refuses_nonsense_with_a_message(alice, web_alice):
    response = web_alice.post("/time-zone/", {"time_zone": "Nowhere/Land", "next": "/calendar/"}, follow=True)

    assert "Choose a time zone from the list." in response.content.decode()


def test_the_zone_chooser_never_redirects_off_the_site(web_alice):
    response = web_alice.post("/time-zone/", {"time_zone": "", "next": "https://evil.example/"})

    assert response["Location"] == "/"


def test_a_typed_time_is_read_in_the_readers_zone(alice, tenant_a, task_at_noon_utc, web_alice):
    Tenant.objects.filter(pk=tenant_a.pk).update(time_zone="Asia/Dubai")
    task = task_at_noon_utc

    web_alice.post(f"/calendar/tasks/{task.pk}/move/", {f"t{task.pk}-due_at": "2026-12-16T09:30"})

    task.refresh_from_db()
    assert task.due_at == datetime(2026, 12, 16, 5, 30, tzinfo=UTC)


def test_the_next_request_on_the_thread_starts_from_utc(alice, tenant_a, web_alice):
    Tenant.objects.filter(pk=tenant_a.pk).update(time_zone="Asia/Dubai")

    web_alice.get("/calendar/")

    assert timezone.get_current_timezone_name() == "UTC"


def test_existing_workspaces_keep_their_zone_when_the_column_arrives(tenant_a):
    # The data migration copies each workspace's Settings → time zone into its row.
    migration = importlib.import_module("tenants.migrations.0009_time_zone")
    with inside(tenant_a):
        settings = workspace_settings()
        type(settings).objects.filter(pk=1).update(time_zone="America/Bogota")
    Tenant.objects.filter(pk=tenant_a.pk).update(time_zone="UTC")
    connection.set_schema_to_public()

    with connection.schema_editor(atomic=False) as editor:
        migration.copy_from_workspace_settings(apps, editor)

    assert Tenant.objects.get(pk=tenant_a.pk).time_zone == "America/Bogota"

"""Task lists: filters, today and overdue, query bounds, isolation."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError

from crm.activities.models import Task
from crm.activities.selectors import task_list, tasks_due_today, tasks_overdue
from crm.activities.services import task_complete, task_create
from crm.models import WorkspaceSettings
from tests.conftest import inside

MADRID = ZoneInfo("Europe/Madrid")
# 22:00 in Madrid on a winter day: two hours are left of "today" there.
NOW = datetime(2031, 1, 15, 22, 0, tzinfo=MADRID)


def make(owner, due: timedelta, title: str = "Task", **links) -> Task:
    return task_create(actor=owner, title=title, due_at=NOW + due, owner=owner, **links)


@pytest.fixture
def in_madrid(acme):
    WorkspaceSettings.objects.update_or_create(pk=1, defaults={"time_zone": "Europe/Madrid"})


def test_task_list_filters_by_owner_status_and_due_time(alice, rita):
    mine_soon = make(alice, timedelta(hours=1))
    make(alice, timedelta(days=3))
    make(rita, timedelta(hours=1))
    done = make(alice, timedelta(hours=1))
    task_complete(actor=alice, task=done)

    listed = task_list(actor=alice, owner=alice, status="open", due_before=NOW + timedelta(days=1))

    assert list(listed) == [mine_soon]


def test_overdue_means_open_and_past_due(alice):
    late = make(alice, -timedelta(hours=1))
    late_but_done = make(alice, -timedelta(hours=2))
    task_complete(actor=alice, task=late_but_done)
    upcoming = make(alice, timedelta(hours=1))

    assert list(task_list(actor=alice, overdue=True, now=NOW)) == [late]
    assert list(task_list(actor=alice, overdue=False, now=NOW)) == [late_but_done, upcoming]


def test_due_today_is_what_is_left_of_today_in_the_workspaces_time_zone(alice, in_madrid):
    make(alice, -timedelta(hours=1), title="overdue")
    make(alice, timedelta(hours=1), title="tonight")
    make(alice, timedelta(hours=2, minutes=30), title="tomorrow in Madrid, still today in UTC")

    assert [t.title for t in tasks_due_today(user=alice, now=NOW)] == ["tonight"]
    assert [t.title for t in tasks_overdue(user=alice, now=NOW)] == ["overdue"]


def test_today_and_overdue_are_only_the_users_own_tasks(alice, rita, in_madrid):
    make(rita, timedelta(hours=1))
    make(rita, -timedelta(hours=1))

    assert not tasks_due_today(user=alice, now=NOW).exists()
    assert not tasks_overdue(user=alice, now=NOW).exists()


def test_an_unknown_status_is_a_field_error(alice):
    with pytest.raises(ValidationError) as caught:
        task_list(actor=alice, status="someday")

    assert caught.value.error_dict["status"][0].code == "invalid_choice"


def test_trashed_tasks_are_not_listed(alice):
    trashed = make(alice, timedelta(hours=1))
    Task.all_objects.filter(pk=trashed.pk).update(deleted_at=NOW)

    assert not task_list(actor=alice).exists()


def test_a_task_list_with_assignees_and_linked_records_is_one_query(
    alice, rita, contact, company, django_assert_max_num_queries
):
    for n in range(30):
        make(alice if n % 2 else rita, timedelta(hours=n), contact=contact, company=company)

    with django_assert_max_num_queries(1):
        rows = [(t.owner.full_name, t.contact.full_name, t.company.name) for t in task_list(actor=alice)]

    assert len(rows) == 30


def test_another_workspace_lists_none_of_these_tasks(alice, tenant_b):
    make(alice, timedelta(hours=1))

    with inside(tenant_b):
        assert list(task_list(actor=None)) == []

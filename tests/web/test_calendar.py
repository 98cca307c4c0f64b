"""The calendar page: tasks by month, week and day, moved by drag or form, and the feed."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import icalendar
import pytest
from django.utils import timezone

from accounts.models import SeatLease
from crm.activities.models import Task, TaskKind
from crm.activities.services import task_cancel, task_complete, task_create
from crm.calendar.models import CalendarFeed
from crm.clients.services import contact_create
from tenants.models import Tenant
from tests.conftest import inside

MOSCOW = ZoneInfo("Europe/Moscow")


@pytest.fixture
def moscow(acme):
    """Acme works in Moscow time for these tests."""
    Tenant.objects.filter(pk=acme.pk).update(time_zone="Europe/Moscow")
    acme.time_zone = "Europe/Moscow"
    yield acme


def _task(owner, title, when, **extra):
    return task_create(actor=owner, title=title, due_at=when, owner=owner, **extra)


def _day_url(day, view="day", **extra):
    query = "&".join(f"{key}={value}" for key, value in {"view": view, "date": day.isoformat(), **extra}.items())
    return f"/calendar/?{query}"


def test_the_week_shows_my_tasks_on_their_local_days(alice, moscow, web_alice):
    # 22:30 UTC on the 9th is 01:30 on the 10th in Moscow.
    late = _task(alice, "Call Ivan after midnight", datetime(2026, 12, 9, 22, 30, tzinfo=UTC))

    body = web_alice.get(_day_url(late.due_at.date(), view="week")).content.decode()

    assert "Call Ivan after midnight" in body
    day_of = body.index('data-day="2026-12-10"')
    assert body.index("Call Ivan after midnight") > day_of
    assert "01:30" in body
    assert "Europe/Moscow" in body


def test_the_month_shows_a_few_tasks_a_day_and_how_many_more(alice, moscow, web_alice):
    day = datetime(2026, 12, 15, 9, 0, tzinfo=MOSCOW)
    for number in range(6):
        _task(alice, f"Task {number}", day + timedelta(minutes=number))

    body = web_alice.get(_day_url(day.date(), view="month")).content.decode()

    assert body.count('class="calendar-entry ') == 4
    assert "+2 more" in body


def test_the_day_view_puts_tasks_in_their_hour(alice, moscow, web_alice):
    when = datetime(2026, 12, 15, 9, 15, tzinfo=MOSCOW)
    _task(alice, "Morning stand-up", when, kind=TaskKind.MEETING, duration_minutes=15)

    body = web_alice.get(_day_url(date(2026, 12, 15))).content.decode()

    hour = body.index('data-hour="09"')
    assert hour < body.index("Morning stand-up") < body.index('data-hour="10"')
    assert "15 min" in body


def test_an_empty_day_says_so(alice, web_alice):
    body = web_alice.get(_day_url(date(2031, 1, 1))).content.decode()

    assert "Nothing planned for this day." in body


def test_cancelled_tasks_leave_the_calendar_and_done_ones_stay_marked(alice, web_alice):
    when = timezone.now() + timedelta(days=1)
    cancelled = _task(alice, "Cancelled call", when)
    task_cancel(actor=alice, task=cancelled)
    done = _task(alice, "Finished call", when)
    task_complete(actor=alice, task=done)

    body = web_alice.get(_day_url(timezone.localdate(when), view="week")).content.decode()

    assert "Cancelled call" not in body
    assert "status-done" in body and "Finished call" in body


def test_a_sales_rep_sees_only_his_tasks_even_when_asking_for_everyone(alice, rex, web_rex):
    when = timezone.now() + timedelta(days=1)
    _task(alice, "Board meeting of Alice", when)
    _task(rex, "Call by Rex", when)

    body = web_rex.get(_day_url(timezone.localdate(when), view="week", owner="all")).content.decode()

    assert "Call by Rex" in body and "Board meeting of Alice" not in body
    assert 'id="calendar-owner"' not in body


def test_an_admin_can_look_at_a_colleagues_calendar(alice, rex, web_alice):
    when = timezone.now() + timedelta(days=1)
    _task(alice, "Own task of Alice", when)
    _task(rex, "Call by Rex", when)

    body = web_alice.get(_day_url(timezone.localdate(when), view="week", owner=rex.pk)).content.decode()

    assert "Call by Rex" in body and "Own task of Alice" not in body


def test_dropping_a_task_on_another_day_moves_it_in_local_time(alice, moscow, web_alice):
    task = _task(alice, "Demo", datetime(2026, 12, 15, 10, 0, tzinfo=MOSCOW))

    response = web_alice.post(
        f"/calendar/tasks/{task.pk}/move/",
        {f"t{task.pk}-due_at": "2026-12-17T10:00", "next": "/calendar/?view=week&date=2026-12-15"},
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="calendar-grid",
        follow=True,
    )

    assert Task.objects.get(pk=task.pk).due_at == datetime(2026, 12, 17, 7, 0, tzinfo=UTC)
    body = response.content.decode()
    assert body.startswith('<div id="calendar-grid"') and "<html" not in body
    assert "moved to" in body


def test_a_closed_task_cannot_be_moved_and_the_reason_is_shown(alice, web_alice):
    task = _task(alice, "Old call", timezone.now() + timedelta(days=1))
    task_complete(actor=alice, task=task)

    response = web_alice.post(
        f"/calendar/tasks/{task.pk}/move/", {f"t{task.pk}-due_at": "2030-01-01T10:00"}, follow=True
    )

    assert "Only an open task can be rescheduled." in response.content.decode()
    assert Task.objects.get(pk=task.pk).due_at == task.due_at


def test_a_garbled_time_is_refused_with_a_message(alice, web_alice):
    task = _task(alice, "Call", timezone.now() + timedelta(days=1))

    response = web_alice.post(f"/calendar/tasks/{task.pk}/move/", {f"t{task.pk}-due_at": "next tuesday"}, follow=True)

    assert response.status_code == 200
    assert "Give the new date and time" in response.content.decode()
    assert Task.objects.get(pk=task.pk).due_at == task.due_at


def test_moving_someone_elses_task_is_not_found(alice, rex, web_rex):
    task = _task(alice, "Meeting of Alice", timezone.now() + timedelta(days=1))

    response = web_rex.post(f"/calendar/tasks/{task.pk}/move/", {f"t{task.pk}-due_at": "2030-01-01T10:00"})

    assert response.status_code == 404
    assert Task.objects.get(pk=task.pk).due_at == task.due_at


def test_moving_another_workspaces_task_is_not_found(alice, tenant_a, web_bob):
    with inside(tenant_a):
        task = _task(alice, "Acme only", timezone.now() + timedelta(days=1))

    response = web_bob.post(f"/calendar/tasks/{task.pk}/move/", {f"t{task.pk}-due_at": "2030-01-01T10:00"})

    assert response.status_code == 404
    with inside(tenant_a):
        assert Task.objects.get(pk=task.pk).due_at == task.due_at


def test_the_page_stays_within_a_query_bound(alice, web_alice, django_assert_max_num_queries):
    contact = contact_create(actor=alice, first_name="Many", last_name="Tasks")
    when = timezone.now() + timedelta(days=1)
    for number in range(20):
        _task(alice, f"T{number}", when + timedelta(minutes=number), contact=contact)
    with django_assert_max_num_queries(14):
        assert web_alice.get(_day_url(timezone.localdate(when), view="week")).status_code == 200


def test_a_broken_date_or_view_falls_back_to_this_week(web_alice):
    response = web_alice.get("/calendar/?view=year&date=2026-99-99")

    assert response.status_code == 200
    assert 'aria-current="page">Week' in response.content.decode()


# --- the feed --------------------------------------------------------------------------


def _secret_from(response) -> str:
    return re.search(r"/calendar/feed/([A-Za-z0-9_-]+)\.ics", response.content.decode()).group(1)


def test_making_a_feed_shows_its_address_once_and_stores_only_a_hash(alice, web_alice):
    response = web_alice.post("/calendar/feed/")
    secret = _secret_from(response)

    feed = CalendarFeed.objects.get(user=alice, revoked_at__isnull=True)
    assert secret.startswith(feed.token_prefix) and secret not in (feed.token_hash, feed.token_prefix)
    assert secret not in web_alice.get("/calendar/").content.decode()


def test_a_calendar_program_reads_my_tasks_without_signing_in(alice, rex, tenant_a, web_alice, client_a):
    mine = _task(alice, "Quarterly review", timezone.now() + timedelta(days=2), kind=TaskKind.MEETING)
    _task(rex, "Private call of Rex", timezone.now() + timedelta(days=2))
    secret = _secret_from(web_alice.post("/calendar/feed/"))
    leases_before = SeatLease.objects.count()

    response = client_a.get(f"/calendar/feed/{secret}.ics")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    calendar = icalendar.Calendar.from_ical(response.content)
    titles = [str(event["SUMMARY"]) for event in calendar.walk("VEVENT")]
    assert titles == ["Quarterly review"]
    assert str(calendar.walk("VEVENT")[0]["UID"]) == f"task-{mine.pk}@acme.localhost"
    assert SeatLease.objects.count() == leases_before, "reading the feed takes no seat"


def test_an_unchanged_feed_answers_304(alice, web_alice, client_a):
    _task(alice, "Review", timezone.now() + timedelta(days=2))
    secret = _secret_from(web_alice.post("/calendar/feed/"))
    first = client_a.get(f"/calendar/feed/{secret}.ics")

    again = client_a.get(f"/calendar/feed/{secret}.ics", HTTP_IF_NONE_MATCH=first["ETag"])

    assert again.status_code == 304


def test_a_new_address_kills_the_old_one_and_revoking_kills_both(alice, web_alice, client_a):
    old = _secret_from(web_alice.post("/calendar/feed/"))
    new = _secret_from(web_alice.post("/calendar/feed/"))

    assert client_a.get(f"/calendar/feed/{old}.ics").status_code == 404
    assert client_a.get(f"/calendar/feed/{new}.ics").status_code == 200
    web_alice.post("/calendar/feed/revoke/")
    assert client_a.get(f"/calendar/feed/{new}.ics").status_code == 404


def test_a_switched_off_persons_feed_stops(alice, rex, web_rex, client_a):
    secret = _secret_from(web_rex.post("/calendar/feed/"))
    type(rex).objects.filter(pk=rex.pk).update(is_active=False)

    assert client_a.get(f"/calendar/feed/{secret}.ics").status_code == 404


def test_a_feed_address_means_nothing_on_another_workspace(alice, web_alice, client_b):
    secret = _secret_from(web_alice.post("/calendar/feed/"))

    assert client_b.get(f"/calendar/feed/{secret}.ics").status_code == 404


def test_a_made_up_address_is_not_found(client_a):
    assert client_a.get("/calendar/feed/not-a-real-secret.ics").status_code == 404

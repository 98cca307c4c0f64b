"""Notifications reach an open page without a reload: the header's poll."""

from __future__ import annotations

from crm.notifications.models import Notification
from crm.notifications.services import notify
from tests.conftest import inside


def test_the_first_poll_learns_the_newest_id_and_reports_nothing_as_new(alice, web_alice):
    old = notify(recipient=alice, kind="system", title="Before the page opened")

    data = web_alice.get("/notifications/poll/", {"baseline": "1"}).json()

    assert data["latest_id"] == old.pk
    assert data["unread"] == 1
    assert data["new"] == []


def test_a_notification_that_arrives_later_is_reported_once(alice, web_alice):
    first = notify(recipient=alice, kind="system", title="Old")
    latest = web_alice.get("/notifications/poll/", {"baseline": "1"}).json()["latest_id"]

    arrived = notify(recipient=alice, kind="task_overdue", title="Call Ivan: overdue", url="/tasks/")
    data = web_alice.get("/notifications/poll/", {"after": latest}).json()

    assert [item["id"] for item in data["new"]] == [arrived.pk]
    assert data["new"][0]["title"] == "Call Ivan: overdue"
    assert data["new"][0]["url"] == "/tasks/"
    assert data["unread"] == 2 and data["latest_id"] == arrived.pk > first.pk
    assert web_alice.get("/notifications/poll/", {"after": arrived.pk}).json()["new"] == []


def test_an_unchanged_inbox_answers_304_to_its_etag(alice, web_alice):
    notify(recipient=alice, kind="system", title="One")
    first = web_alice.get("/notifications/poll/", {"after": 0})

    again = web_alice.get("/notifications/poll/", {"after": 0}, HTTP_IF_NONE_MATCH=first["ETag"])
    notify(recipient=alice, kind="system", title="Two")
    changed = web_alice.get("/notifications/poll/", {"after": 0}, HTTP_IF_NONE_MATCH=first["ETag"])

    assert again.status_code == 304 and again.content == b""
    assert changed.status_code == 200 and changed["ETag"] != first["ETag"]


def test_reading_one_changes_the_badge_count(alice, web_alice):
    note = notify(recipient=alice, kind="system", title="One")
    web_alice.post(f"/notifications/{note.pk}/read/")

    data = web_alice.get("/notifications/poll/", {"after": 0}).json()

    assert data["unread"] == 0 and data["new"] == []


def test_someone_elses_notifications_never_show(alice, rex, web_rex):
    notify(recipient=alice, kind="system", title="For Alice only")

    data = web_rex.get("/notifications/poll/", {"after": 0}).json()

    assert data == {**data, "unread": 0, "latest_id": 0, "new": []}


def test_another_workspaces_notifications_never_show(alice, tenant_a, web_bob):
    with inside(tenant_a):
        Notification.objects.create(pk=10**12, recipient=alice, kind="system", title="Acme only")

    data = web_bob.get("/notifications/poll/", {"after": 0}).json()

    assert all(item["title"] != "Acme only" for item in data["new"]) and data["latest_id"] != 10**12


def test_an_offsite_link_is_not_passed_to_the_browser(alice, web_alice):
    notify(recipient=alice, kind="system", title="Look", url="//evil.example/")

    data = web_alice.get("/notifications/poll/", {"after": 0}).json()

    assert data["new"][0]["url"] == ""


def test_the_browser_stops_polling_well_before_a_shared_seat_would_expire(alice, web_alice):
    from accounts.seats import access_settings_update

    access_settings_update(actor=alice, idle_timeout_minutes=4, allow_parallel_sessions=True)

    data = web_alice.get("/notifications/poll/", {"baseline": "1"}).json()

    assert data["stop_after_idle_seconds"] == 120


def test_a_signed_out_poll_is_sent_to_sign_in(client_a):
    response = client_a.get("/notifications/poll/")

    assert response.status_code == 302 and "/login/" in response["Location"]


def test_a_garbled_after_reads_as_zero(alice, web_alice):
    assert web_alice.get("/notifications/poll/", {"after": "x'; drop"}).status_code == 200


def test_the_poll_stays_within_a_query_bound(alice, web_alice, django_assert_max_num_queries):
    for number in range(30):
        notify(recipient=alice, kind="system", title=f"N{number}")
    with django_assert_max_num_queries(8):
        assert web_alice.get("/notifications/poll/", {"after": 0}).status_code == 200

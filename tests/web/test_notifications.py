"""The notifications inbox behind the header's unread count."""

from __future__ import annotations

from crm.notifications.models import Notification
from crm.notifications.services import notify
from tests.conftest import inside


def test_inbox_lists_my_notifications_only(alice, rex, web_alice):
    notify(recipient=alice, kind="system", title="For Alice")
    notify(recipient=rex, kind="system", title="For Rex")
    body = web_alice.get("/notifications/").content.decode()
    assert "For Alice" in body and "For Rex" not in body


def test_opening_a_notification_marks_it_read_and_follows_its_link(alice, web_alice):
    note = notify(recipient=alice, kind="system", title="Look", url="/search/?q=x")
    response = web_alice.post(f"/notifications/{note.pk}/read/")
    assert response.status_code == 302 and response["Location"] == "/search/?q=x"
    assert Notification.objects.get(pk=note.pk).read_at is not None


def test_a_notification_link_never_leaves_the_site(alice, web_alice):
    note = notify(recipient=alice, kind="system", title="Look", url="//evil.example/")
    assert web_alice.post(f"/notifications/{note.pk}/read/")["Location"] == "/notifications/"


def test_someone_elses_notification_is_not_found(rex, web_alice):
    note = notify(recipient=rex, kind="system", title="Private")
    assert web_alice.post(f"/notifications/{note.pk}/read/").status_code == 404
    assert Notification.objects.get(pk=note.pk).read_at is None


def test_another_workspaces_notification_is_not_found(alice, tenant_a, web_bob):
    # given an id that exists in Acme only (ids are per workspace schema)
    with inside(tenant_a):
        note = Notification.objects.create(pk=10**12, recipient=alice, kind="system", title="Acme only")
    # when Globex's admin opens it
    assert web_bob.post(f"/notifications/{note.pk}/read/").status_code == 404
    # then
    with inside(tenant_a):
        assert Notification.objects.get(pk=note.pk).read_at is None


def test_mark_all_read_clears_the_badge(alice, web_alice):
    notify(recipient=alice, kind="system", title="One")
    web_alice.post("/notifications/read-all/")
    assert 'class="badge"' not in web_alice.get("/").content.decode()


def test_a_broken_page_link_shows_the_first_page(web_alice):
    assert web_alice.get("/notifications/", {"before": "%%%garbage"}).status_code == 200


def test_inbox_within_a_query_bound(alice, web_alice, django_assert_max_num_queries):
    for number in range(30):
        notify(recipient=alice, kind="system", title=f"N{number}")
    with django_assert_max_num_queries(10):
        assert web_alice.get("/notifications/").status_code == 200

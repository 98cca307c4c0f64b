"""The in-app inbox: pages, unread count, marking read, and nobody else's messages."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from accounts.models import User
from crm.errors import RecordNotFound
from crm.notifications.models import Notification
from crm.notifications.selectors import InboxCursor, inbox, unread_count
from crm.notifications.services import (
    Message,
    NotificationKind,
    notification_mark_read,
    notifications_mark_all_read,
    notify,
    notify_many,
)
from tests.conftest import PASSWORD, inside


@pytest.fixture
def rita(acme) -> User:
    return User.objects.create_user(email="rita@acme.example", password=PASSWORD, full_name="Rita Rep")


def message(user: User, title: str) -> Notification:
    return notify(recipient=user, kind=NotificationKind.SYSTEM, title=title)


def test_the_inbox_pages_newest_first_without_gaps_or_repeats(alice):
    made = [message(alice, f"Message {n}") for n in range(12)]

    seen, before = [], None
    while True:
        page = inbox(user=alice, limit=5, before=before)
        seen.extend(page.notifications)
        if page.next_before is None:
            break
        before = InboxCursor.parse(page.next_before.encode())

    assert [n.pk for n in seen] == [n.pk for n in reversed(made)]


def test_unread_only_leaves_out_what_was_read(alice):
    read = message(alice, "Old news")
    fresh = message(alice, "Fresh")
    notification_mark_read(user=alice, notification_id=read.pk)

    assert [n.pk for n in inbox(user=alice, unread_only=True).notifications] == [fresh.pk]
    assert unread_count(user=alice) == 1


def test_marking_read_twice_keeps_the_first_read_time(alice):
    note = message(alice, "Hello")
    first = notification_mark_read(user=alice, notification_id=note.pk).read_at

    assert notification_mark_read(user=alice, notification_id=note.pk).read_at == first


def test_mark_all_read_clears_the_unread_count_and_says_how_many(alice):
    notify_many(messages=[Message(recipient=alice, kind=NotificationKind.SYSTEM, title=f"M{n}") for n in range(3)])

    assert notifications_mark_all_read(user=alice) == 3
    assert unread_count(user=alice) == 0


def test_a_user_sees_only_their_own_notifications(alice, rita):
    message(alice, "For Alice")
    message(rita, "For Rita")

    assert [n.title for n in inbox(user=rita).notifications] == ["For Rita"]
    assert unread_count(user=rita) == 1


def test_someone_elses_notification_cannot_be_marked_read_and_looks_missing(alice, rita):
    alices = message(alice, "Private")

    with pytest.raises(RecordNotFound):
        notification_mark_read(user=rita, notification_id=alices.pk)

    alices.refresh_from_db()
    assert alices.read_at is None


def test_mark_all_read_touches_only_the_users_own(alice, rita):
    message(alice, "For Alice")
    message(rita, "For Rita")

    notifications_mark_all_read(user=rita)

    assert unread_count(user=alice) == 1


def test_another_workspace_sees_none_of_these_notifications(alice, tenant_b):
    message(alice, "Acme only")

    with inside(tenant_b):
        bob = User.objects.get()
        assert inbox(user=bob).notifications == []
        assert unread_count(user=bob) == 0


def test_an_inbox_page_is_one_query(alice, django_assert_max_num_queries):
    for n in range(30):
        message(alice, f"Message {n}")

    with django_assert_max_num_queries(1):
        page = inbox(user=alice, limit=20)

    assert len(page.notifications) == 20


def test_a_tampered_cursor_is_a_field_error():
    with pytest.raises(ValidationError) as caught:
        InboxCursor.parse("%%%")

    assert caught.value.error_dict["before"][0].code == "invalid_cursor"

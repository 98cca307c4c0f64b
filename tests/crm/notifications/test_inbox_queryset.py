"""The inbox as a queryset (for keyset pages elsewhere) and one notification by id."""

from __future__ import annotations

import pytest

from accounts.models import User
from crm.errors import RecordNotFound
from crm.notifications.selectors import notification_get, notification_list
from crm.notifications.services import notification_mark_read, notify
from tests.conftest import ALICE_EMAIL, PASSWORD, inside


@pytest.fixture
def people(tenant_a):
    with inside(tenant_a):
        alice = User.objects.get(email=ALICE_EMAIL)
        rita = User.objects.create_user(email="rita@acme.example", password=PASSWORD, full_name="Rita Rep")
        yield alice, rita


def test_the_queryset_is_newest_first_and_only_the_recipients(people):
    alice, rita = people
    first = notify(recipient=alice, kind="system", title="first")
    second = notify(recipient=alice, kind="system", title="second")
    notify(recipient=rita, kind="system", title="for Rita")
    notification_mark_read(user=alice, notification_id=first.pk)
    assert list(notification_list(user=alice))[:2] == [second, first]
    assert first not in notification_list(user=alice, unread_only=True)
    assert all(n.recipient_id == alice.pk for n in notification_list(user=alice))


def test_someone_elses_notification_is_not_found(people):
    alice, rita = people
    hers = notify(recipient=rita, kind="system", title="for Rita")
    assert notification_get(user=rita, notification_id=hers.pk) == hers
    with pytest.raises(RecordNotFound):
        notification_get(user=alice, notification_id=hers.pk)

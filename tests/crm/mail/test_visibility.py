"""Who sees which email: through the card, as its sender, as the mailbox's owner; the
shared unmatched inbox for people who see every lead; nobody else."""

from __future__ import annotations

import pytest

from crm.clients.services import contact_create
from crm.errors import RecordNotFound
from crm.mail.selectors import email_get, email_list, unmatched_list
from crm.mail.services import email_receive, email_send, inbound_address_get_or_create
from tests.conftest import inside
from tests.crm.mail.servers import raw_message


def test_a_message_on_a_card_is_seen_by_whoever_sees_the_card(alice, rex, rita):
    rexs_contact = contact_create(actor=rex, first_name="Own", emails=["own@client.example"])
    message = email_receive(
        raw=raw_message(sender="own@client.example"), inbound_address=inbound_address_get_or_create(owner=None)
    )

    assert email_get(actor=rex, message_id=message.pk) == message
    assert email_get(actor=alice, message_id=message.pk) == message
    with pytest.raises(RecordNotFound):
        email_get(actor=rita, message_id=message.pk)  # another rep's client
    assert list(email_list(actor=rex, record_type="contact", record_id=rexs_contact.pk)) == [message]
    assert list(email_list(actor=rita, record_type="contact", record_id=rexs_contact.pk)) == []


def test_the_sender_always_sees_what_they_sent(rex):
    message = email_send(actor=rex, to="somebody@nowhere.example", subject="Hi", body="x")

    assert email_get(actor=rex, message_id=message.pk) == message


def test_the_shared_unmatched_inbox_is_for_people_who_see_every_lead(alice, rex):
    message = email_receive(
        raw=raw_message(sender="who@new.example"), inbound_address=inbound_address_get_or_create(owner=None)
    )

    assert list(unmatched_list(actor=alice)) == [message]
    assert list(unmatched_list(actor=rex)) == []
    with pytest.raises(RecordNotFound):
        email_get(actor=rex, message_id=message.pk)


def test_another_workspaces_message_looks_missing(alice, tenant_b):
    message = email_send(actor=alice, to="x@client.example", subject="Acme secret", body="x")

    with inside(tenant_b):
        from accounts.models import User

        bob = User.objects.get(email="bob@globex.example")
        with pytest.raises(RecordNotFound):
            email_get(actor=bob, message_id=message.pk)
        assert list(email_list(actor=None)) == []

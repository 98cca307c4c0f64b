"""Unmatched mail becomes a lead or a contact, taking the sender's other unmatched mail along."""

from __future__ import annotations

import pytest

from crm.activities.models import Activity
from crm.errors import DomainError
from crm.leads.models import LeadChannel
from crm.mail.selectors import unmatched_list
from crm.mail.services import (
    email_contact_create,
    email_dismiss,
    email_lead_create,
    email_receive,
    inbound_address_get_or_create,
)
from tests.crm.mail.servers import raw_message


@pytest.fixture
def two_from_nina(acme):
    inbound = inbound_address_get_or_create(owner=None)
    return [
        email_receive(raw=raw_message(sender="Nina Novak <nina@new.example>", subject=subject), inbound_address=inbound)
        for subject in ("Chairs", "Tables")
    ]


def test_a_lead_from_an_unmatched_email_takes_the_senders_other_mail_along(alice, two_from_nina):
    lead = email_lead_create(actor=alice, message=two_from_nina[0])

    assert (lead.name, lead.email, lead.channel, lead.owner_id) == (
        "Nina Novak",
        "nina@new.example",
        LeadChannel.EMAIL,
        alice.pk,
    )
    for message in two_from_nina:
        message.refresh_from_db()
        assert message.lead_id == lead.pk
        assert Activity.objects.get(pk=message.activity_id).lead_id == lead.pk
    assert list(unmatched_list(actor=alice)) == []


def test_a_contact_from_an_unmatched_email(alice, two_from_nina):
    contact = email_contact_create(actor=alice, message=two_from_nina[1])

    assert (contact.first_name, contact.last_name, contact.emails) == ("Nina", "Novak", ["nina@new.example"])


def test_a_linked_email_cannot_be_triaged_again(alice, two_from_nina):
    email_lead_create(actor=alice, message=two_from_nina[0])
    two_from_nina[0].refresh_from_db()

    with pytest.raises(DomainError):
        email_contact_create(actor=alice, message=two_from_nina[0])


def test_an_email_set_aside_leaves_the_inbox(alice, two_from_nina):
    email_dismiss(actor=alice, message=two_from_nina[0])

    assert list(unmatched_list(actor=alice)) == [two_from_nina[1]]

"""The card's quick actions beyond a call and a note: a meeting held, an email sent or
received, and a meeting scheduled with its length."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from crm.activities.models import Activity, ActivityKind, Direction, Task
from crm.clients.models import Contact
from crm.clients.services import contact_create
from crm.deals.services import deal_create
from tests.conftest import inside


def test_logging_a_meeting_puts_it_on_the_timeline(alice, web_alice):
    contact = contact_create(actor=alice, first_name="Olga", last_name="Smirnova")
    when = (timezone.localtime() - timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M")

    response = web_alice.post(
        f"/contacts/{contact.pk}/actions/meeting/",
        {
            "meeting-subject": "Needs discovery",
            "meeting-occurred_at": when,
            "meeting-minutes": "45",
            "meeting-outcome": "Wants a proposal",
            "meeting-body": "Budget approved for Q1",
        },
        HTTP_HX_REQUEST="true",
    )

    assert "Meeting logged." in response.content.decode()
    entry = Activity.objects.get(contact=contact)
    assert (entry.kind, entry.subject, entry.duration_seconds, entry.outcome) == (
        ActivityKind.MEETING,
        "Needs discovery",
        45 * 60,
        "Wants a proposal",
    )
    assert timezone.localtime(entry.occurred_at).strftime("%Y-%m-%dT%H:%M") == when


def test_logging_a_received_email_records_its_direction(alice, web_alice):
    deal = deal_create(actor=alice, title="Fleet renewal")

    web_alice.post(
        f"/deals/{deal.pk}/actions/email/",
        {"email-direction": "received", "email-subject": "Re: your offer", "email-body": "Looks good"},
        HTTP_HX_REQUEST="true",
    )

    entry = Activity.objects.get(deal=deal)
    assert (entry.kind, entry.direction, entry.subject) == (ActivityKind.EMAIL, Direction.INBOUND, "Re: your offer")
    assert "Re: your offer" in web_alice.get(f"/deals/{deal.pk}/").content.decode()


def test_a_meeting_without_a_subject_or_an_email_without_anything_is_explained(alice, web_alice):
    contact = contact_create(actor=alice, first_name="Olga", last_name="Smirnova")

    meeting = web_alice.post(
        f"/contacts/{contact.pk}/actions/meeting/", {"meeting-subject": ""}, HTTP_HX_REQUEST="true"
    )
    email = web_alice.post(
        f"/contacts/{contact.pk}/actions/email/",
        {"email-direction": "sent", "email-subject": ""},
        HTTP_HX_REQUEST="true",
    )

    assert "Say what the meeting was about." in meeting.content.decode()
    assert "Give the email&#x27;s subject or text." in email.content.decode()
    assert not Activity.objects.filter(contact=contact).exists()


def test_the_card_offers_the_new_actions(alice, web_alice):
    contact = contact_create(actor=alice, first_name="Olga", last_name="Smirnova")

    body = web_alice.get(f"/contacts/{contact.pk}/").content.decode()

    assert "Log a meeting" in body and "Log an email" in body


def test_scheduling_a_meeting_keeps_its_length_for_the_calendar(alice, web_alice):
    contact = contact_create(actor=alice, first_name="Olga", last_name="Smirnova")
    due = (timezone.localtime() + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")

    web_alice.post(
        f"/contacts/{contact.pk}/actions/task/",
        {
            "task-title": "Demo",
            "task-kind": "meeting",
            "task-due_at": due,
            "task-duration_minutes": "90",
            "task-owner": alice.pk,
        },
    )

    assert Task.objects.get(contact=contact, title="Demo").duration_minutes == 90


def test_another_workspaces_card_takes_no_meeting(alice, tenant_a, web_bob):
    # An id that exists in Acme only (ids are per workspace schema).
    with inside(tenant_a):
        contact = contact_create(actor=alice, first_name="Olga", last_name="Smirnova")
        Contact.objects.filter(pk=contact.pk).update(id=10**12)

    response = web_bob.post(f"/contacts/{10**12}/actions/meeting/", {"meeting-subject": "Sneaky"})

    assert response.status_code == 404
    with inside(tenant_a):
        assert not Activity.objects.filter(contact_id=10**12).exists()

"""Timeline entries people add: calls, emails, meetings, notes."""

from __future__ import annotations

from datetime import datetime

import pytest
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError

from crm.activities.models import ActivityKind, Direction
from crm.activities.services import call_log, email_log, meeting_log, note_add
from crm.deals.services import deal_create
from crm.errors import AccessDenied


def codes(error: ValidationError) -> dict[str, list[str]]:
    return {field: [e.code for e in errors] for field, errors in error.error_dict.items()}


def test_call_log_records_direction_duration_and_outcome_on_the_contact(alice, contact):
    call = call_log(
        actor=alice, direction=Direction.OUTBOUND, duration_seconds=125, outcome="Wants a proposal", contact=contact
    )

    assert (call.kind, call.direction, call.duration_seconds, call.outcome) == (
        ActivityKind.CALL,
        "outbound",
        125,
        "Wants a proposal",
    )
    assert (call.contact, call.author) == (contact, alice)


def test_call_log_reports_bad_direction_duration_and_outcome_with_codes(alice, contact):
    with pytest.raises(ValidationError) as caught:
        call_log(actor=alice, direction="sideways", duration_seconds=-1, outcome="x" * 101, contact=contact)

    assert codes(caught.value) == {
        "direction": ["invalid_choice"],
        "duration_seconds": ["invalid"],
        "outcome": ["max_length"],
    }


def test_an_entry_linked_to_no_record_is_refused(alice):
    with pytest.raises(ValidationError) as caught:
        note_add(actor=alice, body="Floating thought")

    assert codes(caught.value) == {NON_FIELD_ERRORS: ["record_required"]}


def test_an_entry_with_a_time_without_a_zone_is_refused(alice, contact):
    naive = datetime(2030, 1, 1, 9)  # noqa: DTZ001 - on purpose

    with pytest.raises(ValidationError) as caught:
        note_add(actor=alice, body="Hi", occurred_at=naive, contact=contact)

    assert codes(caught.value) == {"occurred_at": ["invalid"]}


def test_email_log_stores_sent_as_outbound_and_received_as_inbound(alice, contact):
    sent = email_log(actor=alice, direction="sent", subject="Proposal", body="Attached.", contact=contact)
    received = email_log(actor=alice, direction="received", subject="Re: Proposal", contact=contact)

    assert (sent.kind, sent.direction) == (ActivityKind.EMAIL, Direction.OUTBOUND)
    assert received.direction == Direction.INBOUND


def test_email_log_refuses_an_unknown_direction_and_an_empty_email(alice, contact):
    with pytest.raises(ValidationError) as caught:
        email_log(actor=alice, direction="forwarded", subject=" ", contact=contact)

    assert codes(caught.value) == {"direction": ["invalid_choice"], "subject": ["required"]}


def test_meeting_log_needs_a_subject(alice, company):
    with pytest.raises(ValidationError) as caught:
        meeting_log(actor=alice, subject="", company=company)

    assert codes(caught.value) == {"subject": ["required"]}


def test_a_meeting_on_a_deal_moves_the_deals_last_activity(alice, contact):
    deal = deal_create(actor=alice, title="Website", contact=contact)

    meeting = meeting_log(actor=alice, subject="Kick-off", duration_seconds=3600, deal=deal)

    deal.refresh_from_db()
    assert deal.last_activity_at == meeting.occurred_at


def test_note_add_needs_text(alice, contact):
    with pytest.raises(ValidationError) as caught:
        note_add(actor=alice, body="   ", contact=contact)

    assert codes(caught.value) == {"body": ["required"]}


def test_a_switched_off_user_cannot_add_to_the_timeline(alice, rita, contact):
    rita.is_active = False
    rita.save()

    with pytest.raises(AccessDenied):
        note_add(actor=rita, body="Hello", contact=contact)

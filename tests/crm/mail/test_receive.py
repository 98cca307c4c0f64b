"""Receiving: stored once, matched to the client's card, threaded, files kept or listed
with the reason, malformed mail kept with a note, unknown senders waiting or becoming leads."""

from __future__ import annotations

from email.mime.application import MIMEApplication
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText

import pytest

from crm.activities.models import Activity, ActivityKind, Direction
from crm.clients.services import company_create, contact_create
from crm.leads.models import Lead, LeadChannel
from crm.leads.services import lead_create
from crm.mail.models import EmailAttachment, EmailMessage, EmailStatus
from crm.mail.selectors import mail_settings, unmatched_list
from crm.mail.services import email_receive, email_send, inbound_address_get_or_create, mail_settings_update
from tenants.models import Plan
from tests.crm.mail.servers import raw_message


@pytest.fixture
def inbound(acme):
    return inbound_address_get_or_create(owner=None)


@pytest.fixture
def ivan(alice):
    return contact_create(actor=alice, first_name="Ivan", last_name="Petrov", emails=["ivan@client.example"])


def with_pdf(name: str = "spec.pdf", data: bytes = b"%PDF-1.4 spec", **headers) -> bytes:
    message = MIMEMultipart()
    for key, value in {"From": "ivan@client.example", "To": "sales@acme.example", "Subject": "Spec", **headers}.items():
        message[key] = value
    message.attach(MIMEText("See the spec.", "plain", "utf-8"))
    message.attach(MIMEApplication(data, Name=name))
    return message.as_bytes()


def test_a_message_from_a_contact_lands_on_the_contacts_timeline(ivan, inbound):
    message = email_receive(raw=raw_message(), inbound_address=inbound)

    assert message.status == EmailStatus.RECEIVED and message.contact_id == ivan.pk
    activity = Activity.objects.get(pk=message.activity_id)
    assert (activity.kind, activity.direction, activity.contact_id) == (ActivityKind.EMAIL, Direction.INBOUND, ivan.pk)
    assert activity.subject == "Question about the offer"
    assert "delivery time" in activity.body


def test_the_same_message_twice_is_stored_once(ivan, inbound):
    raw = raw_message(message_id="<once@client.example>")

    first = email_receive(raw=raw, inbound_address=inbound)
    again = email_receive(raw=raw, inbound_address=inbound)

    assert first is not None and again is None
    assert EmailMessage.objects.count() == 1
    assert Activity.objects.filter(kind=ActivityKind.EMAIL).count() == 1


def test_a_message_without_message_id_is_recognised_by_its_bytes(inbound):
    raw = b"From: x@client.example\r\nSubject: no id\r\n\r\nbody"

    assert email_receive(raw=raw, inbound_address=inbound) is not None
    assert email_receive(raw=raw, inbound_address=inbound) is None


def test_a_reply_joins_the_thread_of_the_email_it_answers_and_its_card(alice, inbound):
    company = company_create(actor=alice, name="Client AB")
    contact = contact_create(actor=alice, first_name="Eva", company=company)  # no address: only the thread links
    sent = email_send(actor=alice, to="eva.private@mail.example", subject="Offer", body="x", record=contact)

    reply = email_receive(
        raw=raw_message(
            sender="eva.private@mail.example",
            subject="Re: Offer",
            headers=f"In-Reply-To: {sent.message_id}\r\nReferences: {sent.message_id}\r\n",
        ),
        inbound_address=inbound,
    )

    assert reply.thread_id == sent.thread_id
    assert reply.contact_id == contact.pk


def test_a_reply_without_headers_joins_by_subject_between_the_same_people(alice, ivan, inbound):
    first = email_receive(raw=raw_message(subject="Delivery dates"), inbound_address=inbound)

    answer = email_receive(raw=raw_message(subject="RE: Ответ: Delivery dates"), inbound_address=inbound)
    other = email_receive(
        raw=raw_message(sender="someone@else.example", subject="Re: Delivery dates"), inbound_address=inbound
    )

    assert answer.thread_id == first.thread_id
    assert other.thread_id != first.thread_id


def test_an_open_lead_and_a_company_are_matched_by_address(alice, inbound):
    lead = lead_create(actor=alice, name="Olga", email="olga@prospect.example")
    company = company_create(actor=alice, name="Prospect Co", emails=["info@prospect.example"])

    from_lead = email_receive(raw=raw_message(sender="olga@prospect.example"), inbound_address=inbound)
    from_company = email_receive(raw=raw_message(sender="info@prospect.example"), inbound_address=inbound)

    assert from_lead.lead_id == lead.pk
    assert from_company.company_id == company.pk


def test_a_copy_to_the_inbound_address_is_matched_by_the_recipient(alice, ivan, inbound):
    # Alice wrote from her own mail program and put the inbound address in copy
    message = email_receive(
        raw=raw_message(sender="alice@acme.example", to="ivan@client.example"), inbound_address=inbound
    )

    assert message.contact_id == ivan.pk


def test_an_unknown_sender_waits_in_unmatched_mail(alice, inbound):
    message = email_receive(raw=raw_message(sender="stranger@new.example"), inbound_address=inbound)

    assert not message.is_linked and message.activity_id is None
    assert list(unmatched_list(actor=alice)) == [message]
    assert not Lead.objects.exists()


def test_with_the_option_on_an_unknown_sender_becomes_a_lead(alice, inbound):
    mail_settings_update(actor=alice, track_opens=False, track_clicks=False, create_leads=True)

    message = email_receive(
        raw=raw_message(sender="Nina Novak <nina@new.example>", body="I want 50 chairs"), inbound_address=inbound
    )

    lead = Lead.objects.get(pk=message.lead_id)
    assert (lead.name, lead.email, lead.channel) == ("Nina Novak", "nina@new.example", LeadChannel.EMAIL)
    assert "50 chairs" in lead.message
    assert Activity.objects.get(pk=message.activity_id).lead_id == lead.pk


def test_files_are_stored_in_the_tenants_folder_and_counted(ivan, inbound, media, tenant_a):
    message = email_receive(raw=with_pdf(), inbound_address=inbound)

    (file,) = EmailAttachment.objects.filter(message=message)
    assert file.original_name == "spec.pdf" and file.stored
    assert (media / tenant_a.schema_name / file.stored_name).read_bytes() == b"%PDF-1.4 spec"
    from crm.attachments.selectors import storage_used_bytes

    assert storage_used_bytes() == len(b"%PDF-1.4 spec")


def test_a_file_that_does_not_fit_is_listed_with_the_reason_and_the_message_kept(ivan, inbound, tenant_a, media):
    Plan.objects.filter(pk=tenant_a.plan_id).update(max_storage_mb=1)
    tenant_a.plan.refresh_from_db()

    message = email_receive(raw=with_pdf(data=b"x" * (1024 * 1024 + 1)), inbound_address=inbound)

    (file,) = EmailAttachment.objects.filter(message=message)
    assert not file.stored and "1 MB" in file.not_stored_reason
    assert message.attachments_summary[0]["stored"] is False
    assert message.text_body.strip() == "See the spec."
    assert not [path for path in media.rglob("*") if path.is_file()]


def test_a_file_over_the_per_file_cap_is_listed_not_stored(ivan, inbound, settings):
    settings.ATTACHMENT_MAX_BYTES = 5

    message = email_receive(raw=with_pdf(), inbound_address=inbound)

    (file,) = EmailAttachment.objects.filter(message=message)
    assert not file.stored and "MB" in file.not_stored_reason


def test_a_malformed_message_is_kept_with_a_note_and_its_original(inbound):
    raw = (
        b"From: broken@client.example\r\nSubject: =?utf-8?B?###?=\r\nContent-Type: multipart/mixed; boundary=Q\r\n\r\n"
        b"--Q\r\nContent-Type: text/plain\r\n\r\nstill readable\r\n"
    )

    message = email_receive(raw=raw, inbound_address=inbound)

    assert "still readable" in message.text_body
    assert message.parse_notes
    original = EmailAttachment.objects.get(message=message, original_name="original-message.eml")
    assert original.stored and original.size_bytes == len(raw)


def test_html_mail_is_sanitized_and_remote_images_are_flagged(inbound):
    message = MIMEText('<p onclick="x()">Hi</p><script>alert(1)</script><img src="https://t.example/p.gif">', "html")
    message["From"] = "html@client.example"

    stored = email_receive(raw=message.as_bytes(), inbound_address=inbound)

    assert "script" not in stored.html_body and "onclick" not in stored.html_body
    assert stored.has_remote_images
    assert stored.text_body.strip() == "Hi"


def test_a_personal_inbound_address_keeps_unmatched_mail_for_its_owner(alice, rex):
    personal = inbound_address_get_or_create(owner=rex)

    message = email_receive(raw=raw_message(sender="lead@new.example"), inbound_address=personal)

    assert message.mailbox_owner_id == rex.pk
    assert list(unmatched_list(actor=rex)) == [message]
    assert list(unmatched_list(actor=alice)) == []  # not the shared inbox


def test_settings_start_with_tracking_off(acme):
    current = mail_settings()

    assert (current.track_opens, current.track_clicks, current.create_leads) == (False, False, False)

"""Sending from a card: through the mailbox's SMTP server (a real one on loopback), with
templates, files and replies; refusals write nothing."""

from __future__ import annotations

import email
import logging
from email import policy

import pytest
from django.core import mail as django_mail
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.models import AuditEntry
from crm.activities.models import Activity, ActivityKind
from crm.attachments.services import attachment_upload
from crm.clients.services import contact_create
from crm.limits import PlanLimitReached
from crm.mail.models import EmailAttachment, EmailMessage, EmailStatus, MailAccount
from crm.mail.services import OutgoingFile, email_send, email_template_create, mail_account_save, sender_for
from tenants.models import Plan, Tenant
from tests.crm.mail.conftest import deliver_now, workspace_mailbox

pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")


@pytest.fixture
def anna(alice):
    return contact_create(actor=alice, first_name="Anna", last_name="Lindqvist", emails=["anna@client.example"])


def test_an_email_from_a_contact_card_goes_through_the_mailboxs_smtp_server(alice, anna, smtp_with_login):
    # given the workspace's mailbox signs in to a real SMTP server
    workspace_mailbox(smtp_with_login)

    # when Alice writes to Anna from her card and the send job runs
    message = email_send(actor=alice, to="anna@client.example", subject="Our offer", body="Hello Anna", record=anna)
    assert message.status == EmailStatus.QUEUED
    outcome = deliver_now(message)

    # then the server received it from the mailbox's address, with our Message-ID
    assert outcome.sent and message.status == EmailStatus.SENT and message.sent_at is not None
    (received,) = smtp_with_login.wait_for_messages()
    assert received.mail_from == "sales@acme.example"
    assert received.rcpt_tos == ["anna@client.example"]
    parsed = received.message
    assert parsed["Subject"] == "Our offer"
    assert parsed["Message-ID"] == message.message_id
    assert "Acme Sales" in parsed["From"]
    assert parsed.get_body(("plain",)).get_content().strip() == "Hello Anna"
    # and it is on Anna's timeline as an email, linked to the message
    activity = Activity.objects.get(pk=message.activity_id)
    assert (activity.kind, activity.contact_id, activity.subject) == (ActivityKind.EMAIL, anna.pk, "Our offer")


def test_a_template_fills_subject_and_text_with_the_contacts_details(alice, anna, smtp):
    workspace_mailbox(smtp)
    template = email_template_create(
        actor=alice, name="Welcome", subject="Welcome, {{ contact.first_name }}", body="Dear {{ contact.full_name }}"
    )

    message = email_send(actor=alice, to="anna@client.example", record=anna, template=template)
    deliver_now(message)

    parsed = smtp.wait_for_messages()[0].message
    assert parsed["Subject"] == "Welcome, Anna"
    assert parsed.get_body(("plain",)).get_content().strip() == "Dear Anna Lindqvist"


def test_files_and_a_cards_document_arrive_and_count_toward_storage(alice, anna, smtp, media, tenant_a):
    workspace_mailbox(smtp)
    usage_before = Tenant.objects.get(pk=tenant_a.pk).usage_storage_bytes
    files = [OutgoingFile(name="price list.csv", data=b"sku;price\n1;10\n")]

    message = email_send(actor=alice, to="anna@client.example", subject="Prices", record=anna, files=files)
    deliver_now(message)

    parsed = smtp.wait_for_messages()[0].message
    (attached,) = list(parsed.iter_attachments())
    assert attached.get_filename() == "price list.csv"
    assert attached.get_payload(decode=True).replace(b"\r\n", b"\n") == b"sku;price\n1;10\n"
    stored = EmailAttachment.objects.get(message=message)
    assert stored.stored_name.startswith("mail/")
    assert (media / tenant_a.schema_name / stored.stored_name).read_bytes() == b"sku;price\n1;10\n"
    assert Tenant.objects.get(pk=tenant_a.pk).usage_storage_bytes == usage_before + 15
    assert message.attachments_summary[0]["name"] == "price list.csv"


def test_a_reply_carries_in_reply_to_and_references_and_stays_in_the_thread(alice, anna, smtp):
    workspace_mailbox(smtp)
    first = email_send(actor=alice, to="anna@client.example", subject="Offer", body="1", record=anna)

    reply = email_send(actor=alice, to="anna@client.example", subject="Re: Offer", body="2", reply_to_message=first)
    deliver_now(reply)

    parsed = smtp.wait_for_messages()[0].message
    assert parsed["In-Reply-To"] == first.message_id
    assert first.message_id in parsed["References"]
    assert reply.thread_id == first.thread_id
    assert reply.contact_id == anna.pk  # the reply stays on Anna's card


def test_invalid_addresses_are_named_and_nothing_is_written(alice, anna, smtp):
    workspace_mailbox(smtp)
    activities = Activity.objects.count()

    with pytest.raises(ValidationError) as refused:
        email_send(
            actor=alice, to="anna@client.example, not-an-address, bob@", cc="x@@y", subject="Hi", body="x", record=anna
        )

    errors = refused.value.message_dict
    assert "not-an-address" in errors["to"][0] and "bob@" in errors["to"][0]
    assert "x@@y" in errors["cc"][0]
    assert EmailMessage.objects.count() == 0
    assert Activity.objects.count() == activities


def test_an_empty_email_is_refused(alice, anna):
    with pytest.raises(ValidationError) as refused:
        email_send(actor=alice, to="anna@client.example", subject="  ", body="\n", record=anna)

    assert refused.value.message_dict["body"]
    assert EmailMessage.objects.count() == 0


def test_a_file_over_the_cap_refuses_the_email_and_stores_nothing(alice, anna, settings, media):
    settings.ATTACHMENT_MAX_BYTES = 10

    with pytest.raises(ValidationError) as refused:
        email_send(
            actor=alice,
            to="anna@client.example",
            subject="Big",
            record=anna,
            files=[OutgoingFile(name="ok.txt", data=b"small"), OutgoingFile(name="big.bin", data=b"x" * 11)],
        )

    assert "big.bin" in refused.value.message_dict["attachments"][0]
    assert EmailMessage.objects.count() == 0
    assert EmailAttachment.objects.count() == 0
    assert not [path for path in media.rglob("*") if path.is_file()]


def test_files_over_the_storage_limit_refuse_the_email_and_store_nothing(alice, anna, tenant_a, media):
    Plan.objects.filter(pk=tenant_a.plan_id).update(max_storage_mb=1)
    tenant_a.plan.refresh_from_db()
    attachment_upload(actor=alice, record=anna, file=SimpleUploadedFile("a.bin", b"x" * (1024 * 1024 - 10)))

    with pytest.raises(PlanLimitReached):
        email_send(
            actor=alice, to="anna@client.example", subject="Big", record=anna, files=[OutgoingFile("b.bin", b"y" * 100)]
        )

    assert EmailMessage.objects.count() == 0
    assert EmailAttachment.objects.count() == 0
    assert len([path for path in media.rglob("*") if path.is_file()]) == 1  # the card's document only


def test_without_a_mailbox_the_platform_sender_is_used_with_replies_to_the_person_and_the_crm(alice, anna):
    message = email_send(actor=alice, to="anna@client.example", subject="Hi", body="x", record=anna)
    deliver_now(message)

    (sent,) = django_mail.outbox
    sender = email.message_from_string(f"From: {sent.from_email}\n\n", policy=policy.default)["From"].addresses[0]
    assert sender.addr_spec == "no-reply@localhost"
    assert sender.display_name == "Alice Adams · Acme Corp"
    assert sent.reply_to[0] == "alice@acme.example"
    assert sent.reply_to[1].startswith("acme+") and sent.reply_to[1].endswith("@inbound.localhost")


def test_ones_own_mailbox_comes_before_the_workspaces(alice, smtp):
    workspace_mailbox(smtp)
    own = mail_account_save(
        actor=alice, owner=alice, from_address="alice@acme.example", smtp_host="127.0.0.1", smtp_port=smtp.port,
        smtp_security="none",
    )  # fmt: skip

    assert sender_for(actor=alice).account == own
    MailAccount.objects.filter(pk=own.pk).update(is_active=False)
    assert sender_for(actor=alice).account.owner is None


def test_a_refused_password_fails_the_email_with_the_servers_answer_and_marks_the_mailbox(alice, anna, smtp_with_login):
    account = workspace_mailbox(smtp_with_login, smtp_password="wrong-password")

    message = email_send(actor=alice, to="anna@client.example", subject="Hi", body="x", record=anna)
    outcome = deliver_now(message)

    assert not outcome.sent and not outcome.temporary
    assert message.status == EmailStatus.FAILED
    assert "refused the user name or password" in message.error and "535" in message.error
    account.refresh_from_db()
    assert "535" in account.last_error
    assert smtp_with_login.received == []


def test_a_temporary_refusal_keeps_the_email_queued_until_the_last_attempt(alice, anna, smtp):
    from crm.mail.delivery import deliver

    workspace_mailbox(smtp)
    smtp.failures = ["451 4.3.0 Try again later", "451 4.3.0 Try again later"]
    message = email_send(actor=alice, to="anna@client.example", subject="Hi", body="x", record=anna)

    first = deliver_now(message)
    assert first.temporary and message.status == EmailStatus.QUEUED and "451" in message.error

    last = deliver(message_id=message.pk, tracking_base="", last_attempt=True)
    message.refresh_from_db()
    assert not last.temporary and message.status == EmailStatus.FAILED and message.attempts == 2


def test_a_sent_email_is_not_sent_twice(alice, anna, smtp):
    workspace_mailbox(smtp)
    message = email_send(actor=alice, to="anna@client.example", subject="Hi", body="x", record=anna)
    deliver_now(message)

    assert deliver_now(message) is None
    assert len(smtp.received) == 1


def test_passwords_are_sealed_and_never_audited_or_logged(alice, smtp_with_login, caplog):
    caplog.set_level(logging.DEBUG)

    account = workspace_mailbox(smtp_with_login)

    row = MailAccount.objects.filter(pk=account.pk).values().get()
    assert "smtp-secret-42" not in str(row)
    assert row["smtp_password_sealed"].startswith("v1:")
    entry = AuditEntry.objects.filter(action="mail_account.create").latest("id")
    assert "smtp-secret-42" not in str(entry.changes) and entry.changes["smtp_password"] == "changed"
    assert "smtp-secret-42" not in caplog.text


def test_an_email_whose_queue_message_was_lost_is_sent_by_the_next_sweep(
    alice, anna, smtp, django_capture_on_commit_callbacks
):
    from datetime import timedelta

    from django.utils import timezone

    from crm.mail.services import emails_stuck_requeue

    # given an email written while the broker was down (its queue message never left)
    workspace_mailbox(smtp)
    stuck = email_send(actor=alice, to="anna@client.example", subject="Stuck", body="x", record=anna)
    fresh = email_send(actor=alice, to="anna@client.example", subject="Fresh", body="y", record=anna)
    EmailMessage.objects.filter(pk=stuck.pk).update(updated_at=timezone.now() - timedelta(minutes=31))

    # when the workspace's periodic sweep runs
    with django_capture_on_commit_callbacks() as queued:
        requeued = emails_stuck_requeue()

    # then only the stuck one is queued again, and the next sweep leaves it for 30 minutes
    assert requeued == [stuck.pk] and len(queued) == 1
    assert emails_stuck_requeue() == []
    # and the send job delivers it once
    assert deliver_now(stuck).sent and deliver_now(stuck) is None
    assert [message.message["Subject"] for message in smtp.wait_for_messages()] == ["Stuck"]
    assert EmailMessage.objects.get(pk=fresh.pk).status == EmailStatus.QUEUED

"""The send and poll jobs in a real `celery worker`, on the real broker, against real
SMTP (aiosmtpd) and IMAP (dovecot) servers on loopback."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from crm.activities.models import Activity
from crm.clients.models import Contact
from crm.clients.services import contact_create
from crm.mail.models import EmailMessage, EmailStatus, EmailThread, InboundAddress, MailAccount
from crm.mail.services import email_send, mail_account_save
from tenants.models import Tenant
from tests.conftest import ALICE_EMAIL, inside
from tests.crm.mail.conftest import workspace_mailbox
from tests.crm.mail.servers import raw_message
from tests.processes import celery_worker, wait_for

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def worker(django_db_setup, tmp_path_factory) -> Iterator[Path]:
    log_file = tmp_path_factory.mktemp("mail-worker") / "worker.log"
    with celery_worker(
        log_file, MAIL_ALLOW_PRIVATE_HOSTS="true", MAIL_SEND_RETRY_BASE_SECONDS="1", MAIL_POLL_SPREAD_SECONDS="1"
    ):
        yield log_file


@pytest.fixture
def acme(committed_db, worker) -> Iterator[Tenant]:
    """Acme on committed data; the mail made here is removed after."""
    tenant = Tenant.objects.get(slug="acme")
    try:
        yield tenant
    finally:
        with inside(tenant):
            EmailMessage.objects.all().delete()
            EmailThread.objects.all().delete()
            Activity.all_objects.filter(kind="email").delete()
            MailAccount.objects.all().delete()
            InboundAddress.objects.all().delete()
            Contact.all_objects.filter(first_name="Worker").delete()


def test_the_send_job_delivers_and_retries_a_temporary_refusal(acme, smtp, worker):
    smtp.failures = ["451 4.3.0 Greylisted, try again"]
    with inside(acme):
        workspace_mailbox(smtp)
        contact = contact_create(actor=None, first_name="Worker", emails=["worker@client.example"])
        message = email_send(actor=None, to="worker@client.example", subject="Via the worker", body="x", record=contact)

    (received,) = smtp.wait_for_messages(1, timeout=60)
    assert received.message["Subject"] == "Via the worker"
    with inside(acme):
        assert wait_for(lambda: EmailMessage.objects.get(pk=message.pk).status == EmailStatus.SENT, timeout=30)
        sent = EmailMessage.objects.get(pk=message.pk)
    assert sent.attempts == 2 and sent.error == ""


def test_the_poll_job_reads_every_mailbox_and_goes_on_after_a_refused_password(acme, dovecot, worker):
    from crm.mail.tasks import mailboxes_poll_dispatch

    dovecot.empty()
    dovecot.deliver(raw_message(subject="Read by the worker", message_id="<worker-1@client.example>"))
    with inside(acme):
        from accounts.models import User

        alice = User.objects.get(email=ALICE_EMAIL)
        broken = mail_account_save(
            actor=None, owner=None, from_address="shared@acme.example", imap_host="127.0.0.1",
            imap_port=dovecot.port, imap_security="none", imap_username=dovecot.username, imap_password="wrong",
        )  # fmt: skip
        mail_account_save(
            actor=None, owner=alice, from_address="alice@acme.example", imap_host="127.0.0.1",
            imap_port=dovecot.port, imap_security="none", imap_username=dovecot.username,
            imap_password=dovecot.password,
        )  # fmt: skip

    # the beat job fans out to every workspace; Acme's poll reads both mailboxes
    mailboxes_poll_dispatch.delay()

    with inside(acme):
        assert wait_for(lambda: EmailMessage.objects.filter(message_id="<worker-1@client.example>").exists(), 60), (
            worker.read_text()[-3000:]
        )
        stored = EmailMessage.objects.get(message_id="<worker-1@client.example>")
        assert stored.mailbox_owner_id == alice.pk
        assert wait_for(lambda: "refused the sign-in" in MailAccount.objects.get(pk=broken.pk).last_error, 30)

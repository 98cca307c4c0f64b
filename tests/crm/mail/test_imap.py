"""Reading a mailbox over IMAP from a real dovecot: incremental by UID, idempotent,
starting over when UIDVALIDITY changes, bounded per run, errors kept on the mailbox."""

from __future__ import annotations

import pytest

from crm.clients.services import contact_create
from crm.mail.models import EmailMessage, MailAccount
from crm.mail.services import mail_account_save, mail_account_test
from crm.mail.sync import mailbox_sync
from tests.crm.mail.servers import raw_message


def imap_mailbox(server, *, owner=None, password=None, **overrides) -> MailAccount:
    return mail_account_save(
        actor=None,
        owner=owner,
        from_address="sales@acme.example",
        imap_host="127.0.0.1",
        imap_port=server.port,
        imap_security="none",
        imap_username=server.username,
        imap_password=password or server.password,
        **overrides,
    )


@pytest.fixture
def ivan(alice):
    return contact_create(actor=alice, first_name="Ivan", emails=["ivan@client.example"])


def test_new_messages_are_read_onto_the_cards(imap, ivan):
    account = imap_mailbox(imap)
    imap.deliver(raw_message(subject="First"))
    imap.deliver(raw_message(subject="Second", sender="stranger@new.example"))

    result = mailbox_sync(account=account)

    assert result.error == ""
    assert (result.fetched, result.stored) == (2, 2)
    first, second = EmailMessage.objects.order_by("id")
    assert (first.subject, first.contact_id, first.account_id) == ("First", ivan.pk, account.pk)
    assert not second.is_linked
    account.refresh_from_db()
    assert account.imap_last_uid == 2 and account.imap_uidvalidity and account.last_sync_at and not account.last_error


def test_a_second_run_reads_only_what_is_new(imap, ivan):
    account = imap_mailbox(imap)
    imap.deliver(raw_message(subject="Old"))
    mailbox_sync(account=account)

    imap.deliver(raw_message(subject="New"))
    result = mailbox_sync(account=account)

    assert (result.fetched, result.stored) == (1, 1)
    assert list(EmailMessage.objects.order_by("id").values_list("subject", flat=True)) == ["Old", "New"]
    assert mailbox_sync(account=account).fetched == 0


def test_a_new_uidvalidity_starts_over_without_storing_anything_twice(imap, ivan):
    account = imap_mailbox(imap)
    same = raw_message(subject="Kept", message_id="<kept@client.example>")
    imap.deliver(same)
    mailbox_sync(account=account)
    old_validity = MailAccount.objects.get(pk=account.pk).imap_uidvalidity

    # the server's folder is rebuilt: new UIDVALIDITY, the old message plus a new one
    imap.empty()
    imap.deliver(same)
    imap.deliver(raw_message(subject="After the rebuild"))
    account.refresh_from_db()
    result = mailbox_sync(account=account)

    account.refresh_from_db()
    assert account.imap_uidvalidity != old_validity
    assert (result.fetched, result.stored) == (2, 1)
    assert EmailMessage.objects.filter(message_id="<kept@client.example>").count() == 1


def test_a_run_is_bounded_and_says_more_are_waiting(imap, ivan):
    account = imap_mailbox(imap)
    for number in range(5):
        imap.deliver(raw_message(subject=f"Message {number}"))

    first = mailbox_sync(account=account, batch=3)
    second = mailbox_sync(account=account, batch=3)

    assert (first.stored, first.more) == (3, True)
    assert (second.stored, second.more) == (2, False)


def test_a_refused_password_is_kept_on_the_mailbox(imap, acme):
    account = imap_mailbox(imap, password="wrong-password")

    result = mailbox_sync(account=account)

    account.refresh_from_db()
    assert "refused the sign-in" in result.error and "AUTHENTICATIONFAILED" in result.error
    assert account.last_error == result.error


def test_test_connection_tells_the_exact_imap_error_and_the_folders_size(imap, acme):
    good = imap_mailbox(imap)
    imap.deliver(raw_message())

    check = mail_account_test(actor=None, account=good)

    assert check.imap == "ok" and check.imap_messages == 1

    MailAccount.objects.filter(pk=good.pk).update(imap_folder="Nowhere")
    good.refresh_from_db()
    check = mail_account_test(actor=None, account=good)
    assert "Nowhere" in check.imap


def test_an_unreachable_server_is_a_clear_error(acme):
    from tests.processes import free_port

    account = mail_account_save(
        actor=None, owner=None, from_address="x@acme.example", imap_host="127.0.0.1", imap_port=free_port(),
        imap_security="none", imap_password="x",
    )  # fmt: skip

    result = mailbox_sync(account=account)

    assert "Could not connect to the IMAP server 127.0.0.1" in result.error

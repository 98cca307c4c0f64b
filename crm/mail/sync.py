"""Reading a mailbox over IMAP, incrementally and idempotently.

- The folder is opened read-only: the CRM never marks, moves or deletes anything.
- UIDs only grow within one UIDVALIDITY; the account keeps the UIDVALIDITY and the
  highest UID it has read, and asks only for newer ones (`UID SEARCH UID n:*`). When the
  server's UIDVALIDITY changes (the folder was rebuilt), reading starts over: messages
  already stored are recognised by their Message-ID (or content hash) and skipped.
- The first read of a mailbox takes the last MAIL_IMAP_FIRST_SYNC_DAYS days only.
- At most MAIL_IMAP_BATCH messages per run; the position is saved after each message,
  so a run stopped halfway goes on where it stopped. Whether more are waiting is
  returned (the task then runs again soon).
- A message larger than MAIL_INBOUND_MAX_BYTES is stored with its headers only and a
  note saying it was too large to fetch.
"""

from __future__ import annotations

import imaplib
import logging
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.mail.connections import MailServerError, imap_close, imap_open
from crm.mail.models import MailAccount

logger = logging.getLogger(__name__)
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@dataclass
class SyncResult:
    fetched: int = 0
    stored: int = 0
    more: bool = False
    error: str = ""


def _uids(data: list) -> list[int]:
    found: list[int] = []
    for chunk in data or []:
        if isinstance(chunk, bytes):
            found.extend(int(part) for part in chunk.split() if part.isdigit())
    return sorted(set(found))


def _fetched_bytes(data: list) -> bytes | None:
    for item in data or []:
        if isinstance(item, tuple) and len(item) == 2 and isinstance(item[1], bytes):
            return item[1]
    return None


def _size_of(data: list) -> int:
    for item in data or []:
        text = item[0] if isinstance(item, tuple) else item
        if isinstance(text, bytes) and b"RFC822.SIZE" in text:
            after = text.split(b"RFC822.SIZE", 1)[1].split()
            if after and after[0].rstrip(b")").isdigit():
                return int(after[0].rstrip(b")"))
    return 0


def _too_large_note(headers: bytes, size: int) -> bytes:
    note = _("This message (%(size)s MB) is larger than the CRM fetches; only its headers were read.") % {
        "size": f"{size / (1024 * 1024):.1f}"
    }
    return headers.rstrip(b"\r\n") + b"\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" + note.encode() + b"\r\n"


def mailbox_sync(*, account: MailAccount, batch: int | None = None) -> SyncResult:
    """Fetch the account's new messages into the CRM (see the module docstring). Errors
    are kept on the account (shown to whoever manages it) and returned, never raised."""
    from crm.mail.services import email_receive, mail_account_error_set, mail_account_password

    batch = batch or settings.MAIL_IMAP_BATCH
    result = SyncResult()
    password = mail_account_password(account, "imap")
    if password is None:
        result.error = _("The stored IMAP password can no longer be read; enter it again.")
        mail_account_error_set(account=account, error=result.error)
        return result
    try:
        session = imap_open(account, password)
    except MailServerError as error:
        result.error = error.message
        mail_account_error_set(account=account, error=error.message)
        return result
    client = session.client
    try:
        if account.imap_uidvalidity != session.uidvalidity:
            account.imap_uidvalidity, account.imap_last_uid = session.uidvalidity, 0
            MailAccount.objects.filter(pk=account.pk).update(imap_uidvalidity=session.uidvalidity, imap_last_uid=0)
        if account.imap_last_uid:
            status, data = client.uid("SEARCH", None, f"UID {account.imap_last_uid + 1}:*")
        else:
            since = timezone.now() - timedelta(days=settings.MAIL_IMAP_FIRST_SYNC_DAYS)
            status, data = client.uid("SEARCH", None, f"SINCE {since.day}-{_MONTHS[since.month - 1]}-{since.year}")
        if status != "OK":
            raise imaplib.IMAP4.error(data)
        # `n:*` always answers the highest UID, even when it is not newer.
        waiting = [uid for uid in _uids(data) if uid > account.imap_last_uid]
        result.more = len(waiting) > batch
        for uid in waiting[:batch]:
            status, data = client.uid("FETCH", str(uid), "(RFC822.SIZE)")
            size = _size_of(data) if status == "OK" else 0
            if size > settings.MAIL_INBOUND_MAX_BYTES:
                status, data = client.uid("FETCH", str(uid), "(BODY.PEEK[HEADER])")
                headers = _fetched_bytes(data) if status == "OK" else None
                raw = _too_large_note(headers or b"", size) if headers is not None else None
            else:
                status, data = client.uid("FETCH", str(uid), "(BODY.PEEK[])")
                raw = _fetched_bytes(data) if status == "OK" else None
            if raw is not None:
                result.fetched += 1
                try:
                    if email_receive(raw=raw, account=account) is not None:
                        result.stored += 1
                except Exception:
                    logger.exception("email from mailbox not stored", extra={"account": account.pk, "uid": uid})
            account.imap_last_uid = uid
            MailAccount.objects.filter(pk=account.pk).update(imap_last_uid=uid)
    except (imaplib.IMAP4.error, OSError) as error:
        result.error = _("Reading the mailbox stopped: %(error)s") % {"error": error}
        mail_account_error_set(account=account, error=result.error)
        return result
    finally:
        imap_close(session)
    now = timezone.now()
    MailAccount.objects.filter(pk=account.pk).update(
        last_sync_at=now, last_error="", last_error_at=None, updated_at=now
    )
    account.last_sync_at, account.last_error = now, ""
    logger.info("mailbox read", extra={"account": account.pk, "fetched": result.fetched, "stored": result.stored})
    return result

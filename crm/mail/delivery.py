"""Sending a queued message: the MIME message, the connection, the outcome.

Called by the task crm.mail.tasks.email_deliver for each queued message, with the row
locked so two workers never send the same message. The connection is the account's
SMTP server (Django's SMTP backend with its host, port, credentials and security), or
Django's default backend (EMAIL_URL) for the platform's default sender. Temporary
failures (no connection, 4xx answers) are retried with backoff by the task; permanent
ones (a refused password, refused recipients, 5xx) mark the message "not sent" with the
server's answer, which the card shows.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from email.utils import formataddr

from django.conf import settings
from django.core.files.storage import default_storage
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import transaction
from django.utils import timezone
from django.utils.html import escape, linebreaks, urlize
from django.utils.translation import gettext as _

from crm.mail.connections import MailServerError, smtp_connection, smtp_error_text
from crm.mail.models import EmailMessage, EmailStatus
from crm.mail.selectors import mail_settings

logger = logging.getLogger(__name__)

HREF = re.compile(r'href="(https?://[^"]+)"', re.I)


@dataclass
class Outcome:
    sent: bool
    temporary: bool = False
    error: str = ""


def _html_of(message: EmailMessage, tracking_base: str) -> str:
    """The text as simple HTML; with tracking on, links go through the click counter and
    a 1x1 image counts opens."""
    body = linebreaks(urlize(escape(message.text_body), nofollow=True, autoescape=False))
    settings_now = mail_settings()
    if message.tracking_token and settings_now.track_clicks and message.tracked_links:
        links = list(message.tracked_links)

        def tracked(match: re.Match) -> str:
            url = match.group(1).replace("&amp;", "&")
            if url in links:
                return f'href="{tracking_base}{message.tracking_token}/l/{links.index(url)}/"'
            return match.group(0)

        body = HREF.sub(tracked, body)
    if message.tracking_token and settings_now.track_opens:
        body += f'<img src="{tracking_base}{message.tracking_token}/o.gif" width="1" height="1" alt="">'
    return f'<!DOCTYPE html><html><body dir="auto">{body}</body></html>'


def mime_of(message: EmailMessage, *, connection=None, tracking_base: str = "") -> EmailMultiAlternatives:
    headers = {"Message-ID": message.message_id}
    if message.in_reply_to:
        headers["In-Reply-To"] = message.in_reply_to
    if message.references:
        headers["References"] = message.references
    mime = EmailMultiAlternatives(
        subject=message.subject,
        body=message.text_body,
        from_email=formataddr((message.from_name, message.from_address)) if message.from_name else message.from_address,
        to=list(message.to_addresses),
        cc=list(message.cc_addresses),
        bcc=list(message.bcc_addresses),
        reply_to=list(message.reply_to),
        headers=headers,
        connection=connection,
    )
    mime.attach_alternative(_html_of(message, tracking_base), "text/html")
    for attachment in message.attachments.all():
        if not attachment.stored_name:
            continue
        with default_storage.open(attachment.stored_name, "rb") as stored:
            mime.attach(attachment.original_name, stored.read(), attachment.content_type)
    return mime


def _connection(message: EmailMessage):
    account = message.account
    if account is None:
        return get_connection(fail_silently=False)
    from crm.mail.services import mail_account_password

    password = mail_account_password(account, "smtp")
    if password is None:
        raise MailServerError(
            _("The mailbox's stored password can no longer be read; enter it again in Settings → Email.")
        )
    return smtp_connection(account, password)


def deliver(*, message_id: int, tracking_base: str, last_attempt: bool) -> Outcome | None:
    """Send the queued message now. None when there was nothing to send (already sent,
    or taken by another worker)."""
    with transaction.atomic():
        message = (
            EmailMessage.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("account")
            .filter(pk=message_id, status=EmailStatus.QUEUED)
            .first()
        )
        if message is None:
            return None
        try:
            if message.account is not None and not message.account.is_active:
                raise MailServerError(_("The mailbox this email was to go through is switched off."))
            connection = _connection(message)
            sent = mime_of(message, connection=connection, tracking_base=tracking_base).send()
            if not sent:
                raise MailServerError(_("The mail server accepted no recipient."))
        except Exception as error:
            failure = smtp_error_text(error, message.account) if message.account is not None else _plain(error)
            final = not failure.temporary or last_attempt
            message.attempts += 1
            message.error = failure.message[:2000]
            message.status = EmailStatus.FAILED if final else EmailStatus.QUEUED
            message.save(update_fields=["attempts", "error", "status", "updated_at"])
            if final and message.account is not None and not failure.temporary:
                from crm.mail.services import mail_account_error_set

                mail_account_error_set(account=message.account, error=failure.message)
            logger.warning(
                "email not sent",
                extra={"email": message.pk, "temporary": failure.temporary, "final": final, "error": failure.message},
            )
            return Outcome(sent=False, temporary=failure.temporary and not final, error=failure.message)
        message.attempts += 1
        message.status = EmailStatus.SENT
        message.sent_at = timezone.now()
        message.error = ""
        message.save(update_fields=["attempts", "status", "sent_at", "error", "updated_at"])
    logger.info("email sent", extra={"email": message_id})
    return Outcome(sent=True)


def _plain(error: BaseException) -> MailServerError:
    if isinstance(error, MailServerError):
        return error
    temporary = isinstance(error, OSError) or getattr(error, "smtp_code", 500) // 100 == 4
    return MailServerError(
        _("The platform's mail server did not take the email: %(error)s") % {"error": error or type(error).__name__},
        temporary=temporary,
    )


def retry_delay(attempt: int) -> int:
    return settings.MAIL_SEND_RETRY_BASE_SECONDS * 2 ** max(0, attempt - 1)

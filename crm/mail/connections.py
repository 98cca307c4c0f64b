"""Talking to mail servers: SMTP connections for sending, IMAP sessions for reading, and
the "Test connection" check. Every error comes back as a sentence a person can act on,
with the server's own words.

Unless MAIL_ALLOW_PRIVATE_HOSTS (development and tests), a mailbox may not point at a
loopback, private or link-local address: a workspace must not use our servers to reach
our own network.
"""

from __future__ import annotations

import contextlib
import imaplib
import ipaddress
import smtplib
import socket
import ssl
from dataclasses import dataclass

from django.conf import settings
from django.core.mail import get_connection
from django.core.mail.backends.base import BaseEmailBackend
from django.utils.translation import gettext as _

from crm.mail.models import MailAccount, Security


class MailServerError(Exception):
    """What went wrong, in words for the person who set the mailbox up."""

    def __init__(self, message: str, *, temporary: bool = False):
        super().__init__(message)
        self.message = message
        self.temporary = temporary


def _public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    return not (ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_multicast or ip.is_reserved
                or ip.is_unspecified)  # fmt: skip


def host_check(host: str, port: int) -> None:
    """Raise MailServerError for a host that does not resolve, or that resolves to one of
    our own networks when those are not allowed."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError, ValueError) as error:
        raise MailServerError(
            _("The server name %(host)s could not be found (%(error)s).") % {"host": host, "error": error},
            temporary=True,
        ) from error
    if not settings.MAIL_ALLOW_PRIVATE_HOSTS and not all(_public(info[4][0]) for info in infos):
        raise MailServerError(_("%(host)s is a private or local address; use the mail server's public name.")
                              % {"host": host})  # fmt: skip


def _where(host: str, port: int) -> str:
    return f"{host}:{port}"


def smtp_connection(account: MailAccount, password: str) -> BaseEmailBackend:
    """A Django email backend bound to the account's SMTP server (not yet opened)."""
    host_check(account.smtp_host, account.smtp_port)
    return get_connection(
        "django.core.mail.backends.smtp.EmailBackend",
        host=account.smtp_host,
        port=account.smtp_port,
        username=account.smtp_username or None,
        password=password or None,
        use_tls=account.smtp_security == Security.STARTTLS,
        use_ssl=account.smtp_security == Security.SSL,
        timeout=settings.MAIL_SERVER_TIMEOUT_SECONDS,
        fail_silently=False,
    )


def smtp_error_text(error: BaseException, account: MailAccount) -> MailServerError:
    """An SMTP failure in words, and whether trying again later may help."""
    where = _where(account.smtp_host, account.smtp_port)
    if isinstance(error, MailServerError):
        return error
    if isinstance(error, smtplib.SMTPAuthenticationError):
        return MailServerError(
            _("The SMTP server %(where)s refused the user name or password: %(reply)s")
            % {"where": where, "reply": _reply(error)}
        )
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        refused = ", ".join(f"{address} ({_reply_of(*reply)})" for address, reply in error.recipients.items())
        return MailServerError(_("The server refused the recipients: %(refused)s") % {"refused": refused})
    if isinstance(error, smtplib.SMTPSenderRefused):
        return MailServerError(
            _("The server refused the sender address %(sender)s: %(reply)s")
            % {"sender": error.sender, "reply": _reply_of(error.smtp_code, error.smtp_error)},
            temporary=400 <= error.smtp_code < 500,
        )
    if isinstance(error, smtplib.SMTPResponseException):
        return MailServerError(
            _("The SMTP server %(where)s answered: %(reply)s") % {"where": where, "reply": _reply(error)},
            temporary=400 <= error.smtp_code < 500,
        )
    if isinstance(error, smtplib.SMTPNotSupportedError | ssl.SSLError):
        return MailServerError(
            _("The secure connection to %(where)s failed (%(error)s); check the port and security setting.")
            % {"where": where, "error": error}
        )
    if isinstance(error, smtplib.SMTPException | OSError):
        return MailServerError(
            _("Could not talk to the SMTP server %(where)s: %(error)s")
            % {"where": where, "error": error or type(error).__name__},
            temporary=True,
        )
    return MailServerError(str(error))


def _reply_of(code: int, text: bytes | str) -> str:
    if isinstance(text, bytes):
        text = text.decode("utf-8", errors="replace")
    return f"{code} {' '.join(str(text).split())}"


def _reply(error: smtplib.SMTPResponseException) -> str:
    return _reply_of(error.smtp_code, error.smtp_error)


def smtp_test(account: MailAccount, password: str) -> None:
    """Open and close a session with the account's SMTP server (sign-in included)."""
    try:
        connection = smtp_connection(account, password)
        connection.open()
        connection.close()
    except Exception as error:
        raise smtp_error_text(error, account) from error


@dataclass
class ImapSession:
    client: imaplib.IMAP4
    uidvalidity: int
    exists: int


def imap_open(account: MailAccount, password: str) -> ImapSession:
    """Signed in and the account's folder selected (read-only: the CRM never changes the
    mailbox, so nothing is lost if it stops halfway). Raises MailServerError."""
    where = _where(account.imap_host, account.imap_port)
    host_check(account.imap_host, account.imap_port)
    timeout = settings.MAIL_SERVER_TIMEOUT_SECONDS
    try:
        if account.imap_security == Security.SSL:
            client: imaplib.IMAP4 = imaplib.IMAP4_SSL(
                account.imap_host, account.imap_port, ssl_context=ssl.create_default_context(), timeout=timeout
            )
        else:
            client = imaplib.IMAP4(account.imap_host, account.imap_port, timeout=timeout)
            if account.imap_security == Security.STARTTLS:
                client.starttls(ssl_context=ssl.create_default_context())
    except (OSError, imaplib.IMAP4.error, ssl.SSLError) as error:
        raise MailServerError(
            _("Could not connect to the IMAP server %(where)s: %(error)s") % {"where": where, "error": error},
            temporary=True,
        ) from error
    try:
        client.login(account.imap_username or account.from_address, password)
    except imaplib.IMAP4.error as error:
        _close(client)
        raise MailServerError(
            _("The IMAP server %(where)s refused the sign-in: %(reply)s") % {"where": where, "reply": _imap_text(error)}
        ) from error
    except OSError as error:
        _close(client)
        raise MailServerError(
            _("Could not connect to the IMAP server %(where)s: %(error)s") % {"where": where, "error": error},
            temporary=True,
        ) from error
    try:
        status, data = client.select(_quoted(account.imap_folder), readonly=True)
        if status != "OK":
            raise imaplib.IMAP4.error(_imap_text(data))
        _name, values = client.response("UIDVALIDITY")
        uidvalidity = int(values[0]) if values and values[0] else 0
        exists = int(data[0]) if data and data[0] else 0
    except (imaplib.IMAP4.error, ValueError, OSError) as error:
        _close(client)
        raise MailServerError(
            _("The folder “%(folder)s” could not be opened on %(where)s: %(reply)s")
            % {"folder": account.imap_folder, "where": where, "reply": _imap_text(error)}
        ) from error
    return ImapSession(client=client, uidvalidity=uidvalidity, exists=exists)


def _quoted(folder: str) -> str:
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _imap_text(error) -> str:
    if isinstance(error, list | tuple):
        error = b" ".join(part for part in error if isinstance(part, bytes))
    if isinstance(error, BaseException) and error.args:
        error = error.args[0]
    if isinstance(error, bytes):
        error = error.decode("utf-8", errors="replace")
    return " ".join(str(error).split())


def _close(client: imaplib.IMAP4) -> None:
    with contextlib.suppress(OSError, imaplib.IMAP4.error):
        client.logout()


def imap_close(session: ImapSession) -> None:
    _close(session.client)


def imap_test(account: MailAccount, password: str) -> int:
    """Sign in, open the folder, sign out; how many messages it holds."""
    session = imap_open(account, password)
    imap_close(session)
    return session.exists

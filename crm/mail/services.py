"""Writes of mail: mailboxes, inbound addresses, settings, templates, sending, receiving,
triage of unmatched mail and tracking. The only code that creates messages.

Guarantees:
- a message is stored once, however often it arrives (unique `dedupe_key`);
- sending is queued when the transaction commits (task crm.mail.tasks.email_deliver);
  a refusal (bad address, empty message, a file too large or over the storage limit)
  writes nothing and queues nothing;
- received mail is never refused for its form: what cannot be read is noted; a file
  that cannot be stored is listed with the reason and the message is kept;
- mailbox passwords are sealed before they are saved, and appear in no audit entry,
  log line or answer.
"""

from __future__ import annotations

import hashlib
import logging
import re
import secrets as random_secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.utils import make_msgid, parseaddr
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import F, Model, Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.audit import audit_record
from accounts.models import User
from config.task_queue import task_after_commit
from crm import access
from crm.access import Action
from crm.activities.models import Activity
from crm.activities.services import email_log
from crm.attachments.services import content_type_for, filename_clean, stored_file_add, stored_file_forget
from crm.clients.models import Company, Contact
from crm.deals.models import Deal
from crm.errors import AccessDenied, DomainError
from crm.leads.models import Lead, LeadChannel, LeadStatus
from crm.limits import PlanLimitReached
from crm.mail import secrets
from crm.mail.addresses import RECIPIENTS_MAX, addresses_read, domain_of, invalid_message
from crm.mail.connections import MailServerError, imap_test, smtp_test
from crm.mail.html import html_sanitize, html_to_text
from crm.mail.models import (
    EmailAttachment,
    EmailDirection,
    EmailMessage,
    EmailStatus,
    EmailTemplate,
    EmailThread,
    InboundAddress,
    MailAccount,
    MailSettings,
    Security,
)
from crm.mail.parsing import ParsedMessage, message_ids, parse_message
from crm.mail.selectors import (
    UNLINKED,
    inbound_address_of,
    mail_settings,
    may_manage_mail,
    sending_account,
)
from crm.mail.templating import render, template_check, template_context
from crm.validation import FieldErrors
from tenants.selectors import tenant_current

logger = logging.getLogger(__name__)

SNIPPET = 500
ACTIVITY_SUBJECT_MAX = Activity._meta.get_field("subject").max_length
SUBJECT_MAX = 500
THREAD_BY_SUBJECT_DAYS = 30
HOSTNAME = re.compile(r"^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$")
REPLY_PREFIX = re.compile(
    r"^\s*(?:(?:re|fw|fwd|aw|wg|sv|vs|rv|res|enc|tr|odp|antw|ответ|отв|пересл|رد|توجيه)\s*(?:\[\d+\])?\s*[:\uff1a]\s*)+",
    re.I,
)
RECORD_LINKS = ("lead", "contact", "company", "deal")


def _workspace_id() -> int:
    tenant = tenant_current()
    return tenant.pk if tenant is not None else 0


def _require_manage(actor: User | None) -> None:
    if not may_manage_mail(actor):
        raise AccessDenied(_("Only a workspace administrator can change the workspace's mail settings."))


def _require_may_manage_account(actor: User | None, owner: User | None) -> None:
    """The shared mailbox and other people's: administrators; one's own: oneself."""
    if actor is None or may_manage_mail(actor):
        return
    if owner is None or owner.pk != actor.pk:
        raise AccessDenied(_("You can only connect your own mailbox."))


# --- settings ---------------------------------------------------------------------------


@transaction.atomic
def mail_settings_update(
    *, actor: User | None, track_opens: bool, track_clicks: bool, create_leads: bool
) -> MailSettings:
    """Tracking switches and automatic leads (administrators; audited)."""
    _require_manage(actor)
    current = mail_settings()
    changes = {
        name: [getattr(current, name), value]
        for name, value in (
            ("track_opens", track_opens),
            ("track_clicks", track_clicks),
            ("create_leads", create_leads),
        )
        if getattr(current, name) != value
    }
    current.track_opens, current.track_clicks, current.create_leads = track_opens, track_clicks, create_leads
    current.save()
    if changes:
        audit_record(actor=actor, action="mail.settings", target=None, changes=changes)
    return current


# --- mailboxes --------------------------------------------------------------------------


def mail_account_password(account: MailAccount, purpose: str) -> str | None:
    """The clear password for "smtp" or "imap"; None when it can no longer be opened."""
    sealed = account.smtp_password_sealed if purpose == "smtp" else account.imap_password_sealed
    return secrets.unseal(sealed, workspace_id=_workspace_id(), purpose=purpose)


def _clean_host(value: str, *, field: str, errors: FieldErrors) -> str:
    host = (value or "").strip().lower().rstrip(".")
    if host and not HOSTNAME.match(host):
        errors.add(field, _("Give the server's name, such as smtp.example.com."), "invalid")
    return host


def _clean_port(value: Any, *, field: str, errors: FieldErrors) -> int:
    try:
        port = int(value)
    except (TypeError, ValueError):
        errors.add(field, _("Give a port number between 1 and 65535."), "invalid")
        return 0
    if not 1 <= port <= 65535:
        errors.add(field, _("Give a port number between 1 and 65535."), "invalid")
    return port


def _clean_security(value: str, *, field: str, errors: FieldErrors) -> str:
    if value not in Security.values:
        errors.add(field, _("Choose SSL/TLS, STARTTLS or none."), "invalid_choice")
    return value


ACCOUNT_FIELDS = (
    "from_name",
    "from_address",
    "smtp_host",
    "smtp_port",
    "smtp_security",
    "smtp_username",
    "imap_host",
    "imap_port",
    "imap_security",
    "imap_username",
    "imap_folder",
    "is_active",
)


@transaction.atomic
def mail_account_save(
    *,
    actor: User | None,
    owner: User | None,
    account: MailAccount | None = None,
    from_address: str,
    from_name: str = "",
    smtp_host: str = "",
    smtp_port: int = 587,
    smtp_security: str = Security.STARTTLS,
    smtp_username: str = "",
    smtp_password: str | None = None,
    imap_host: str = "",
    imap_port: int = 993,
    imap_security: str = Security.SSL,
    imap_username: str = "",
    imap_password: str | None = None,
    imap_folder: str = "INBOX",
    is_active: bool = True,
) -> MailAccount:
    """Connect (or change) the shared mailbox (`owner` None) or a person's.

    Passwords: None keeps the stored one, '' removes it, anything else replaces it
    (sealed). Needs the `settings` power, except for one's own mailbox. Changing the IMAP
    server, user or folder starts reading it afresh. Raises ValidationError per field;
    audited without any password.
    """
    _require_may_manage_account(actor, owner if account is None else account.owner)
    errors = FieldErrors()
    values: dict[str, Any] = {
        "from_name": " ".join((from_name or "").split())[:200],
        "from_address": (from_address or "").strip().lower(),
        "smtp_host": _clean_host(smtp_host, field="smtp_host", errors=errors),
        "smtp_port": _clean_port(smtp_port, field="smtp_port", errors=errors),
        "smtp_security": _clean_security(smtp_security, field="smtp_security", errors=errors),
        "smtp_username": (smtp_username or "").strip()[:254],
        "imap_host": _clean_host(imap_host, field="imap_host", errors=errors),
        "imap_port": _clean_port(imap_port, field="imap_port", errors=errors),
        "imap_security": _clean_security(imap_security, field="imap_security", errors=errors),
        "imap_username": (imap_username or "").strip()[:254],
        "imap_folder": (imap_folder or "").strip()[:200] or "INBOX",
        "is_active": bool(is_active),
    }
    valid, invalid = addresses_read(values["from_address"])
    if len(valid) != 1 or invalid:
        errors.add("from_address", _("Give the address mail is sent from, such as sales@example.com."), "invalid")
    if not values["smtp_host"] and not values["imap_host"] and not errors.errors:
        errors.add("smtp_host", _("Give an SMTP server to send through, an IMAP server to read, or both."), "required")
    for password, name in ((smtp_password, "smtp_password"), (imap_password, "imap_password")):
        if password is not None and len(password) > 500:
            errors.add(name, _("This password is too long."), "max_length")
    errors.raise_if_any()
    created = account is None
    if created:
        if MailAccount.objects.filter(owner=owner).exists():
            raise ValidationError({"owner": [ValidationError(_("This mailbox is already connected."), code="unique")]})
        account = MailAccount(owner=owner)
    before = {name: getattr(account, name) for name in ACCOUNT_FIELDS}
    restart = not created and any(
        before[name] != values[name] for name in ("imap_host", "imap_port", "imap_username", "imap_folder")
    )
    for name, value in values.items():
        setattr(account, name, value)
    changes: dict[str, Any] = {
        name: [before[name], values[name]] for name in ACCOUNT_FIELDS if created or before[name] != values[name]
    }
    workspace_id = _workspace_id()
    for password, purpose in ((smtp_password, "smtp"), (imap_password, "imap")):
        if password is None:
            continue
        setattr(
            account, f"{purpose}_password_sealed", secrets.seal(password, workspace_id=workspace_id, purpose=purpose)
        )
        changes[f"{purpose}_password"] = "changed" if password else "removed"
    if restart:
        account.imap_uidvalidity, account.imap_last_uid = None, 0
    if changes:
        account.last_error, account.last_error_at = "", None
    account.save()
    if changes:
        audit_record(actor=actor, action="mail_account.create" if created else "mail_account.update", target=account,
                     changes=changes)  # fmt: skip
    return account


@transaction.atomic
def mail_account_delete(*, actor: User | None, account: MailAccount) -> None:
    """Disconnect a mailbox; its mail stays in the CRM."""
    _require_may_manage_account(actor, account.owner)
    audit_record(actor=actor, action="mail_account.delete", target=account, changes={})
    MailAccount.objects.filter(pk=account.pk).delete()


@dataclass
class ConnectionCheck:
    smtp: str = ""  # "" not configured; "ok"; else the error
    imap: str = ""
    imap_messages: int | None = None

    @property
    def ok(self) -> bool:
        return self.smtp in ("", "ok") and self.imap in ("", "ok")


def mail_account_test(*, actor: User | None, account: MailAccount) -> ConnectionCheck:
    """Sign in to the account's SMTP and IMAP servers now; the outcome (the servers' own
    words on failure) is returned and kept as the account's last error."""
    _require_may_manage_account(actor, account.owner)
    check = ConnectionCheck()
    for purpose, configured in (("smtp", account.sends), ("imap", account.receives)):
        if not configured:
            continue
        password = mail_account_password(account, purpose)
        if password is None:
            setattr(check, purpose, _("The stored password can no longer be read; enter it again."))
            continue
        try:
            if purpose == "smtp":
                smtp_test(account, password)
            else:
                check.imap_messages = imap_test(account, password)
        except MailServerError as error:
            setattr(check, purpose, error.message)
        else:
            setattr(check, purpose, "ok")
    problems = [text for text in (check.smtp, check.imap) if text not in ("", "ok")]
    mail_account_error_set(account=account, error=" ".join(problems))
    return check


def mail_account_error_set(*, account: MailAccount, error: str) -> None:
    """Keep (or clear) what went wrong with the mailbox, for whoever manages it."""
    now = timezone.now()
    MailAccount.objects.filter(pk=account.pk).update(
        last_error=error[:2000], last_error_at=now if error else None, updated_at=now
    )
    account.last_error, account.last_error_at = error[:2000], now if error else None


# --- inbound addresses ----------------------------------------------------------------


def _new_token() -> str:
    return random_secrets.token_hex(12)


@transaction.atomic
def inbound_address_get_or_create(*, owner: User | None) -> InboundAddress:
    """The shared (`owner` None) or a person's inbound address, made on first use."""
    found = inbound_address_of(owner=owner)
    if found is not None:
        return found
    try:
        with transaction.atomic():
            return InboundAddress.objects.create(owner=owner, token=_new_token())
    except IntegrityError:
        return InboundAddress.objects.get(owner=owner)


@transaction.atomic
def inbound_address_rotate(*, actor: User | None, owner: User | None) -> InboundAddress:
    """A new token for the address (the old one stops working at once); audited."""
    _require_may_manage_account(actor, owner)
    address = inbound_address_get_or_create(owner=owner)
    address.token = _new_token()
    address.save(update_fields=["token", "updated_at"])
    audit_record(actor=actor, action="mail_inbound.rotate", target=address, changes={})
    return address


def inbound_address_text(address: InboundAddress) -> str:
    """`<slug>+<token>@<MAIL_INBOUND_DOMAIN>`."""
    tenant = tenant_current()
    slug = tenant.slug if tenant is not None else "workspace"
    return f"{slug}+{address.token}@{settings.MAIL_INBOUND_DOMAIN}"


def workspace_base_url() -> str:
    """`<scheme>://<slug>.<BASE_DOMAIN>` of the current workspace."""
    tenant = tenant_current()
    host = f"{tenant.slug}.{settings.BASE_HOSTNAME}" if tenant is not None else settings.BASE_HOSTNAME
    port = ":" + settings.BASE_DOMAIN.split(":", 1)[1] if ":" in settings.BASE_DOMAIN else ""
    return f"{settings.SITE_SCHEME}://{host}{port}"


def inbound_webhook_url(address: InboundAddress) -> str:
    return f"{workspace_base_url()}/mail/inbound/{address.token}/"


# --- templates ------------------------------------------------------------------------


def _template_values(*, name: str, language: str, subject: str, body: str, errors: FieldErrors) -> dict[str, Any]:
    name = " ".join((name or "").split())
    if not name:
        errors.add("name", _("Give the template a name."), "required")
    elif len(name) > 120:
        errors.add("name", _("Keep the name under 121 characters."), "max_length")
    language = (language or "").strip()
    if language and language not in dict(settings.LANGUAGES):
        errors.add("language", _("Choose one of the workspace's languages."), "invalid_choice")
    try:
        template_check(subject=subject or "", body=body or "")
    except ValidationError as error:
        for field_name, problems in error.error_dict.items():
            for problem in problems:
                errors.capture(field_name, problem)
    return {"name": name, "language": language, "subject": (subject or "").strip(), "body": body or ""}


def _template_unique(values: dict[str, Any], *, excluding: int | None, errors: FieldErrors) -> None:
    taken = EmailTemplate.objects.filter(name__iexact=values["name"], language=values["language"])
    if excluding is not None:
        taken = taken.exclude(pk=excluding)
    if values["name"] and taken.exists():
        errors.add("name", _("A template with this name and language exists already."), "unique")


@transaction.atomic
def email_template_create(
    *, actor: User | None, name: str, body: str, subject: str = "", language: str = "", is_active: bool = True
) -> EmailTemplate:
    """A new template (administrators). Raises ValidationError per field: syntax errors
    and unknown variables on `subject` / `body`."""
    _require_manage(actor)
    errors = FieldErrors()
    values = _template_values(name=name, language=language, subject=subject, body=body, errors=errors)
    _template_unique(values, excluding=None, errors=errors)
    errors.raise_if_any()
    template = EmailTemplate.objects.create(**values, is_active=is_active, created_by=actor)
    audit_record(actor=actor, action="email_template.create", target=template, changes={"name": values["name"]})
    return template


@transaction.atomic
def email_template_update(
    *,
    actor: User | None,
    template: EmailTemplate,
    name: str,
    subject: str,
    body: str,
    language: str = "",
    is_active: bool = True,
) -> EmailTemplate:
    _require_manage(actor)
    errors = FieldErrors()
    values = _template_values(name=name, language=language, subject=subject, body=body, errors=errors)
    _template_unique(values, excluding=template.pk, errors=errors)
    errors.raise_if_any()
    changes = {key: [getattr(template, key), value] for key, value in values.items() if getattr(template, key) != value}
    for key, value in values.items():
        setattr(template, key, value)
    if template.is_active != is_active:
        changes["is_active"] = [template.is_active, is_active]
    template.is_active = is_active
    template.save()
    if changes:
        audit_record(actor=actor, action="email_template.update", target=template, changes=changes)
    return template


@transaction.atomic
def email_template_delete(*, actor: User | None, template: EmailTemplate) -> None:
    _require_manage(actor)
    audit_record(actor=actor, action="email_template.delete", target=template, changes={})
    EmailTemplate.objects.filter(pk=template.pk).delete()


def workspace_name() -> str:
    tenant = tenant_current()
    return tenant.name if tenant is not None else ""


def email_template_render(
    *, actor: User | None, template: EmailTemplate, record: Model | None = None, sample: bool = False
) -> tuple[str, str]:
    """(subject, text) of `template` for the record an email is about (or the sample
    contact for a preview). ValidationError per field for a template that no longer
    compiles."""
    from crm.mail.templating import SAMPLE

    with translation.override(template.language or translation.get_language()):
        if sample:
            context = {**SAMPLE, **template_context(sender=actor, workspace_name=workspace_name())}
        else:
            context = template_context(sender=actor, workspace_name=workspace_name(), **_links_of(record))
    rendered = render(subject=template.subject, body=template.body, context=context, language=template.language)
    return rendered.subject, rendered.body


def _links_of(record: Model | None) -> dict[str, Any]:
    if record is None:
        return {}
    for name, model in (("lead", Lead), ("contact", Contact), ("company", Company), ("deal", Deal)):
        if isinstance(record, model):
            return {name: record}
    raise TypeError(f"{type(record).__name__} takes no email")


# --- sending --------------------------------------------------------------------------


@dataclass
class OutgoingFile:
    """A file to attach: `data` bytes with the name a person gave it."""

    name: str
    data: bytes
    content_type: str = ""


@dataclass
class Sender:
    account: MailAccount | None
    from_name: str
    from_address: str
    reply_to: list[str] = field(default_factory=list)


def sender_for(*, actor: User | None) -> Sender:
    """Who a message from `actor` comes from: their own mailbox, else the workspace's,
    else the platform's default sender with replies going to the person and to the
    workspace's inbound address (so they reach the CRM too)."""
    account = sending_account(actor=actor)
    name = actor.full_name if actor is not None else workspace_name()
    if account is not None:
        return Sender(account=account, from_name=account.from_name or name, from_address=account.from_address)
    default_name, default_address = parseaddr(settings.DEFAULT_FROM_EMAIL)
    inbound = inbound_address_get_or_create(owner=actor if actor is not None else None)
    reply_to = [actor.email.lower()] if actor is not None and actor.email else []
    reply_to.append(inbound_address_text(inbound))
    shown = f"{name} · {workspace_name()}" if name and workspace_name() else (name or default_name)
    return Sender(account=None, from_name=shown, from_address=default_address.lower(), reply_to=reply_to)


def subject_key(subject: str) -> str:
    return " ".join(REPLY_PREFIX.sub("", subject or "").split()).lower()[:500]


def _dedupe_key(message_id: str, raw: bytes | None = None) -> str:
    basis = message_id.encode() if message_id else (raw or random_secrets.token_bytes(32))
    return hashlib.sha256(basis).hexdigest()


def _snippet(text: str) -> str:
    text = (text or "").strip()
    return text if len(text) <= SNIPPET else text[: SNIPPET - 1].rstrip() + "…"


def _read_recipients(errors: FieldErrors, **fields: str | list[str]) -> dict[str, list[str]]:
    result: dict[str, list[str]] = {}
    for name, value in fields.items():
        valid, invalid = addresses_read(value or "")
        if invalid:
            errors.add(name, invalid_message(invalid), "invalid_email")
        result[name] = valid
    if not errors.errors.get("to") and not result["to"]:
        errors.add("to", _("Say who the email is for."), "required")
    if sum(len(values) for values in result.values()) > RECIPIENTS_MAX:
        errors.add("to", _("Send to at most %(count)d people at once.") % {"count": RECIPIENTS_MAX}, "too_many")
    return result


def _store_files(message: EmailMessage, files: list[OutgoingFile], stored: list[str], *, strict: bool) -> list[dict]:
    """Save each file for `message` (inside the caller's transaction); returns the summary
    shown on the timeline. `strict` (sending): a file over the cap or the storage limit
    refuses the whole message. Otherwise (receiving) it is listed as not stored."""
    summary = []
    limit = settings.ATTACHMENT_MAX_BYTES
    for file in files:
        name = filename_clean(file.name)
        content_type = (file.content_type or content_type_for(name))[:100]
        size = len(file.data)
        stored_name, reason = None, ""
        if size > limit:
            reason = _("Larger than %(size)s MB, the most one file may take.") % {"size": f"{limit / (1024 * 1024):g}"}
            if strict:
                raise ValidationError({"attachments": [ValidationError(f"{name}: {reason}", code="file_too_large")]})
        else:
            try:
                with transaction.atomic():
                    stored_name = stored_file_add(file=ContentFile(file.data), size=size, folder="mail")
                    stored.append(stored_name)
            except PlanLimitReached as full:
                if strict:
                    raise
                reason = full.message
        attachment = EmailAttachment.objects.create(
            message=message,
            original_name=name,
            content_type=content_type,
            size_bytes=size,
            sha256=hashlib.sha256(file.data).hexdigest(),
            stored_name=stored_name,
            not_stored_reason=reason[:300],
        )
        summary.append({"id": attachment.pk, "name": name, "size": size, "stored": bool(stored_name), "reason": reason})
    return summary


def tracking_base() -> str:
    """Where the tracking pixel and link counter of this workspace answer."""
    return f"{workspace_base_url()}/mail/t/"


URL = re.compile(r"https?://[^\s<>\"']+", re.I)


def _links_in(text: str) -> list[str]:
    found: list[str] = []
    for match in URL.findall(text or ""):
        link = match.rstrip(".,;:!?)")
        if link not in found:
            found.append(link)
    return found[:100]


@transaction.atomic
def email_send(
    *,
    actor: User | None,
    to: str | list[str],
    subject: str = "",
    body: str = "",
    cc: str | list[str] = "",
    bcc: str | list[str] = "",
    record: Model | None = None,
    quote=None,
    reply_to_message: EmailMessage | None = None,
    template: EmailTemplate | None = None,
    files: list[OutgoingFile] | None = None,
) -> EmailMessage:
    """Queue an email from `actor` about `record` (a lead, contact, company or deal the
    actor can see; or the quote's deal/contact/company), optionally a reply.

    `template` fills an empty subject and an empty text (rendered for the record). Checks
    every address (a field error names each invalid one), that there is a subject or a
    text, every file against ATTACHMENT_MAX_BYTES and all of them against the plan's
    storage (PlanLimitReached): on any refusal nothing is written or sent. The message
    is on the record's timeline at once (status "sending"); crm.mail.tasks.email_deliver
    sends it when this transaction commits.
    """
    access.require(actor=actor, action=Action.CREATE, model=Activity)
    links: dict[str, Any] = dict.fromkeys(RECORD_LINKS)
    if quote is not None:
        access.require(actor=actor, action=Action.VIEW, record=quote)
        links.update(deal=quote.deal, contact=quote.contact, company=quote.company)
    if record is not None:
        access.require(actor=actor, action=Action.VIEW, record=record)
        links.update(_links_of(record))
    if reply_to_message is not None and not any(links.values()):
        links.update({name: getattr(reply_to_message, name) for name in RECORD_LINKS})
    errors = FieldErrors()
    # Browsers send text areas with CRLF line ends; the stored text has plain newlines.
    body = (body or "").replace("\r\n", "\n").replace("\r", "\n")
    recipients = _read_recipients(errors, to=to, cc=cc, bcc=bcc)
    if not any(links.values()):
        # Written to an address without a card: the card it belongs to, if there is one.
        links.update(_match(recipients["to"]))
    subject = " ".join((subject or "").split())
    if template is not None and (not subject or not (body or "").strip()):
        try:
            rendered_subject, rendered_body = email_template_render(
                actor=actor, template=template, record=record or (quote.contact if quote is not None else None)
            )
        except ValidationError as error:
            for name, problems in error.error_dict.items():
                for problem in problems:
                    errors.capture(name, problem)
        else:
            subject = subject or rendered_subject
            body = body if (body or "").strip() else rendered_body
    if not subject and not (body or "").strip() and not files:
        errors.add("body", _("Write a subject or a text: an empty email cannot be sent."), "required")
    if len(subject) > SUBJECT_MAX:
        errors.add(
            "subject", _("Keep the subject under %(count)d characters.") % {"count": SUBJECT_MAX + 1}, "max_length"
        )
    files = list(files or [])
    total = sum(len(file.data) for file in files) + len((body or "").encode())
    if total > settings.MAIL_MESSAGE_MAX_BYTES:
        errors.add(
            "attachments",
            _("Together the files take %(size)s MB; an email may carry at most %(limit)s MB.")
            % {"size": f"{total / (1024 * 1024):.1f}", "limit": f"{settings.MAIL_MESSAGE_MAX_BYTES / (1024 * 1024):g}"},
            "too_large",
        )
    for file in files:
        if not file.data:
            errors.add("attachments", _("“%(name)s” is empty.") % {"name": filename_clean(file.name)}, "empty")
    errors.raise_if_any()

    sender = sender_for(actor=actor)
    now = timezone.now()
    if reply_to_message is not None:
        thread = reply_to_message.thread
        in_reply_to = reply_to_message.message_id
        references = " ".join([*message_ids(reply_to_message.references), reply_to_message.message_id][-20:]).strip()
    else:
        thread = EmailThread.objects.create(subject=subject, subject_key=subject_key(subject), last_message_at=now)
        in_reply_to = references = ""
    message_id = make_msgid(domain=domain_of(sender.from_address) or settings.BASE_HOSTNAME)
    settings_now = mail_settings()
    tracking = settings_now.track_opens or settings_now.track_clicks
    message = EmailMessage.objects.create(
        direction=EmailDirection.OUTBOUND,
        status=EmailStatus.QUEUED,
        thread=thread,
        account=sender.account,
        author=actor,
        message_id=message_id,
        in_reply_to=in_reply_to,
        references=references,
        dedupe_key=_dedupe_key(message_id),
        from_name=sender.from_name[:200],
        from_address=sender.from_address,
        reply_to=sender.reply_to,
        to_addresses=recipients["to"],
        cc_addresses=recipients["cc"],
        bcc_addresses=recipients["bcc"],
        subject=subject,
        text_body=body or "",
        tracking_token=random_secrets.token_hex(16) if tracking else None,
        tracked_links=_links_in(body) if settings_now.track_clicks else [],
        **links,
    )
    stored: list[str] = []
    try:
        with transaction.atomic():
            if quote is not None:
                files.append(_quote_pdf(quote))
            message.attachments_summary = _store_files(message, files, stored, strict=True)
            message.raw_size = total
            if any(links.values()):
                activity = email_log(
                    actor=actor,
                    direction="sent",
                    subject=(subject or _("(no subject)"))[:ACTIVITY_SUBJECT_MAX],
                    body=_snippet(body),
                    occurred_at=now,
                    **links,
                )
                if quote is not None:
                    Activity.objects.filter(pk=activity.pk).update(quote=quote)
                message.activity = activity
            message.save(update_fields=["attachments_summary", "raw_size", "activity", "updated_at"])
            EmailThread.objects.filter(pk=thread.pk).update(last_message_at=now, updated_at=now)
    except BaseException:
        for name in stored:
            stored_file_forget(name)
        raise
    task_after_commit("crm.mail.tasks.email_deliver", message_id=message.pk)
    logger.info("email queued", extra={"email": message.pk, "attachments": len(files)})
    return message


def _quote_pdf(quote) -> OutgoingFile:
    from django.utils.translation import get_language

    from crm.catalog.quote_pdf import render_quote_pdf
    from crm.catalog.selectors import quote_get

    full = quote_get(actor=None, quote_id=quote.pk)
    data = render_quote_pdf(full, get_language() or settings.LANGUAGE_CODE)
    return OutgoingFile(name=f"{quote.number}.pdf", data=data, content_type="application/pdf")


@transaction.atomic
def email_retry(*, actor: User | None, message: EmailMessage) -> EmailMessage:
    """Queue a message that could not be sent once more (its author or an administrator)."""
    if actor is not None and message.author_id != actor.pk and not may_manage_mail(actor):
        raise AccessDenied(_("Only the person who wrote this email can send it again."))
    if message.status != EmailStatus.FAILED:
        raise DomainError(_("Only an email that could not be sent can be sent again."), code="email_not_failed")
    EmailMessage.objects.filter(pk=message.pk).update(status=EmailStatus.QUEUED, error="", attempts=0)
    message.status, message.error, message.attempts = EmailStatus.QUEUED, "", 0
    task_after_commit("crm.mail.tasks.email_deliver", message_id=message.pk)
    return message


# A queued message nobody touched for this long lost its queue message (the broker was
# down when it was written, or went away with it): longer than the longest backoff wait.
STUCK_AFTER = timedelta(minutes=30)
STUCK_BATCH = 200


def emails_stuck_requeue(*, now: datetime | None = None) -> list[int]:
    """Queue again the messages still "Sending" that nothing has touched for 30 minutes
    (at most 200 per run); returns their ids. Safe to repeat: a worker sends a message
    only while it is queued, under its row lock, so a message sent meanwhile is skipped.
    Their `updated_at` moves, so the next sweep waits another 30 minutes for them."""
    now = now or timezone.now()
    ids = list(
        EmailMessage.objects.filter(status=EmailStatus.QUEUED, updated_at__lt=now - STUCK_AFTER)
        .order_by("updated_at")
        .values_list("pk", flat=True)[:STUCK_BATCH]
    )
    if ids:
        EmailMessage.objects.filter(pk__in=ids, status=EmailStatus.QUEUED).update(updated_at=now)
        for message_id in ids:
            task_after_commit("crm.mail.tasks.email_deliver", message_id=message_id)
        logger.warning("stuck emails queued again", extra={"emails": len(ids)})
    return ids


# --- receiving ------------------------------------------------------------------------


def _own_addresses() -> set[str]:
    """This workspace's side of a conversation: its mailboxes and its people."""
    own = set(MailAccount.objects.values_list("from_address", flat=True))
    own.update(email.lower() for email in User.objects.filter(is_active=True).values_list("email", flat=True))
    own.add(parseaddr(settings.DEFAULT_FROM_EMAIL)[1].lower())
    return own


def _match(addresses: list[str]) -> dict[str, Any]:
    """The records the first matching address belongs to: a contact, else an open lead,
    else a company (GIN-indexed `emails` arrays, the lead's lowercased email)."""
    for address in addresses:
        contact = Contact.objects.filter(emails__overlap=[address]).order_by("-updated_at").first()
        if contact is not None:
            return {"contact": contact}
        lead = Lead.objects.filter(email=address).exclude(status=LeadStatus.CONVERTED).order_by("-updated_at").first()
        if lead is not None:
            return {"lead": lead}
        company = Company.objects.filter(emails__overlap=[address]).order_by("-updated_at").first()
        if company is not None:
            return {"company": company}
    return {}


def _thread_of(
    parsed: ParsedMessage, *, at: datetime, participants: set[str]
) -> tuple[EmailThread, EmailMessage | None]:
    ids = [*parsed.references, parsed.in_reply_to]
    ids = [value for value in ids if value]
    if ids:
        parent = EmailMessage.objects.filter(message_id__in=ids).order_by("-created_at", "-id").first()
        if parent is not None:
            return parent.thread, parent
    key = subject_key(parsed.subject)
    if key and REPLY_PREFIX.match(parsed.subject or "") and participants:
        candidates = EmailThread.objects.filter(
            subject_key=key, last_message_at__gte=at - timedelta(days=THREAD_BY_SUBJECT_DAYS)
        ).order_by("-last_message_at")[:5]
        for thread in candidates:
            together = EmailMessage.objects.filter(thread=thread).filter(
                Q(from_address__in=participants) | Q(to_addresses__overlap=list(participants))
            )
            if together.exists():
                return thread, None
    return EmailThread.objects.create(subject=parsed.subject, subject_key=key, last_message_at=at), None


def _arrival_time(parsed: ParsedMessage, now: datetime) -> datetime:
    date = parsed.date
    if date is None or date > now + timedelta(days=1) or date.year < 1990:
        return now
    return date


@transaction.atomic
def email_receive(
    *, raw: bytes, account: MailAccount | None = None, inbound_address: InboundAddress | None = None
) -> EmailMessage | None:
    """Store a received message (raw RFC 822 bytes) that came through `account` (IMAP) or
    `inbound_address` (the webhook). None when it was stored before (same Message-ID, or
    the same bytes when it has none).

    Threading: References/In-Reply-To, else the same subject after "Re:" between the same
    people within 30 days. Links: the message it answers, else the sender's (then the
    recipients') contact, open lead or company; else, with the workspace's option on, a
    new lead (channel email). Files are stored under the tenant's media folder and count
    toward the plan's storage; one that does not fit is listed as not stored with the
    reason. A malformed message is kept as far as it reads, with a note and the original
    attached (original-message.eml).
    """
    now = timezone.now()
    parsed = parse_message(raw)
    dedupe_key = _dedupe_key(parsed.message_id, raw)
    if EmailMessage.objects.filter(dedupe_key=dedupe_key).exists():
        return None
    owner = account.owner if account is not None else (inbound_address.owner if inbound_address is not None else None)
    at = _arrival_time(parsed, now)
    own = _own_addresses()
    # The other side of the conversation: not our mailboxes, not our inbound addresses.
    outsiders = [
        address
        for address in [parsed.from_address, *parsed.to, *parsed.cc]
        if address and address not in own and not address.endswith("@" + settings.MAIL_INBOUND_DOMAIN)
    ]
    # The subject fallback needs the same person: the sender, else (our own mail seen
    # again) the people it went to.
    speaker = {parsed.from_address} if parsed.from_address in outsiders else set(outsiders)
    thread, parent = _thread_of(parsed, at=at, participants=speaker)
    links: dict[str, Any] = {}
    if parent is not None and parent.is_linked:
        links = {name: getattr(parent, name) for name in RECORD_LINKS if getattr(parent, f"{name}_id")}
    if not links:
        links = _match(outsiders)
    if not links and parsed.from_address and parsed.from_address not in own and mail_settings().create_leads:
        links = {"lead": _lead_from(parsed, owner=owner)}
    html, remote = html_sanitize(parsed.html)
    text = parsed.text or html_to_text(parsed.html)
    files = [
        OutgoingFile(name=item.name, data=item.data, content_type=item.content_type) for item in parsed.attachments
    ]
    if parsed.notes:
        files.append(OutgoingFile(name="original-message.eml", data=raw, content_type="message/rfc822"))
    stored: list[str] = []
    try:
        with transaction.atomic():
            message = EmailMessage.objects.create(
                direction=EmailDirection.INBOUND,
                status=EmailStatus.RECEIVED,
                thread=thread,
                account=account,
                inbound_address=inbound_address,
                mailbox_owner=owner,
                message_id=parsed.message_id[:998],
                in_reply_to=parsed.in_reply_to[:998],
                references=" ".join(parsed.references),
                dedupe_key=dedupe_key,
                from_name=parsed.from_name,
                from_address=parsed.from_address[:254],
                reply_to=parsed.reply_to[:10],
                to_addresses=parsed.to[:200],
                cc_addresses=parsed.cc[:200],
                subject=parsed.subject[:SUBJECT_MAX],
                text_body=text,
                html_body=html,
                has_remote_images=remote,
                received_at=at,
                parse_notes="\n".join(parsed.notes),
                raw_size=len(raw),
                **links,
            )
            message.attachments_summary = _store_files(message, files, stored, strict=False)
            if links:
                message.activity = _activity_for(message, links=links, at=at)
            message.save(update_fields=["attachments_summary", "activity", "updated_at"])
            EmailThread.objects.filter(pk=thread.pk, last_message_at__lt=at).update(last_message_at=at, updated_at=now)
    except IntegrityError:
        # The same message arrived at the same moment another way: stored once.
        for name in stored:
            stored_file_forget(name)
        if EmailMessage.objects.filter(dedupe_key=dedupe_key).exists():
            return None
        raise
    except BaseException:
        for name in stored:
            stored_file_forget(name)
        raise
    logger.info("email received", extra={"email": message.pk, "linked": bool(links), "size": len(raw)})
    return message


def _activity_for(message: EmailMessage, *, links: dict[str, Any], at: datetime) -> Activity:
    chosen = {name: links.get(name) for name in RECORD_LINKS if links.get(name) is not None}
    return email_log(
        actor=None,
        direction="received",
        subject=(message.subject or _("(no subject)"))[:ACTIVITY_SUBJECT_MAX],
        body=_snippet(message.text_body),
        occurred_at=at,
        **chosen,
    )


def _lead_from(parsed: ParsedMessage, *, owner: User | None) -> Lead:
    from crm.leads.services import lead_create

    return lead_create(
        actor=None,
        name=parsed.from_name or parsed.from_address,
        email=parsed.from_address,
        message=_snippet(parsed.text or html_to_text(parsed.html)),
        owner=owner,
        channel=LeadChannel.EMAIL,
    )


# --- triage of unmatched mail ---------------------------------------------------------


def _require_unmatched(message: EmailMessage) -> None:
    if message.direction != EmailDirection.INBOUND or message.is_linked:
        raise DomainError(_("This email is already on a client card."), code="email_linked")


def _link_unmatched_from(*, address: str, links: dict[str, Any]) -> int:
    """Put every unmatched message from `address` on the card of the new record."""
    count = 0
    pending = EmailMessage.objects.select_for_update().filter(
        UNLINKED, direction=EmailDirection.INBOUND, from_address=address
    )
    for message in pending:
        message.activity = _activity_for(message, links=links, at=message.received_at or message.created_at)
        for name, value in links.items():
            setattr(message, name, value)
        message.dismissed_at = None
        message.save(update_fields=[*links, "activity", "dismissed_at", "updated_at"])
        count += 1
    return count


@transaction.atomic
def email_lead_create(*, actor: User | None, message: EmailMessage) -> Lead:
    """A lead from an unmatched message's sender (channel email, owned by the actor); the
    sender's other unmatched mail goes onto its card too."""
    from crm.leads.services import lead_create

    _require_unmatched(message)
    lead = lead_create(
        actor=actor,
        name=message.from_name or message.from_address,
        email=message.from_address,
        message=_snippet(message.text_body),
        channel=LeadChannel.EMAIL,
    )
    _link_unmatched_from(address=message.from_address, links={"lead": lead})
    return lead


@transaction.atomic
def email_contact_create(*, actor: User | None, message: EmailMessage) -> Contact:
    """A contact from an unmatched message's sender (name split at the first space)."""
    from crm.clients.services import contact_create

    _require_unmatched(message)
    name = message.from_name or message.from_address.split("@")[0]
    first, _space, last = name.partition(" ")
    contact = contact_create(actor=actor, first_name=first, last_name=last, emails=[message.from_address])
    _link_unmatched_from(address=message.from_address, links={"contact": contact})
    return contact


@transaction.atomic
def email_dismiss(*, actor: User | None, message: EmailMessage) -> EmailMessage:
    """Set an unmatched message aside ("not a client"); it stays readable."""
    _require_unmatched(message)
    message.dismissed_at = timezone.now()
    message.save(update_fields=["dismissed_at", "updated_at"])
    return message


# --- tracking (only when the workspace turned it on) ----------------------------------


def email_opened(*, token: str) -> bool:
    """Count an open of the message with this tracking token; whether it exists."""
    now = timezone.now()
    updated = EmailMessage.objects.filter(tracking_token=token, direction=EmailDirection.OUTBOUND).update(
        open_count=F("open_count") + 1, updated_at=now
    )
    EmailMessage.objects.filter(tracking_token=token, first_opened_at__isnull=True).update(first_opened_at=now)
    return bool(updated)


def email_clicked(*, token: str, index: int) -> str | None:
    """Count a click on the message's `index`-th link; the link (None when unknown)."""
    message = EmailMessage.objects.filter(tracking_token=token).only("pk", "tracked_links").first()
    if message is None or not 0 <= index < len(message.tracked_links):
        return None
    link = message.tracked_links[index]
    if not isinstance(link, str) or not link.lower().startswith(("http://", "https://")):
        return None
    EmailMessage.objects.filter(pk=message.pk).update(click_count=F("click_count") + 1, updated_at=timezone.now())
    return link

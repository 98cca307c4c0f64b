"""Reads of mail, always for an actor.

Who sees a message:
- anyone who can see one of the records it is linked to (like the card's timeline);
- whoever sent it, and the person whose own mailbox or inbound address received it;
- an unmatched message of the workspace's shared mailbox or address: people who may see
  every lead (they triage it: create a lead or a contact, or set it aside) and
  administrators.
Everything else (another workspace's, someone else's personal mail) looks missing.
Mailboxes: administrators (the `settings` power) see all; everyone else their own.
"""

from __future__ import annotations

from django.db.models import Exists, OuterRef, Q, QuerySet, Sum
from django.utils.translation import gettext as _

from accounts import roles
from accounts.models import User
from accounts.policy import has_capability, scope_for
from crm import access
from crm.clients.models import Company, Contact
from crm.deals.models import Deal
from crm.errors import RecordNotFound
from crm.leads.models import Lead
from crm.mail.models import (
    EmailAttachment,
    EmailDirection,
    EmailMessage,
    EmailTemplate,
    InboundAddress,
    MailAccount,
    MailSettings,
)

RECORD_MODELS = {"lead": Lead, "contact": Contact, "company": Company, "deal": Deal}
MESSAGE_RELATED = ("author", "thread", "contact", "company", "lead", "deal")
UNLINKED = Q(lead__isnull=True, contact__isnull=True, company__isnull=True, deal__isnull=True)


def mail_settings() -> MailSettings:
    """The workspace's mail switches (created with everything off on first use)."""
    settings, _created = MailSettings.objects.get_or_create(pk=1)
    return settings


def may_manage_mail(actor: User | None) -> bool:
    """The workspace's mailbox, inbound address, tracking and templates: administrators."""
    return actor is None or has_capability(actor, roles.SETTINGS)


def may_triage_shared(actor: User | None) -> bool:
    """Whether `actor` works the shared "Unmatched mail" inbox."""
    if actor is None:
        return True
    return actor.is_active and (
        has_capability(actor, roles.SETTINGS) or scope_for(actor, "lead", access.Action.VIEW) == roles.ALL
    )


def _visible_condition(actor: User) -> Q:
    condition = Q(author_id=actor.pk) | Q(mailbox_owner_id=actor.pk)
    for field, model in RECORD_MODELS.items():
        live = access.visible(model.objects.filter(pk=OuterRef(f"{field}_id")), actor=actor)
        condition |= Q(Exists(live))
    if may_triage_shared(actor):
        condition |= Q(UNLINKED, mailbox_owner__isnull=True, direction=EmailDirection.INBOUND)
    return condition


def email_visible(queryset: QuerySet[EmailMessage], *, actor: User | None) -> QuerySet[EmailMessage]:
    if actor is None:
        return queryset
    if not actor.is_active:
        return queryset.none()
    return queryset.filter(_visible_condition(actor))


def email_list(
    *,
    actor: User | None,
    record_type: str | None = None,
    record_id: int | None = None,
    thread_id: int | None = None,
    direction: str | None = None,
    status: str | None = None,
) -> QuerySet[EmailMessage]:
    """Messages `actor` may see, newest first; narrowed to one record (a company's also
    holds its contacts' mail), one thread, a direction or a status."""
    queryset = EmailMessage.objects.all()
    if record_type is not None:
        if record_type not in RECORD_MODELS:
            return EmailMessage.objects.none()
        if record_id is not None:
            scope = Q(**{f"{record_type}_id": record_id})
            if record_type == "company":
                scope |= Q(contact__company_id=record_id)
            queryset = queryset.filter(scope)
        else:
            queryset = queryset.filter(**{f"{record_type}__isnull": False})
    if thread_id is not None:
        queryset = queryset.filter(thread_id=thread_id)
    if direction:
        queryset = queryset.filter(direction=direction)
    if status:
        queryset = queryset.filter(status=status)
    return email_visible(queryset, actor=actor).select_related(*MESSAGE_RELATED).order_by("-created_at", "-id")


def email_get(*, actor: User | None, message_id: int) -> EmailMessage:
    """One message `actor` may see; RecordNotFound otherwise (missing, another
    workspace's, someone else's personal mail)."""
    message = email_visible(EmailMessage.objects.filter(pk=message_id), actor=actor).select_related(*MESSAGE_RELATED)
    found = message.first()
    if found is None:
        raise RecordNotFound(_("This email does not exist or you cannot see it."))
    return found


def thread_messages(*, actor: User | None, message: EmailMessage) -> list[EmailMessage]:
    """The visible messages of `message`'s conversation, oldest first (at most 100)."""
    queryset = email_visible(EmailMessage.objects.filter(thread_id=message.thread_id), actor=actor)
    return list(queryset.select_related("author").order_by("created_at", "id")[:100])


def unmatched_list(*, actor: User | None) -> QuerySet[EmailMessage]:
    """Received messages linked to no record and not set aside, that `actor` triages:
    their own mailbox's, and the shared mailbox's when they work it."""
    queryset = EmailMessage.objects.filter(UNLINKED, direction=EmailDirection.INBOUND, dismissed_at__isnull=True)
    if actor is not None:
        mine = Q(mailbox_owner_id=actor.pk)
        if may_triage_shared(actor):
            mine |= Q(mailbox_owner__isnull=True)
        queryset = queryset.filter(mine)
    return queryset.select_related("thread").order_by("-created_at", "-id")


def email_attachment_get(*, actor: User | None, attachment_id: int) -> EmailAttachment:
    """A stored file of a message `actor` may see; RecordNotFound otherwise."""
    attachment = EmailAttachment.objects.filter(pk=attachment_id).select_related("message").first()
    if attachment is None:
        raise RecordNotFound(_("This file does not exist or you cannot see it."))
    email_get(actor=actor, message_id=attachment.message_id)
    return attachment


def mail_storage_used_bytes() -> int:
    """Bytes of every stored mail attachment of this workspace (crm.attachments counts them)."""
    return EmailAttachment.objects.filter(stored_name__isnull=False).aggregate(total=Sum("size_bytes"))["total"] or 0


# --- mailboxes, addresses, templates --------------------------------------------------


def mail_account_list(*, actor: User | None) -> QuerySet[MailAccount]:
    queryset = MailAccount.objects.select_related("owner")
    if not may_manage_mail(actor):
        queryset = queryset.filter(owner_id=actor.pk)
    return queryset.order_by("owner_id", "id")


def mail_account_get(*, actor: User | None, account_id: int) -> MailAccount:
    account = mail_account_list(actor=actor).filter(pk=account_id).first()
    if account is None:
        raise RecordNotFound(_("This mailbox does not exist or you cannot see it."))
    return account


def mail_account_of(*, owner: User | None) -> MailAccount | None:
    """The shared mailbox (owner None) or one person's, if connected."""
    return MailAccount.objects.filter(owner=owner).first()


def sending_account(*, actor: User | None) -> MailAccount | None:
    """The mailbox `actor` sends through: their own, else the workspace's (active, with
    SMTP); None means the platform's default sender."""
    candidates = MailAccount.objects.filter(is_active=True).exclude(smtp_host="")
    if actor is not None:
        own = candidates.filter(owner_id=actor.pk).first()
        if own is not None:
            return own
    return candidates.filter(owner__isnull=True).first()


def inbound_address_of(*, owner: User | None) -> InboundAddress | None:
    return InboundAddress.objects.filter(owner=owner).first()


def inbound_address_by_token(token: str) -> InboundAddress | None:
    """The address a webhook posts to (in this workspace's schema only)."""
    if not token or len(token) > 40:
        return None
    return InboundAddress.objects.select_related("owner").filter(token=token).first()


def email_template_list(*, actor: User | None, active: bool | None = None) -> QuerySet[EmailTemplate]:
    queryset = EmailTemplate.objects.all()
    if active is not None:
        queryset = queryset.filter(is_active=active)
    return queryset.order_by("name", "language", "id")


def email_template_get(*, actor: User | None, template_id: int) -> EmailTemplate:
    template = EmailTemplate.objects.filter(pk=template_id).first()
    if template is None:
        raise RecordNotFound(_("This template does not exist."))
    return template

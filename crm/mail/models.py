"""Email inside the CRM: mailboxes, messages and their threads, attachments, templates,
inbound addresses and the workspace's mail settings.

A message is stored once, whatever way it came (sent from a card, fetched from a mailbox
over IMAP, posted to the workspace's inbound address): `dedupe_key` (a hash of its
Message-ID, or of the whole message when it has none) is unique. It links to the client
records it is about with the same four foreign keys as activities, and to the timeline
entry (crm.activities.Activity, kind email) that shows it on their cards.

Mailbox passwords are stored sealed (crm.mail.secrets): AES-GCM with a key derived from
SECRET_KEY, never in clear, never shown, never exported.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q, Value
from django.db.models.functions import Coalesce, Lower
from django.utils.translation import gettext_lazy as _

from crm.records import Timestamped

ADDRESS_MAX = 254
MESSAGE_ID_MAX = 998  # the longest header line RFC 5322 allows


class Security(models.TextChoices):
    SSL = "ssl", _("SSL/TLS")
    STARTTLS = "starttls", _("STARTTLS")
    NONE = "none", _("None (not encrypted)")


class MailAccount(Timestamped):
    """A mailbox the CRM sends through (SMTP) and reads (IMAP): the workspace's shared one
    (`owner` empty) or one person's. At most one of each."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("person"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
    )
    from_name = models.CharField(_("sender name"), max_length=200, blank=True)
    from_address = models.CharField(_("sender address"), max_length=ADDRESS_MAX)
    smtp_host = models.CharField(_("SMTP server"), max_length=253, blank=True)
    smtp_port = models.PositiveIntegerField(_("SMTP port"), default=587)
    smtp_security = models.CharField(
        _("SMTP security"), max_length=10, choices=Security.choices, default=Security.STARTTLS
    )
    smtp_username = models.CharField(_("SMTP user name"), max_length=ADDRESS_MAX, blank=True)
    smtp_password_sealed = models.TextField(blank=True, editable=False)
    imap_host = models.CharField(_("IMAP server"), max_length=253, blank=True)
    imap_port = models.PositiveIntegerField(_("IMAP port"), default=993)
    imap_security = models.CharField(_("IMAP security"), max_length=10, choices=Security.choices, default=Security.SSL)
    imap_username = models.CharField(_("IMAP user name"), max_length=ADDRESS_MAX, blank=True)
    imap_password_sealed = models.TextField(blank=True, editable=False)
    imap_folder = models.CharField(_("IMAP folder"), max_length=200, default="INBOX")
    is_active = models.BooleanField(_("active"), default=True)
    # Incremental IMAP sync: the folder's UIDVALIDITY and the highest UID already read.
    imap_uidvalidity = models.BigIntegerField(null=True, blank=True, editable=False)
    imap_last_uid = models.BigIntegerField(default=0, editable=False)
    last_sync_at = models.DateTimeField(_("last checked"), null=True, blank=True, editable=False)
    # What went wrong last (shown to whoever manages the mailbox); empty when all is well.
    last_error = models.TextField(_("last error"), blank=True, editable=False)
    last_error_at = models.DateTimeField(_("last error at"), null=True, blank=True, editable=False)

    class Meta:
        ordering = ["owner_id", "id"]
        verbose_name = _("mailbox")
        verbose_name_plural = _("mailboxes")
        constraints = [
            # One shared mailbox (owner NULL counts as 0) and one per person.
            models.UniqueConstraint(Coalesce("owner", Value(0)), name="mailaccount_one_per_owner"),
        ]

    def __str__(self) -> str:
        return self.from_address

    @property
    def sends(self) -> bool:
        return bool(self.smtp_host)

    @property
    def receives(self) -> bool:
        return bool(self.imap_host)


class InboundAddress(Timestamped):
    """`<slug>+<token>@<MAIL_INBOUND_DOMAIN>`: mail forwarded there (by a mail provider's
    raw-MIME webhook to /mail/inbound/<token>/) lands in the CRM. The workspace's
    (`owner` empty) or one person's."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("person"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
    )
    token = models.CharField(max_length=40, unique=True, editable=False)

    class Meta:
        ordering = ["owner_id", "id"]
        verbose_name = _("inbound address")
        verbose_name_plural = _("inbound addresses")
        constraints = [models.UniqueConstraint(Coalesce("owner", Value(0)), name="inboundaddress_one_per_owner")]

    def __str__(self) -> str:
        return self.token


class MailSettings(Timestamped):
    """The workspace's mail switches (one row). Tracking is off unless someone turns it on."""

    track_opens = models.BooleanField(_("track opens"), default=False)
    track_clicks = models.BooleanField(_("track clicks"), default=False)
    create_leads = models.BooleanField(_("create leads from unknown senders"), default=False)

    class Meta:
        verbose_name = _("mail settings")
        verbose_name_plural = _("mail settings")

    def __str__(self) -> str:
        return "mail settings"


class EmailTemplate(Timestamped):
    """Subject and text with variables (`{{ contact.first_name }}`), in one language ('' = any)."""

    name = models.CharField(_("name"), max_length=120)
    language = models.CharField(_("language"), max_length=8, blank=True)
    subject = models.CharField(_("subject"), max_length=255, blank=True)
    body = models.TextField(_("text"))
    is_active = models.BooleanField(_("active"), default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["name", "language", "id"]
        verbose_name = _("email template")
        verbose_name_plural = _("email templates")
        constraints = [models.UniqueConstraint(Lower("name"), "language", name="emailtemplate_name_language")]

    def __str__(self) -> str:
        return f"{self.name} ({self.language})" if self.language else self.name


class EmailThread(Timestamped):
    """A conversation: messages joined by Message-ID/In-Reply-To/References, or by subject."""

    subject = models.CharField(_("subject"), max_length=500, blank=True)
    # The subject without "Re:", "Fwd:" and their translations, lowercased: the fallback key.
    subject_key = models.CharField(max_length=500, blank=True)
    last_message_at = models.DateTimeField()

    class Meta:
        ordering = ["-last_message_at", "-id"]
        indexes = [models.Index(fields=["subject_key", "-last_message_at"], name="emailthread_subject")]

    def __str__(self) -> str:
        return self.subject


class EmailDirection(models.TextChoices):
    OUTBOUND = "outbound", _("Sent")
    INBOUND = "inbound", _("Received")


class EmailStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    QUEUED = "queued", _("Sending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Not sent")
    RECEIVED = "received", _("Received")


def _record_link(to: str, verbose_name) -> models.ForeignKey:
    # SET_NULL: purging a record from the trash keeps the mail (it is still in the
    # mailbox); the composite indexes below lead with each link.
    return models.ForeignKey(
        to,
        verbose_name=verbose_name,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="email_messages",
        db_index=False,
    )


class EmailMessage(Timestamped):
    direction = models.CharField(_("direction"), max_length=8, choices=EmailDirection.choices)
    status = models.CharField(_("status"), max_length=8, choices=EmailStatus.choices)
    thread = models.ForeignKey(EmailThread, on_delete=models.CASCADE, related_name="messages")
    lead = _record_link("leads.Lead", _("lead"))
    contact = _record_link("clients.Contact", _("contact"))
    company = _record_link("clients.Company", _("company"))
    deal = _record_link("deals.Deal", _("deal"))
    # The card's timeline entry that shows this message (none while it is unmatched).
    activity = models.OneToOneField(
        "activities.Activity", on_delete=models.SET_NULL, null=True, blank=True, related_name="email_message"
    )
    account = models.ForeignKey(MailAccount, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    inbound_address = models.ForeignKey(
        InboundAddress, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # Whose personal mailbox or address it came through (empty: the workspace's); decides
    # who sees it while it is unmatched.
    mailbox_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("sent by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    message_id = models.CharField(_("Message-ID"), max_length=MESSAGE_ID_MAX, blank=True)
    in_reply_to = models.CharField(max_length=MESSAGE_ID_MAX, blank=True)
    references = models.TextField(blank=True)
    dedupe_key = models.CharField(max_length=64, unique=True, editable=False)
    from_name = models.CharField(_("from (name)"), max_length=200, blank=True)
    from_address = models.CharField(_("from"), max_length=ADDRESS_MAX, blank=True)
    reply_to = ArrayField(models.CharField(max_length=ADDRESS_MAX), default=list, blank=True)
    to_addresses = ArrayField(models.CharField(max_length=ADDRESS_MAX), verbose_name=_("to"), default=list)
    cc_addresses = ArrayField(models.CharField(max_length=ADDRESS_MAX), verbose_name=_("copy"), default=list)
    bcc_addresses = ArrayField(models.CharField(max_length=ADDRESS_MAX), verbose_name=_("blind copy"), default=list)
    subject = models.CharField(_("subject"), max_length=500, blank=True)
    text_body = models.TextField(_("text"), blank=True)
    # Sanitized (crm.mail.html): no scripts, handlers or forms; shown in a sandbox.
    html_body = models.TextField(blank=True)
    has_remote_images = models.BooleanField(default=False)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    received_at = models.DateTimeField(_("received"), null=True, blank=True)
    error = models.TextField(_("error"), blank=True)
    # What could not be read in a malformed message (shown with it).
    parse_notes = models.TextField(blank=True)
    raw_size = models.PositiveIntegerField(_("size (bytes)"), default=0)
    # The files as the timeline lists them ({id, name, size, stored, reason}), written
    # with the message (which never changes after) so a card's page reads no more rows.
    attachments_summary = models.JSONField(default=list, blank=True, editable=False)
    attempts = models.PositiveSmallIntegerField(default=0)
    tracking_token = models.CharField(max_length=32, unique=True, null=True, blank=True, editable=False)
    tracked_links = models.JSONField(default=list, blank=True, editable=False)
    open_count = models.PositiveIntegerField(_("opens"), default=0)
    click_count = models.PositiveIntegerField(_("clicks"), default=0)
    first_opened_at = models.DateTimeField(null=True, blank=True)
    # An unmatched message someone looked at and set aside ("not a client").
    dismissed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("email")
        verbose_name_plural = _("emails")
        indexes = [
            models.Index(fields=["message_id"], name="emailmessage_message_id"),
            models.Index(fields=["thread", "created_at"], name="emailmessage_thread"),
            models.Index(fields=["contact", "-created_at"], name="emailmessage_contact"),
            models.Index(fields=["company", "-created_at"], name="emailmessage_company"),
            models.Index(fields=["lead", "-created_at"], name="emailmessage_lead"),
            models.Index(fields=["deal", "-created_at"], name="emailmessage_deal"),
            models.Index(fields=["author", "-created_at"], name="emailmessage_author"),
            # The "Unmatched mail" inbox: received, linked to nothing, not set aside.
            models.Index(
                fields=["-created_at"],
                condition=Q(
                    direction="inbound",
                    lead__isnull=True,
                    contact__isnull=True,
                    company__isnull=True,
                    deal__isnull=True,
                    dismissed_at__isnull=True,
                ),
                name="emailmessage_unmatched",
            ),
            # Messages waiting for the send job (a sweep finds lost ones).
            models.Index(fields=["created_at"], condition=Q(status="queued"), name="emailmessage_queued"),
        ]

    def __str__(self) -> str:
        return self.subject or self.message_id

    @property
    def is_linked(self) -> bool:
        return any(getattr(self, f"{name}_id") for name in ("lead", "contact", "company", "deal"))


class EmailAttachment(Timestamped):
    """A file of a message, stored under the tenant's media folder like the cards'
    documents (crm.attachments) and counted toward the plan's storage. A file that could
    not be stored (too large, no room left) is still listed, with the reason."""

    message = models.ForeignKey(EmailMessage, on_delete=models.CASCADE, related_name="attachments")
    original_name = models.CharField(_("file name"), max_length=255)
    content_type = models.CharField(_("content type"), max_length=100)
    size_bytes = models.PositiveBigIntegerField(_("size (bytes)"))
    sha256 = models.CharField(max_length=64, blank=True)
    stored_name = models.CharField(max_length=200, unique=True, null=True, blank=True, editable=False)
    not_stored_reason = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["message", "id"]
        verbose_name = _("email attachment")
        verbose_name_plural = _("email attachments")

    def __str__(self) -> str:
        return self.original_name

    @property
    def stored(self) -> bool:
        return bool(self.stored_name)

"""Email over the API, through crm.mail.

- `/emails/`: messages the caller may see (filters: record, thread, direction, status,
  unmatched); POST sends one (addresses checked one by one, a template or a subject and
  text, files by the id of documents already attached to cards, a quote's PDF); 202
  with the message queued. `/emails/<id>/retry/` queues a failed one again;
  `/emails/<id>/files/<file_id>/` downloads a file.
- `/email-templates/`: everyone reads the templates, administrators change them;
  `/email-templates/<id>/render/` gives subject and text for a record.
- `/mail-accounts/`: administrators manage every mailbox, everyone else their own.
  Passwords are write-only: answers say `smtp_password_set` / `imap_password_set`.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from api.base import IDEMPOTENCY_HEADER, IF_MATCH_HEADER, ListRecordsMixin, RecordViewSet, RetrieveRecordMixin
from api.fields import MAX_ID, MemberField, PersonSerializer
from crm.attachments.models import RECORD_TYPES
from crm.attachments.selectors import attachment_get, attachment_open, record_get
from crm.catalog.selectors import quote_get
from crm.errors import RecordNotFound
from crm.mail.models import EmailDirection, EmailStatus, Security
from crm.mail.selectors import (
    email_attachment_get,
    email_get,
    email_list,
    email_template_get,
    email_template_list,
    mail_account_get,
    mail_account_list,
)
from crm.mail.services import (
    OutgoingFile,
    email_retry,
    email_send,
    email_template_create,
    email_template_delete,
    email_template_render,
    email_template_update,
    mail_account_delete,
    mail_account_save,
)

FILES_MAX = 20


class EmailFileSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(source="original_name", read_only=True)
    content_type = serializers.CharField(read_only=True)
    size_bytes = serializers.IntegerField(read_only=True)
    stored = serializers.BooleanField(read_only=True)
    not_stored_reason = serializers.CharField(read_only=True, help_text="Why the file was not kept, when it was not.")


class EmailSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    direction = serializers.ChoiceField(choices=EmailDirection.choices, read_only=True)
    status = serializers.ChoiceField(choices=EmailStatus.choices, read_only=True)
    thread_id = serializers.IntegerField(read_only=True)
    subject = serializers.CharField(read_only=True)
    from_name = serializers.CharField(read_only=True)
    from_address = serializers.CharField(read_only=True)
    to = serializers.ListField(source="to_addresses", child=serializers.CharField(), read_only=True)
    cc = serializers.ListField(source="cc_addresses", child=serializers.CharField(), read_only=True)
    bcc = serializers.ListField(source="bcc_addresses", child=serializers.CharField(), read_only=True)
    reply_to = serializers.ListField(child=serializers.CharField(), read_only=True)
    text = serializers.CharField(source="text_body", read_only=True)
    html = serializers.CharField(source="html_body", read_only=True, help_text="Sanitized; remote images not removed.")
    has_remote_images = serializers.BooleanField(read_only=True)
    message_id = serializers.CharField(read_only=True)
    in_reply_to = serializers.CharField(read_only=True)
    references = serializers.CharField(read_only=True)
    lead_id = serializers.IntegerField(read_only=True, allow_null=True)
    contact_id = serializers.IntegerField(read_only=True, allow_null=True)
    company_id = serializers.IntegerField(read_only=True, allow_null=True)
    deal_id = serializers.IntegerField(read_only=True, allow_null=True)
    activity_id = serializers.IntegerField(read_only=True, allow_null=True)
    author = PersonSerializer(read_only=True, allow_null=True)
    sent_at = serializers.DateTimeField(read_only=True, allow_null=True)
    received_at = serializers.DateTimeField(read_only=True, allow_null=True)
    error = serializers.CharField(read_only=True)
    notes = serializers.CharField(source="parse_notes", read_only=True, help_text="What could not be read.")
    size_bytes = serializers.IntegerField(source="raw_size", read_only=True)
    open_count = serializers.IntegerField(read_only=True)
    click_count = serializers.IntegerField(read_only=True)
    files = EmailFileSerializer(source="attachments.all", many=True, read_only=True)
    created_at = serializers.DateTimeField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)


class AddressesField(serializers.ListField):
    child = serializers.CharField(max_length=320)

    def __init__(self, **kwargs: Any):
        kwargs.setdefault("max_length", 50)
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)


class EmailSendInput(serializers.Serializer):
    to = AddressesField(required=True, min_length=1)
    cc = AddressesField()
    bcc = AddressesField()
    subject = serializers.CharField(required=False, allow_blank=True, max_length=2000)
    body = serializers.CharField(required=False, allow_blank=True, max_length=200_000, help_text="Plain text.")
    template = serializers.IntegerField(
        required=False, min_value=1, max_value=MAX_ID, help_text="Fills an empty subject or body."
    )
    record_type = serializers.ChoiceField(choices=RECORD_TYPES, required=False)
    record_id = serializers.IntegerField(required=False, min_value=1, max_value=MAX_ID)
    quote = serializers.IntegerField(required=False, min_value=1, max_value=MAX_ID, help_text="Attach its PDF.")
    reply_to = serializers.IntegerField(
        required=False, min_value=1, max_value=MAX_ID, help_text="The id of the email this answers."
    )
    attachment_ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_ID),
        required=False,
        max_length=FILES_MAX,
        help_text="Documents already attached to cards (/attachments/), sent as files.",
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        actor = self.context["request"].user
        errors: dict[str, list[str]] = {}
        if ("record_type" in attrs) != ("record_id" in attrs):
            errors["record_id"] = [_("Give both record_type and record_id, or neither.")]
        elif "record_type" in attrs:
            try:
                attrs["record"] = record_get(
                    actor=actor, record_type=attrs["record_type"], record_id=attrs["record_id"]
                )
            except RecordNotFound:
                errors["record_id"] = [_("No record with this id exists, or you cannot see it.")]
        lookups = (
            ("quote", lambda pk: quote_get(actor=actor, quote_id=pk)),
            ("reply_to", lambda pk: email_get(actor=actor, message_id=pk)),
            ("template", lambda pk: email_template_get(actor=actor, template_id=pk)),
        )
        for name, getter in lookups:
            if name in attrs:
                try:
                    attrs[name] = getter(attrs[name])
                except RecordNotFound:
                    errors[name] = [_("No record with this id exists, or you cannot see it.")]
        files = []
        for pk in attrs.get("attachment_ids", []):
            try:
                document = attachment_get(actor=actor, attachment_id=pk)
            except RecordNotFound:
                errors.setdefault("attachment_ids", []).append(
                    _("No attachment with the id %(id)s exists, or you cannot see it.") % {"id": pk}
                )
                continue
            files.append(document)
        attrs["documents"] = files
        if errors:
            raise serializers.ValidationError(errors)
        return attrs


class EmailFilter(serializers.Serializer):
    record_type = serializers.ChoiceField(choices=RECORD_TYPES, required=False)
    record_id = serializers.IntegerField(required=False, min_value=1, max_value=MAX_ID, help_text="Needs record_type.")
    thread = serializers.IntegerField(required=False, min_value=1, max_value=MAX_ID)
    direction = serializers.ChoiceField(choices=EmailDirection.choices, required=False)
    status = serializers.ChoiceField(choices=EmailStatus.choices, required=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if "record_id" in attrs and "record_type" not in attrs:
            raise serializers.ValidationError({"record_type": [_("Say which kind of record the id is of.")]})
        if "thread" in attrs:
            attrs["thread_id"] = attrs.pop("thread")
        return attrs


@extend_schema_view(
    list=extend_schema(summary="List emails (of one record, one thread...)", parameters=[EmailFilter]),
    retrieve=extend_schema(summary="Get one email"),
    create=extend_schema(
        summary="Send an email",
        description=(
            "Queued at once and sent in the background (status `queued`, then `sent` or `failed` with the "
            "server's answer in `error`). From the caller's own mailbox, else the workspace's, else the "
            "platform's sender with replies to the caller and to the workspace's inbound address. Refused "
            "with validation_error for invalid addresses (each named), an empty email, files too large; "
            "with plan_limit_reached (403) when the files do not fit in the plan's storage."
        ),
        request=EmailSendInput,
        parameters=[IDEMPOTENCY_HEADER],
        responses={202: EmailSerializer},
    ),
    retry=extend_schema(summary="Send a failed email again", request=None, responses={202: EmailSerializer}),
    download=extend_schema(
        summary="Download a file of an email",
        responses={(200, "*/*"): OpenApiResponse(OpenApiTypes.BINARY, description="The bytes, as an attachment.")},
    ),
)
class EmailViewSet(ListRecordsMixin, RetrieveRecordMixin, RecordViewSet):
    serializer_class = EmailSerializer
    filter_serializer = EmailFilter

    def records(self, actor, query):
        return email_list(actor=actor, **query).prefetch_related("attachments")

    def record(self, actor, pk):
        return email_get(actor=actor, message_id=pk)

    def create(self, request, *args, **kwargs) -> Response:
        data = self.validated(EmailSendInput)
        files = []
        for document in data["documents"]:
            with attachment_open(attachment=document) as stored:
                files.append(
                    OutgoingFile(name=document.original_name, data=stored.read(), content_type=document.content_type)
                )
        message = email_send(
            actor=request.user,
            to=data["to"],
            cc=data.get("cc", []),
            bcc=data.get("bcc", []),
            subject=data.get("subject", ""),
            body=data.get("body", ""),
            record=data.get("record"),
            quote=data.get("quote"),
            reply_to_message=data.get("reply_to"),
            template=data.get("template"),
            files=files,
        )
        return self.respond(message, status_code=status.HTTP_202_ACCEPTED)

    @action(detail=True, methods=["post"])
    def retry(self, request, pk=None):
        message = email_retry(actor=request.user, message=self.get_object())
        return self.respond(message, status_code=status.HTTP_202_ACCEPTED)

    def perform_content_negotiation(self, request, force=False):
        return super().perform_content_negotiation(request, force=force or self.action == "download")

    @action(detail=True, methods=["get"], url_path=r"files/(?P<file_id>[0-9]{1,18})")
    def download(self, request, pk=None, file_id=None):
        message = self.get_object()
        try:
            attachment = email_attachment_get(actor=request.user, attachment_id=int(file_id))
        except RecordNotFound as missing:
            raise Http404 from missing
        if attachment.message_id != message.pk or not attachment.stored_name:
            raise Http404
        try:
            stored = default_storage.open(attachment.stored_name, "rb")
        except FileNotFoundError as lost:
            raise Http404 from lost
        response = FileResponse(
            stored, as_attachment=True, filename=attachment.original_name, content_type=attachment.content_type
        )
        response["X-Content-Type-Options"] = "nosniff"
        response["Content-Security-Policy"] = "sandbox; default-src 'none'"
        return response


# --- templates ------------------------------------------------------------------------


class EmailTemplateSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(read_only=True)
    language = serializers.CharField(read_only=True, help_text="'' for any language.")
    subject = serializers.CharField(read_only=True)
    body = serializers.CharField(read_only=True)
    is_active = serializers.BooleanField(read_only=True)
    created_at = serializers.DateTimeField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)


class EmailTemplateInput(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    language = serializers.CharField(max_length=8, required=False, allow_blank=True)
    subject = serializers.CharField(max_length=2000, required=False, allow_blank=True)
    body = serializers.CharField(max_length=100_000, allow_blank=True)
    is_active = serializers.BooleanField(required=False, default=True)


class TemplateRenderInput(serializers.Serializer):
    record_type = serializers.ChoiceField(choices=RECORD_TYPES, required=False)
    record_id = serializers.IntegerField(required=False, min_value=1, max_value=MAX_ID)


class RenderedSerializer(serializers.Serializer):
    subject = serializers.CharField()
    body = serializers.CharField()


class EmailTemplateFilter(serializers.Serializer):
    active = serializers.BooleanField(required=False, allow_null=True, default=None)


@extend_schema_view(
    list=extend_schema(summary="List email templates", parameters=[EmailTemplateFilter]),
    retrieve=extend_schema(summary="Get one email template"),
    create=extend_schema(
        summary="Add an email template (administrators)",
        description="Syntax errors and unknown variables are validation errors on subject or body.",
        request=EmailTemplateInput,
        parameters=[IDEMPOTENCY_HEADER],
        responses={201: EmailTemplateSerializer},
    ),
    partial_update=extend_schema(
        summary="Change an email template", request=EmailTemplateInput, parameters=[IF_MATCH_HEADER]
    ),
    destroy=extend_schema(summary="Delete an email template", parameters=[IF_MATCH_HEADER], responses={204: None}),
    render=extend_schema(
        summary="The template's subject and text for a record (or a sample contact)",
        request=TemplateRenderInput,
        responses={200: RenderedSerializer},
    ),
)
class EmailTemplateViewSet(ListRecordsMixin, RetrieveRecordMixin, RecordViewSet):
    serializer_class = EmailTemplateSerializer
    filter_serializer = EmailTemplateFilter

    def records(self, actor, query):
        return email_template_list(actor=actor, **query)

    def record(self, actor, pk):
        return email_template_get(actor=actor, template_id=pk)

    def create(self, request, *args, **kwargs) -> Response:
        data = self.validated(EmailTemplateInput)
        template = email_template_create(actor=request.user, **data)
        return self.respond(template, status_code=status.HTTP_201_CREATED)

    def partial_update(self, request, *args, **kwargs) -> Response:
        template = self.get_object()
        data = self.validated(EmailTemplateInput, partial=True)
        values = {
            name: data.get(name, getattr(template, name))
            for name in ("name", "language", "subject", "body", "is_active")
        }
        with self.edit_guard(template):
            template = email_template_update(actor=request.user, template=template, **values)
        return self.respond(template)

    def destroy(self, request, *args, **kwargs) -> Response:
        template = self.get_object()
        with self.edit_guard(template):
            email_template_delete(actor=request.user, template=template)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @action(detail=True, methods=["post"])
    def render(self, request, pk=None):
        template = self.get_object()
        data = self.validated(TemplateRenderInput)
        record = None
        if ("record_type" in data) != ("record_id" in data):
            raise serializers.ValidationError({"record_id": [_("Give both record_type and record_id, or neither.")]})
        if "record_type" in data:
            try:
                record = record_get(actor=request.user, record_type=data["record_type"], record_id=data["record_id"])
            except RecordNotFound as missing:
                raise serializers.ValidationError(
                    {"record_id": [_("No record with this id exists, or you cannot see it.")]}
                ) from missing
        try:
            subject, body = email_template_render(
                actor=request.user, template=template, record=record, sample=record is None
            )
        except DjangoValidationError:
            raise
        return Response({"subject": subject, "body": body})


# --- mailboxes ------------------------------------------------------------------------


class MailAccountSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    owner = PersonSerializer(read_only=True, allow_null=True, help_text="null: the workspace's shared mailbox.")
    from_name = serializers.CharField(read_only=True)
    from_address = serializers.CharField(read_only=True)
    smtp_host = serializers.CharField(read_only=True)
    smtp_port = serializers.IntegerField(read_only=True)
    smtp_security = serializers.ChoiceField(choices=Security.choices, read_only=True)
    smtp_username = serializers.CharField(read_only=True)
    smtp_password_set = serializers.SerializerMethodField()
    imap_host = serializers.CharField(read_only=True)
    imap_port = serializers.IntegerField(read_only=True)
    imap_security = serializers.ChoiceField(choices=Security.choices, read_only=True)
    imap_username = serializers.CharField(read_only=True)
    imap_password_set = serializers.SerializerMethodField()
    imap_folder = serializers.CharField(read_only=True)
    is_active = serializers.BooleanField(read_only=True)
    last_sync_at = serializers.DateTimeField(read_only=True, allow_null=True)
    last_error = serializers.CharField(read_only=True)
    last_error_at = serializers.DateTimeField(read_only=True, allow_null=True)
    created_at = serializers.DateTimeField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)

    def get_smtp_password_set(self, account) -> bool:
        return bool(account.smtp_password_sealed)

    def get_imap_password_set(self, account) -> bool:
        return bool(account.imap_password_sealed)


class MailAccountInput(serializers.Serializer):
    owner = MemberField(required=False, help_text="A person's id; null or absent: the workspace's mailbox.")
    from_name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    from_address = serializers.CharField(max_length=254)
    smtp_host = serializers.CharField(max_length=253, required=False, allow_blank=True)
    smtp_port = serializers.IntegerField(min_value=1, max_value=65535, required=False, default=587)
    smtp_security = serializers.ChoiceField(choices=Security.choices, required=False, default=Security.STARTTLS)
    smtp_username = serializers.CharField(max_length=254, required=False, allow_blank=True)
    smtp_password = serializers.CharField(
        max_length=500, required=False, allow_blank=True, write_only=True, help_text="Write-only; '' removes it."
    )
    imap_host = serializers.CharField(max_length=253, required=False, allow_blank=True)
    imap_port = serializers.IntegerField(min_value=1, max_value=65535, required=False, default=993)
    imap_security = serializers.ChoiceField(choices=Security.choices, required=False, default=Security.SSL)
    imap_username = serializers.CharField(max_length=254, required=False, allow_blank=True)
    imap_password = serializers.CharField(
        max_length=500, required=False, allow_blank=True, write_only=True, help_text="Write-only; '' removes it."
    )
    imap_folder = serializers.CharField(max_length=200, required=False, default="INBOX")
    is_active = serializers.BooleanField(required=False, default=True)


ACCOUNT_VALUES = (
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


@extend_schema_view(
    list=extend_schema(summary="List mailboxes (administrators: all; others: their own)"),
    retrieve=extend_schema(summary="Get one mailbox"),
    create=extend_schema(
        summary="Connect a mailbox (SMTP to send, IMAP to read)",
        request=MailAccountInput,
        parameters=[IDEMPOTENCY_HEADER],
        responses={201: MailAccountSerializer},
    ),
    partial_update=extend_schema(
        summary="Change a mailbox (absent passwords are kept)", request=MailAccountInput, parameters=[IF_MATCH_HEADER]
    ),
    destroy=extend_schema(summary="Disconnect a mailbox", parameters=[IF_MATCH_HEADER], responses={204: None}),
)
class MailAccountViewSet(ListRecordsMixin, RetrieveRecordMixin, RecordViewSet):
    serializer_class = MailAccountSerializer

    def records(self, actor, query):
        return mail_account_list(actor=actor)

    def record(self, actor, pk):
        return mail_account_get(actor=actor, account_id=pk)

    def create(self, request, *args, **kwargs) -> Response:
        data = self.validated(MailAccountInput)
        owner = data.pop("owner", None)
        account = mail_account_save(actor=request.user, owner=owner, **data)
        return self.respond(account, status_code=status.HTTP_201_CREATED)

    def partial_update(self, request, *args, **kwargs) -> Response:
        account = self.get_object()
        data = self.validated(MailAccountInput, partial=True)
        values = {name: data.get(name, getattr(account, name)) for name in ACCOUNT_VALUES}
        with self.edit_guard(account):
            account = mail_account_save(
                actor=request.user,
                owner=account.owner,
                account=account,
                smtp_password=data.get("smtp_password"),
                imap_password=data.get("imap_password"),
                **values,
            )
        return self.respond(account)

    def destroy(self, request, *args, **kwargs) -> Response:
        account = self.get_object()
        with self.edit_guard(account):
            mail_account_delete(actor=request.user, account=account)
        return Response(status=status.HTTP_204_NO_CONTENT)

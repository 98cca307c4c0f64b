"""The mail pages of the web UI: compose (from a card, a quote or as a reply), a message
with its conversation, the "Unmatched mail" inbox and one's own mailbox.

Thin views over crm.mail.services and selectors: another workspace's or an invisible
message, record or file is a 404; refusals of the services are shown on the form's
fields and nothing is sent.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Model
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_POST

from crm.attachments.selectors import attachment_list_for, attachment_open, record_get
from crm.attachments.views import CARD_URLS
from crm.cards import errors_onto
from crm.catalog.selectors import quote_get
from crm.errors import DomainError, RecordNotFound
from crm.mail.forms import ComposeForm, MailAccountForm
from crm.mail.models import EmailDirection, EmailMessage, EmailStatus
from crm.mail.selectors import (
    email_attachment_get,
    email_get,
    email_template_get,
    email_template_list,
    inbound_address_of,
    mail_account_of,
    thread_messages,
    unmatched_list,
)
from crm.mail.services import (
    OutgoingFile,
    email_contact_create,
    email_dismiss,
    email_lead_create,
    email_retry,
    email_send,
    email_template_render,
    inbound_address_get_or_create,
    inbound_address_rotate,
    inbound_address_text,
    mail_account_delete,
    mail_account_save,
    mail_account_test,
    sender_for,
)

RECORD_TYPES = ("lead", "contact", "company", "deal")
DOCUMENTS_SHOWN = 50
INBOX_PAGE = 50


def _or_404(call, *args, **kwargs):
    try:
        return call(*args, **kwargs)
    except RecordNotFound as missing:
        raise Http404(missing.message) from missing


def record_type_of(record: Model | None) -> str:
    return record._meta.model_name if record is not None else ""


def card_url(record: Model | None) -> str:
    if record is None:
        return ""
    return reverse(CARD_URLS[record_type_of(record)], args=[record.pk])


def record_addresses(record: Model | None) -> list[str]:
    """Where an email about `record` goes by default: its (first) addresses."""
    if record is None:
        return []
    kind = record_type_of(record)
    if kind in ("contact", "company"):
        return list(record.emails[:1])
    if kind == "lead":
        return [record.email] if record.email else []
    if kind == "deal" and record.contact_id:
        return list(record.contact.emails[:1])
    return []


def _linked_record(actor, message: EmailMessage) -> Model | None:
    """The card a message belongs to, if the actor can see it."""
    for name in ("deal", "contact", "lead", "company"):
        pk = getattr(message, f"{name}_id")
        if pk:
            try:
                return record_get(actor=actor, record_type=name, record_id=pk)
            except RecordNotFound:
                continue
    return None


def _quoted(message: EmailMessage) -> str:
    when = timezone.localtime(message.sent_at or message.received_at or message.created_at)
    head = _("On %(when)s, %(who)s wrote:") % {
        "when": when.strftime("%Y-%m-%d %H:%M"),
        "who": message.from_name or message.from_address,
    }
    quoted = "\n".join(f"> {line}" for line in (message.text_body or "").splitlines()[:200])
    return f"\n\n{head}\n{quoted}"


def _reply_initial(message: EmailMessage) -> dict[str, Any]:
    if message.direction == EmailDirection.INBOUND:
        to = message.reply_to or [message.from_address]
    else:
        to = message.to_addresses
    subject = message.subject if message.subject.lower().startswith("re:") else f"Re: {message.subject}"
    return {"to": ", ".join(to), "subject": subject, "body": _quoted(message)}


def _template_choices() -> list[tuple[str, str]]:
    names = dict(settings.LANGUAGES)
    return [
        (str(template.pk), f"{template.name} · {names[template.language]}" if template.language else template.name)
        for template in email_template_list(actor=None, active=True)
    ]


def _compose(
    request: HttpRequest, *, record: Model | None, quote=None, reply_to: EmailMessage | None = None
) -> HttpResponse:
    actor = request.user
    documents = []
    if record is not None:
        documents = [
            (str(item.pk), item.original_name)
            for item in attachment_list_for(actor=actor, record=record)[:DOCUMENTS_SHOWN]
        ]
    kwargs = {"templates": _template_choices(), "documents": documents}
    if request.method == "POST":
        form = ComposeForm(request.POST, request.FILES, **kwargs)
        if form.is_valid() and request.POST.get("action") == "template":
            form = _with_template(request, form, record=record or (quote.contact if quote else None), kwargs=kwargs)
        elif form.is_valid():
            sent = _send(request, form, record=record, quote=quote, reply_to=reply_to)
            if sent is not None:
                messages.success(request, _("Email to %(to)s is on its way.") % {"to": ", ".join(sent.to_addresses)})
                back = card_url(record) or reverse("mail:message", args=[sent.pk])
                return redirect(f"{back}#timeline-title" if record is not None else back)
    else:
        initial: dict[str, Any] = {"to": ", ".join(record_addresses(record or (quote.contact if quote else None)))}
        if reply_to is not None:
            initial.update(_reply_initial(reply_to))
        if quote is not None:
            initial["subject"] = _("Proposal %(number)s: %(title)s") % {"number": quote.number, "title": quote.title}
        form = ComposeForm(initial=initial, **kwargs)
        if request.GET.get("template", "").isdigit():
            form = _with_template(request, form, record=record, kwargs=kwargs, template_id=int(request.GET["template"]))
    sender = sender_for(actor=actor)
    context = {
        "form": form,
        "record": record,
        "record_url": card_url(record),
        "quote": quote,
        "reply_to": reply_to,
        "sender": sender,
        "max_mb": f"{settings.ATTACHMENT_MAX_BYTES / (1024 * 1024):g}",
    }
    return render(request, "mail/compose.html", context, status=400 if form.errors else 200)


def _with_template(request, form, *, record, kwargs, template_id: int | None = None) -> ComposeForm:
    """The form again with the chosen template rendered into subject and text."""
    data = form.cleaned_data if form.is_bound else {}
    chosen = template_id or (int(data["template"]) if str(data.get("template", "")).isdigit() else None)
    values = {
        name: (data.get(name) if form.is_bound else form.initial.get(name, "")) or ""
        for name in ("to", "cc", "bcc", "subject", "body")
    }
    problem = ""
    if chosen is None:
        problem = _("Choose a template first.")
    else:
        try:
            template = email_template_get(actor=request.user, template_id=chosen)
            values["subject"], values["body"] = email_template_render(
                actor=request.user, template=template, record=record
            )
        except RecordNotFound:
            problem = _("This template does not exist.")
        except ValidationError as error:
            problem = " ".join(error.messages)
    fresh = ComposeForm(initial={**values, "template": str(chosen or "")}, **kwargs)
    if problem:
        fresh = ComposeForm({**values, "template": ""}, **kwargs)
        fresh.is_valid()
        fresh.add_error("template", problem)
    return fresh


def _send(request, form: ComposeForm, *, record, quote, reply_to) -> EmailMessage | None:
    data = form.cleaned_data
    files = []
    total = 0
    for upload in data.get("attachments") or []:
        total += upload.size or 0
        if upload.size > settings.ATTACHMENT_MAX_BYTES or total > settings.MAIL_MESSAGE_MAX_BYTES:
            form.add_error(
                "attachments",
                _("“%(name)s” is too large: files of up to %(size)s MB can be attached.")
                % {"name": upload.name, "size": f"{settings.ATTACHMENT_MAX_BYTES / (1024 * 1024):g}"},
            )
            return None
        files.append(OutgoingFile(name=upload.name, data=upload.read()))
    if record is not None:
        chosen = {int(pk) for pk in data.get("documents") or []}
        for document in attachment_list_for(actor=request.user, record=record).filter(pk__in=chosen):
            with attachment_open(attachment=document) as stored:
                files.append(
                    OutgoingFile(name=document.original_name, data=stored.read(), content_type=document.content_type)
                )
    template = None
    if str(data.get("template", "")).isdigit():
        template = email_template_list(actor=request.user, active=True).filter(pk=int(data["template"])).first()
    try:
        return email_send(
            actor=request.user,
            to=data["to"],
            cc=data["cc"],
            bcc=data["bcc"],
            subject=data["subject"],
            body=data["body"],
            record=record,
            quote=quote,
            reply_to_message=reply_to,
            template=template,
            files=files,
        )
    except (ValidationError, DomainError) as error:
        errors_onto(form, error)
        return None


@login_required
def compose_view(request: HttpRequest, record_type: str, record_id: int) -> HttpResponse:
    if record_type not in RECORD_TYPES:
        raise Http404
    record = _or_404(record_get, actor=request.user, record_type=record_type, record_id=record_id)
    return _compose(request, record=record)


@login_required
def compose_quote_view(request: HttpRequest, quote_id: int) -> HttpResponse:
    quote = _or_404(quote_get, actor=request.user, quote_id=quote_id)
    return _compose(request, record=None, quote=quote)


@login_required
def reply_view(request: HttpRequest, pk: int) -> HttpResponse:
    parent = _or_404(email_get, actor=request.user, message_id=pk)
    return _compose(request, record=_linked_record(request.user, parent), reply_to=parent)


# --- reading ------------------------------------------------------------------------


@login_required
def message_view(request: HttpRequest, pk: int) -> HttpResponse:
    message = _or_404(email_get, actor=request.user, message_id=pk)
    context = {
        "message": message,
        "record": _linked_record(request.user, message),
        "thread": thread_messages(actor=request.user, message=message),
        "attachments": list(message.attachments.all()),
        "show_images": request.GET.get("images") == "1",
        "unmatched": message.direction == EmailDirection.INBOUND and not message.is_linked,
        "may_retry": message.status == EmailStatus.FAILED,
    }
    context["record_url"] = card_url(context["record"])
    return render(request, "mail/message.html", context)


@login_required
@xframe_options_sameorigin
def body_view(request: HttpRequest, pk: int) -> HttpResponse:
    """The message's sanitized HTML, for the iframe of its page: no script runs (CSP
    sandbox), no remote image loads unless `?images=1`."""
    message = _or_404(email_get, actor=request.user, message_id=pk)
    images = "data: cid: https: http:" if request.GET.get("images") == "1" else "data: cid:"
    document = (
        '<!DOCTYPE html><html><head><meta charset="utf-8"><base target="_blank">'
        "<style>body{font-family:system-ui,sans-serif;margin:.5rem;overflow-wrap:anywhere}img{max-width:100%}</style>"
        f'</head><body dir="auto">{message.html_body}</body></html>'
    )
    response = HttpResponse(document, content_type="text/html; charset=utf-8")
    response["Content-Security-Policy"] = (
        f"default-src 'none'; img-src {images}; style-src 'unsafe-inline'; font-src data:; "
        "sandbox allow-popups allow-popups-to-escape-sandbox"
    )
    response["Referrer-Policy"] = "no-referrer"
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@login_required
def attachment_download(request: HttpRequest, pk: int) -> HttpResponse:
    from django.core.files.storage import default_storage

    attachment = _or_404(email_attachment_get, actor=request.user, attachment_id=pk)
    if not attachment.stored_name:
        raise Http404(attachment.not_stored_reason or _("This file was not stored."))
    try:
        stored = default_storage.open(attachment.stored_name, "rb")
    except FileNotFoundError as lost:
        raise Http404(_("The file of this attachment is missing.")) from lost
    response = FileResponse(
        stored, as_attachment=True, filename=attachment.original_name, content_type=attachment.content_type
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "sandbox; default-src 'none'"
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@require_POST
def retry_view(request: HttpRequest, pk: int) -> HttpResponse:
    message = _or_404(email_get, actor=request.user, message_id=pk)
    try:
        email_retry(actor=request.user, message=message)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("The email is queued again."))
    return redirect("mail:message", pk=message.pk)


# --- unmatched mail -----------------------------------------------------------------


@login_required
def inbox_view(request: HttpRequest) -> HttpResponse:
    paginator = Paginator(unmatched_list(actor=request.user), INBOX_PAGE)
    page = paginator.get_page(request.GET.get("page"))
    return render(request, "mail/inbox.html", {"page": page, "messages_page": list(page.object_list)})


@login_required
@require_POST
def triage_view(request: HttpRequest, pk: int, outcome: str) -> HttpResponse:
    message = _or_404(email_get, actor=request.user, message_id=pk)
    try:
        if outcome == "lead":
            record = email_lead_create(actor=request.user, message=message)
            messages.success(request, _("Lead “%(name)s” created from the email.") % {"name": record.name})
            return redirect("leads:detail", pk=record.pk)
        if outcome == "contact":
            record = email_contact_create(actor=request.user, message=message)
            messages.success(request, _("Contact “%(name)s” created from the email.") % {"name": record.full_name})
            return redirect("contacts:detail", pk=record.pk)
        if outcome == "dismiss":
            email_dismiss(actor=request.user, message=message)
            messages.success(request, _("Email set aside."))
            return redirect("mail:inbox")
    except (ValidationError, DomainError) as error:
        for text in error.messages if isinstance(error, ValidationError) else [error.message]:
            messages.error(request, text)
        return redirect("mail:message", pk=message.pk)
    raise Http404


# --- one's own mailbox --------------------------------------------------------------


def _account_initial(account) -> dict[str, Any]:
    if account is None:
        return {}
    return {
        name: getattr(account, name)
        for name in (
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
    }


def mailbox_form_handle(request: HttpRequest, *, owner, bound: bool) -> tuple[MailAccountForm, Any, bool]:
    """(form, account, saved) for the mailbox of `owner` (None: the workspace's); the
    form takes the request's data when `bound`, and saves through the service."""
    account = mail_account_of(owner=owner)
    initial = _account_initial(account) or {"from_address": owner.email if owner is not None else "", "is_active": True}
    form = MailAccountForm(request.POST if bound else None, initial=initial, account=account)
    saved = False
    if bound and form.is_valid():
        try:
            account = mail_account_save(actor=request.user, owner=owner, account=account, **form.service_arguments())
        except (ValidationError, DomainError) as error:
            errors_onto(form, error)
        else:
            saved = True
    return form, account, saved


@login_required
def mailbox_view(request: HttpRequest) -> HttpResponse:
    """Connect one's own mailbox (send as oneself, read one's replies) and one's own
    inbound address."""
    owner = request.user
    action = request.POST.get("action", "save") if request.method == "POST" else ""
    account = mail_account_of(owner=owner)
    check = None
    if action == "test" and account is not None:
        check = mail_account_test(actor=request.user, account=account)
    elif action == "delete" and account is not None:
        mail_account_delete(actor=request.user, account=account)
        messages.success(request, _("Your mailbox is disconnected. Its mail stays in the CRM."))
        return redirect("mail:mailbox")
    elif action == "rotate":
        inbound_address_rotate(actor=request.user, owner=owner)
        messages.success(request, _("Your inbound address changed; the old one no longer works."))
        return redirect("mail:mailbox")
    form, account, saved = mailbox_form_handle(request, owner=owner, bound=action == "save")
    if saved:
        messages.success(request, _("Mailbox saved. Use “Test connection” to check it."))
        return redirect("mail:mailbox")
    address = inbound_address_get_or_create(owner=owner)
    context = {
        "form": form,
        "account": account,
        "check": check,
        "inbound_address": inbound_address_text(address),
        "has_inbound": inbound_address_of(owner=owner) is not None,
    }
    return render(request, "mail/mailbox.html", context, status=400 if form.errors else 200)

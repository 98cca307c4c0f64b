"""The "Attachments" section of the client cards: upload, download, delete.

Plain forms that work without JavaScript (redirect back to the card with a message);
with HTMX the section is swapped in place and a refusal shows on the file field.
Downloads are streamed by `attachment_download` after the selector checked that the
person can see the record: files are never reachable through a public media URL.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Model
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from accounts.models import User
from crm.attachments.models import Attachment
from crm.attachments.selectors import (
    attachment_get,
    attachment_list_for,
    attachment_open,
    record_get,
    record_may,
    record_type_of,
)
from crm.attachments.services import attachment_delete, attachment_upload
from crm.errors import DomainError, RecordNotFound

CARD_URLS = {
    "lead": "leads:detail",
    "contact": "contacts:detail",
    "company": "companies:detail",
    "deal": "deals:detail",
}
SHOWN = 100


class UploadForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("File"), allow_empty_file=True)


def attachment_section(*, actor: User, record: Model, form: UploadForm | None = None) -> dict[str, Any]:
    """What templates/attachments/_section.html needs for one record's card."""
    may_upload = record_may(actor=actor, record=record, action="edit")
    may_delete_any = record_may(actor=actor, record=record, action="delete")
    attachments = list(attachment_list_for(actor=actor, record=record)[:SHOWN])
    for attachment in attachments:
        attachment.may_delete = may_delete_any or (may_upload and attachment.uploaded_by_id == actor.pk)
    return {
        "attachments": attachments,
        "attachment_form": form or UploadForm(),
        "may_upload": may_upload,
        "upload_url": reverse("attachments:upload", args=[record_type_of(record), record.pk]),
    }


def _card_url(record: Model) -> str:
    return reverse(CARD_URLS[record_type_of(record)], args=[record.pk])


def _section(
    request: HttpRequest,
    record: Model,
    *,
    form: UploadForm | None = None,
    done: str = "",
    refused: str = "",
    status: int = 200,
) -> HttpResponse:
    context = {
        "record": record,
        "done": done,
        "refused": refused,
        **attachment_section(actor=request.user, record=record, form=form),
    }
    return render(request, "attachments/_section.html", context, status=status)


def _record_or_404(request: HttpRequest, record_type: str, record_id: int) -> Model:
    try:
        return record_get(actor=request.user, record_type=record_type, record_id=record_id)
    except RecordNotFound as missing:
        raise Http404(missing.message) from missing


@login_required
@require_POST
def attachment_upload_view(request: HttpRequest, record_type: str, record_id: int) -> HttpResponse:
    record = _record_or_404(request, record_type, record_id)
    form = UploadForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            attachment_upload(actor=request.user, record=record, file=form.cleaned_data["file"])
        except RecordNotFound as missing:
            raise Http404(missing.message) from missing
        except ValidationError as error:
            for message in error.message_dict.get("file", error.messages):
                form.add_error("file", message)
        except DomainError as error:
            form.add_error("file", error.message)
        else:
            done = _("File attached.")
            if request.htmx:
                return _section(request, record, done=done)
            messages.success(request, done)
            return redirect(_card_url(record))
    if request.htmx:
        return _section(request, record, form=form, status=400)
    for errors in form.errors.values():
        for message in errors:
            messages.error(request, message)
    return redirect(_card_url(record))


def _attachment_or_404(request: HttpRequest, pk: int) -> Attachment:
    try:
        return attachment_get(actor=request.user, attachment_id=pk)
    except RecordNotFound as missing:
        raise Http404(missing.message) from missing


def download_response(attachment: Attachment) -> FileResponse:
    """The stored bytes of an attachment the caller got from a selector, as a download
    that is never rendered on our origin, whatever it contains: Content-Disposition
    attachment, no type sniffing, a sandbox if a browser displays it anyway."""
    try:
        stored = attachment_open(attachment=attachment)
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
def attachment_download(request: HttpRequest, pk: int) -> HttpResponse:
    return download_response(_attachment_or_404(request, pk))


@login_required
@require_POST
def attachment_delete_view(request: HttpRequest, pk: int) -> HttpResponse:
    attachment = _attachment_or_404(request, pk)
    record = getattr(attachment, attachment.record_type)
    try:
        attachment_delete(actor=request.user, attachment=attachment)
    except RecordNotFound as missing:
        raise Http404(missing.message) from missing
    except DomainError as error:
        if request.htmx:
            return _section(request, record, refused=error.message, status=403)
        messages.error(request, error.message)
        return redirect(_card_url(record))
    done = _("“%(name)s” deleted.") % {"name": attachment.original_name}
    if request.htmx:
        return _section(request, record, done=done)
    messages.success(request, done)
    return redirect(_card_url(record))

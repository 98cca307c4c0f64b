"""Addresses of a workspace's host that mail servers and mail readers reach without
signing in: the inbound webhook and the (optional) open and click counters.

The inbound webhook takes one raw RFC 822 message, as the "raw MIME" routes of Mailgun,
Postmark or SES deliver it: the request body itself, or a multipart form with the file
(or field) `message` or `body-mime`. Its token is the secret; a token unknown to this
workspace (another workspace's included) is a 404. Above MAIL_INBOUND_MAX_BYTES the
answer is 413, read no further. Answers are JSON: 201 stored, 200 already stored.
"""

from __future__ import annotations

import base64

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from crm.mail.selectors import inbound_address_by_token
from crm.mail.services import email_clicked, email_opened, email_receive

PIXEL = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")
CHUNK = 64 * 1024


def _error(status: int, code: str, detail: str) -> JsonResponse:
    return JsonResponse({"detail": detail, "code": code}, status=status)


def _too_large() -> JsonResponse:
    limit = f"{settings.MAIL_INBOUND_MAX_BYTES / (1024 * 1024):g}"
    return _error(
        413, "too_large", _("This message is larger than %(size)s MB, the most this address takes.") % {"size": limit}
    )


def _raw_body(request: HttpRequest, limit: int) -> bytes | None:
    """The request body, read in chunks; None as soon as it passes `limit`."""
    chunks, size = [], 0
    while True:
        chunk = request.read(CHUNK)
        if not chunk:
            return b"".join(chunks)
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)


def _from_form(request: HttpRequest) -> bytes:
    for name in ("message", "body-mime"):
        upload = request.FILES.get(name)
        if upload is not None:
            return upload.read(settings.MAIL_INBOUND_MAX_BYTES + 1)
        value = request.POST.get(name)
        if value:
            return value.encode("utf-8", errors="surrogateescape")
    return b""


@csrf_exempt
@require_POST
def inbound_view(request: HttpRequest, token: str) -> HttpResponse:
    address = inbound_address_by_token(token)
    if address is None:
        return _error(404, "not_found", _("No inbound address with this token exists here."))
    limit = settings.MAIL_INBOUND_MAX_BYTES
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    # Multipart bodies carry some framing around the message: allow for it.
    if declared > limit + CHUNK:
        return _too_large()
    if (request.content_type or "").startswith("multipart/"):
        try:
            raw = _from_form(request)
        except RequestDataTooBig:
            return _too_large()
    else:
        raw = _raw_body(request, limit)
        if raw is None:
            return _too_large()
    if len(raw) > limit:
        return _too_large()
    if not raw.strip():
        return _error(400, "empty", _("The request carried no message: post the raw message (RFC 822) as the body."))
    message = email_receive(raw=raw, inbound_address=address)
    if message is None:
        return JsonResponse({"status": "duplicate"}, status=200)
    return JsonResponse(
        {"status": "stored", "id": message.pk, "linked": message.is_linked, "notes": message.parse_notes}, status=201
    )


@require_GET
def open_pixel_view(request: HttpRequest, token: str) -> HttpResponse:
    if not email_opened(token=token):
        raise Http404
    response = HttpResponse(PIXEL, content_type="image/gif")
    response["Cache-Control"] = "no-store, private"
    return response


@require_GET
def click_view(request: HttpRequest, token: str, index: int) -> HttpResponse:
    link = email_clicked(token=token, index=index)
    if link is None:
        raise Http404
    return HttpResponseRedirect(link)

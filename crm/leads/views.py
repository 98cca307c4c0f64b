"""Leads on the web: the public lead-capture endpoint `POST /forms/<key>/` with its
thank-you page, and the signed-in leads list (declared below, run by crm.list_pages).

Anyone may post (no login, no CSRF token: the form lives on the customer's site). The
view only speaks HTTP: it reads the body (form-encoded, multipart or JSON), answers
CORS, negotiates JSON or HTML, and maps the service's errors to answers. Every rule
(origins, rate limits, honeypot, validation, assignment) is in
`crm.leads.services.lead_capture_from_form`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from django import forms
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation, TooManyFieldsSent, ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.shortcuts import render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.csrf import csrf_exempt

from crm.errors import AccessDenied, RecordNotFound
from crm.leads.models import LeadChannel, LeadForm, LeadStatus
from crm.leads.selectors import lead_form_get_public, lead_list
from crm.leads.services import lead_capture_from_form, lead_form_origin_allowed, lead_update
from crm.leads.throttle import Throttled
from crm.list_filters import created_from, created_to, tags_plus
from crm.list_pages import BaseFilterForm, Column, RecordList, list_page, owner_choices
from crm.tags import record_tags_set

# A lead is a few lines of text; anything bigger is not a person filling a form.
MAX_BODY_BYTES = 100 * 1024
CORS_ALLOWED_HEADERS = "Content-Type, Accept, Accept-Language, X-Requested-With"
CORS_MAX_AGE_SECONDS = 60 * 60


class _BadBody(Exception):
    def __init__(self, status: int, code: str, detail: str):
        super().__init__(detail)
        self.status = status
        self.code = code
        self.detail = detail


def client_address(request: HttpRequest) -> str:
    """The visitor's address. Behind `LEAD_FORM_TRUSTED_PROXIES` reverse proxies (each
    appending to X-Forwarded-For) it is the entry that many hops from the right; the
    header is otherwise ignored, since a visitor can write anything into it."""
    proxies = int(getattr(settings, "LEAD_FORM_TRUSTED_PROXIES", 0))
    if proxies > 0:
        hops = [hop.strip() for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if hop.strip()]
        if len(hops) >= proxies:
            return hops[-proxies]
    return request.META.get("REMOTE_ADDR", "")


def _is_json_body(request: HttpRequest) -> bool:
    content_type = (request.content_type or "").lower()
    return content_type == "application/json" or content_type.endswith("+json")


def _wants_json(request: HttpRequest) -> bool:
    if _is_json_body(request):
        return True
    accept = request.headers.get("Accept", "")
    return "json" in accept and request.get_preferred_type(["text/html", "application/json"]) == "application/json"


def _wants_html(request: HttpRequest) -> bool:
    """A browser navigating (a form posted without JavaScript) explicitly asks for HTML."""
    return not _wants_json(request) and "text/html" in request.headers.get("Accept", "")


def _with_cors(response: HttpResponse, cors_origin: str) -> HttpResponse:
    patch_vary_headers(response, ["Origin"])
    if cors_origin:
        response["Access-Control-Allow-Origin"] = cors_origin
        response["Access-Control-Expose-Headers"] = "Retry-After"
    return response


def _error(
    request: HttpRequest,
    *,
    status: int,
    code: str,
    detail: str,
    cors_origin: str = "",
    errors: dict[str, list[str]] | None = None,
) -> HttpResponse:
    """The API's error shape ({"detail", "code", "errors"?}); a readable page for a browser."""
    if _wants_html(request):
        response = render(
            request, "leads/form_error.html", {"detail": detail, "errors": errors or {}, "code": code}, status=status
        )
    else:
        payload: dict[str, object] = {"detail": detail, "code": code}
        if errors is not None:
            payload["errors"] = errors
        response = JsonResponse(payload, status=status, json_dumps_params={"ensure_ascii": False})
    return _with_cors(response, cors_origin)


def _submitted_data(request: HttpRequest) -> Mapping[str, object]:
    """The posted fields as a flat mapping (the last value of repeated form fields)."""
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    too_large = _BadBody(413, "too_large", _("This submission is too large."))
    if declared > MAX_BODY_BYTES:
        raise too_large
    try:
        if _is_json_body(request):
            body = request.body
            if len(body) > MAX_BODY_BYTES:
                raise too_large
            data = json.loads(body)
            if not isinstance(data, dict):
                raise _BadBody(400, "parse_error", _("Send the fields as a JSON object."))
            return data
        return dict(request.POST.items())
    except (RequestDataTooBig, TooManyFieldsSent) as error:
        raise too_large from error
    except (ValueError, RecursionError, MultiPartParserError, SuspiciousOperation) as error:
        # ValueError covers malformed JSON and undecodable bytes.
        raise _BadBody(400, "parse_error", _("The submission could not be read.")) from error


def _thank_you_text(form: LeadForm) -> str:
    return form.thank_you_text or _("Thank you! We will get back to you shortly.")


def _field_messages(error: ValidationError) -> dict[str, list[str]]:
    if hasattr(error, "error_dict"):
        return {field: [str(message) for message in messages] for field, messages in error.message_dict.items()}
    return {"non_field_errors": [str(message) for message in error.messages]}


@csrf_exempt
def lead_form_submit(request: HttpRequest, form_key: str) -> HttpResponse:
    """`POST /forms/<key>/`: 201 JSON or a 303 to the thank-you page; errors per API.md."""
    try:
        form = lead_form_get_public(key=form_key)
    except RecordNotFound:
        return _error(request, status=404, code="not_found", detail=_("This form does not exist."))
    origin = request.headers.get("Origin", "")
    allowed = lead_form_origin_allowed(form=form, origin=origin)
    cors_origin = origin if origin and allowed else ""

    if request.method == "OPTIONS":
        if not allowed:
            return _error(
                request, status=403, code="origin_not_allowed", detail=_("This site may not send leads to this form.")
            )
        response = _with_cors(HttpResponse(status=204), cors_origin)
        response["Access-Control-Allow-Methods"] = "POST, OPTIONS"
        response["Access-Control-Allow-Headers"] = CORS_ALLOWED_HEADERS
        response["Access-Control-Max-Age"] = str(CORS_MAX_AGE_SECONDS)
        return response
    if request.method != "POST":
        response = _error(
            request,
            status=405,
            code="method_not_allowed",
            detail=_("Send the form with POST."),
            cors_origin=cors_origin,
        )
        response["Allow"] = "POST, OPTIONS"
        return response
    if not allowed:
        return _error(
            request, status=403, code="origin_not_allowed", detail=_("This site may not send leads to this form.")
        )

    try:
        data = _submitted_data(request)
        lead = lead_capture_from_form(form=form, data=data, remote_addr=client_address(request), origin=origin)
    except _BadBody as error:
        return _error(request, status=error.status, code=error.code, detail=error.detail, cors_origin=cors_origin)
    except Throttled as error:
        response = _error(request, status=429, code=error.code, detail=error.message, cors_origin=cors_origin)
        response["Retry-After"] = str(error.retry_after)
        return response
    except AccessDenied as error:
        return _error(request, status=403, code=error.code, detail=error.message)
    except RecordNotFound:
        return _error(request, status=404, code="not_found", detail=_("This form does not exist."))
    except ValidationError as error:
        return _error(
            request,
            status=400,
            code="validation_error",
            detail=_("Some fields need attention."),
            errors=_field_messages(error),
            cors_origin=cors_origin,
        )

    if _wants_json(request):
        # A honeypot hit looks like success too, without an id to give anything away.
        payload = {"lead": {"id": lead.pk if lead is not None else None}, "message": _thank_you_text(form)}
        response = JsonResponse(payload, status=201, json_dumps_params={"ensure_ascii": False})
    else:
        target = form.redirect_url or reverse("lead_forms:thanks", kwargs={"form_key": form.key})
        response = HttpResponseRedirect(target, status=303)
    return _with_cors(response, cors_origin)


def lead_form_thanks(request: HttpRequest, form_key: str) -> HttpResponse:
    """`GET /forms/<key>/thanks/`: the form's thank-you text (or a translated default)."""
    try:
        form = lead_form_get_public(key=form_key)
    except RecordNotFound:
        return render(request, "404.html", status=404)
    return render(request, "leads/thanks.html", {"form": form, "message": _thank_you_text(form)})


# --- the leads list (signed-in web UI) ------------------------------------------------
CHANNEL_LABELS = dict(LeadChannel.choices)


class LeadFilterForm(BaseFilterForm):
    status = forms.ChoiceField(
        label=gettext_lazy("Status"), choices=[("", gettext_lazy("Any status")), *LeadStatus.choices], required=False
    )
    owner = owner_choices()
    channel = forms.ChoiceField(
        label=gettext_lazy("Channel"), choices=[("", gettext_lazy("Any channel")), *LeadChannel.choices], required=False
    )
    created_from = created_from()
    created_to = created_to()


def _lead_rows(actor, filters):
    return lead_list(
        actor=actor,
        status=filters.get("status"),
        owner=filters.get("owner"),
        channel=filters.get("channel"),
        created_from=filters.get("created_from"),
        created_to=filters.get("created_to"),
        search=filters.get("q", ""),
    )


LEADS = RecordList(
    key="leads",
    title=gettext_lazy("Leads"),
    record_type="lead",
    filter_form=LeadFilterForm,
    rows=_lead_rows,
    # Both follow the lead_created index; the id breaks ties so pages never overlap.
    sorts={"-created": ("-created_at", "-id"), "created": ("created_at", "id")},
    columns=[
        Column(gettext_lazy("Name")),
        Column(gettext_lazy("Company")),
        Column(gettext_lazy("Status")),
        Column(gettext_lazy("Owner")),
        Column(gettext_lazy("Received"), sort="created"),
    ],
    row_template="leads/_row.html",
    csv_columns=[
        (gettext_lazy("Name"), lambda lead: lead.name),
        (gettext_lazy("Email"), lambda lead: lead.email),
        (gettext_lazy("Phone"), lambda lead: lead.phone),
        (gettext_lazy("Company"), lambda lead: lead.company_name),
        (gettext_lazy("Status"), lambda lead: lead.get_status_display()),
        (gettext_lazy("Channel"), lambda lead: CHANNEL_LABELS.get(lead.channel, lead.channel)),
        (gettext_lazy("Owner"), lambda lead: lead.owner.full_name if lead.owner else ""),
        (gettext_lazy("Source"), lambda lead: lead.utm_source),
        (gettext_lazy("Campaign"), lambda lead: lead.utm_campaign),
        (gettext_lazy("Received"), lambda lead: lead.created_at.isoformat()),
    ],
    assign=lambda actor, lead, owner: lead_update(actor=actor, lead=lead, owner=owner),
    tag=lambda actor, lead, name: record_tags_set(actor=actor, record=lead, tags=tags_plus(lead, name)),
    empty_text=gettext_lazy("No leads here yet. Leads from your website forms and the ones you add appear here."),
)


@login_required
def lead_list_view(request: HttpRequest) -> HttpResponse:
    return list_page(request, LEADS)

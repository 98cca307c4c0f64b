"""The Stripe webhook (public host) and the billing page for workspace administrators."""

from __future__ import annotations

import logging
import secrets
from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from accounts.policy import has_capability
from accounts.roles import BILLING
from billing import selectors, services, stripe_api, webhooks
from billing.errors import BillingError
from billing.forms import PlanSeatsForm, SetupIntentForm, TestCardForm, TokenForm
from billing.models import EventStatus

logger = logging.getLogger(__name__)


# -- webhook (public host) -----------------------------------------------------------------


@csrf_exempt
@require_POST
def webhook(request: HttpRequest) -> HttpResponse:
    """Verify, store once, queue for processing; 200 for new and already seen events, 400 otherwise."""
    try:
        data = webhooks.event_verify(payload=request.body, signature=request.headers.get("Stripe-Signature"))
    except webhooks.WebhookRejected as rejected:
        logger.warning(
            "stripe webhook rejected: %s",
            rejected.reason,
            extra={"remote_addr": request.META.get("REMOTE_ADDR"), "reason": rejected.reason},
        )
        return JsonResponse({"detail": "Invalid signature.", "code": "invalid_signature"}, status=400)
    event, created = webhooks.event_record(data=data)
    if event.status in (EventStatus.PENDING, EventStatus.FAILED):
        from billing.tasks import webhook_event_process

        # A replay of an event not yet processed re-queues it; processing is once-only anyway.
        transaction.on_commit(lambda: webhook_event_process.delay(event_id=event.pk))
    return JsonResponse({"received": True, "duplicate": not created})


# -- billing page (tenant host) --------------------------------------------------------------


def billing_admin_required(view):
    """Signed in and holding the `billing` power; others get a 403 page naming what is missing."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not has_capability(request.user, BILLING):
            return render(request, "billing/forbidden.html", status=403)
        return view(request, *args, **kwargs)

    return wrapper


def _token() -> str:
    return secrets.token_hex(16)


@require_GET
@billing_admin_required
def page(request: HttpRequest) -> HttpResponse:
    return _render_page(request)


def _render_page(request: HttpRequest, plan_form: PlanSeatsForm | None = None, status: int = 200) -> HttpResponse:
    if not stripe_api.is_configured():
        return render(request, "billing/page.html", {"not_configured": True}, status=status)
    overview = selectors.billing_overview(tenant=request.tenant)
    plans = selectors.plans_for_sale()
    if plan_form is None:
        subscription = overview.subscription if overview.subscribed else None
        plan_form = PlanSeatsForm(
            plans=plans,
            initial={
                "plan": (subscription.plan if subscription and subscription.plan else overview.plan).code,
                "seats": subscription.quantity if subscription else max(overview.seats_used, 1),
                "request_token": _token(),
            },
        )
    context = {
        "overview": overview,
        "plan_form": plan_form,
        "token_form": TokenForm(initial={"request_token": _token()}),
        "test_card_form": TestCardForm(initial={"request_token": _token()}) if stripe_api.test_mode() else None,
        "stripe_publishable_key": settings.STRIPE_PUBLISHABLE_KEY,
        "stripe_js_url": settings.STRIPE_JS_URL,
        "card_token": _token(),
    }
    return render(request, "billing/page.html", context, status=status)


def _done(request: HttpRequest, error: BillingError | None = None, message: str = "") -> HttpResponse:
    if error is not None:
        messages.error(request, error.message)
    elif message:
        messages.success(request, message)
    return redirect("billing:page")


@require_POST
@billing_admin_required
def plan_change(request: HttpRequest) -> HttpResponse:
    form = PlanSeatsForm(request.POST, plans=selectors.plans_for_sale())
    if not form.is_valid():
        return _render_page(request, plan_form=form, status=400)
    plan, seats, token = form.cleaned_data["plan"], form.cleaned_data["seats"], form.cleaned_data["request_token"]
    current = services.subscription_current(tenant=request.tenant)
    try:
        if current is not None and current.status in ("active", "trialing", "past_due", "unpaid"):
            services.subscription_change(tenant=request.tenant, plan=plan, seats=seats, request_token=token)
            message = ngettext(
                "Change requested: %(plan)s with %(seats)d seat. It takes effect as soon as Stripe confirms it.",
                "Change requested: %(plan)s with %(seats)d seats. It takes effect as soon as Stripe confirms it.",
                seats,
            )
        else:
            services.subscription_start(tenant=request.tenant, plan=plan, seats=seats, request_token=token)
            message = ngettext(
                "Subscribed to %(plan)s with %(seats)d seat. Thank you!",
                "Subscribed to %(plan)s with %(seats)d seats. Thank you!",
                seats,
            )
    except BillingError as error:
        return _done(request, error)
    return _done(request, message=message % {"plan": plan.name, "seats": seats})


def _cancel_or_resume(request: HttpRequest, *, resume: bool) -> HttpResponse:
    form = TokenForm(request.POST)
    if not form.is_valid():
        return _done(request, BillingError(_("The form expired. Please try again.")))
    try:
        services.subscription_cancel(
            tenant=request.tenant, request_token=form.cleaned_data["request_token"], resume=resume
        )
    except BillingError as error:
        return _done(request, error)
    if resume:
        return _done(request, message=_("The subscription will continue. This shows here once Stripe confirms it."))
    return _done(
        request,
        message=_(
            "The subscription ends at the end of the paid period. This shows here once Stripe confirms it; "
            "you can resume it until then."
        ),
    )


@require_POST
@billing_admin_required
def cancel(request: HttpRequest) -> HttpResponse:
    return _cancel_or_resume(request, resume=False)


@require_POST
@billing_admin_required
def resume(request: HttpRequest) -> HttpResponse:
    return _cancel_or_resume(request, resume=True)


@require_POST
@billing_admin_required
def refresh(request: HttpRequest) -> HttpResponse:
    try:
        services.billing_refresh(tenant=request.tenant)
    except BillingError as error:
        return _done(request, error)
    return _done(request, message=_("Billing details were refreshed from Stripe."))


@require_POST
@billing_admin_required
def card_intent(request: HttpRequest) -> HttpResponse:
    """JSON for Stripe.js: the client secret of a new SetupIntent for this workspace's customer."""
    form = TokenForm(request.POST)
    if not form.is_valid():
        return JsonResponse({"detail": _("The form expired. Please reload the page."), "code": "invalid"}, status=400)
    try:
        secret = services.card_setup_intent_create(
            tenant=request.tenant, request_token=form.cleaned_data["request_token"]
        )
    except BillingError as error:
        return JsonResponse({"detail": error.message, "code": error.code}, status=error.http_status)
    return JsonResponse({"client_secret": secret})


@require_POST
@billing_admin_required
def card_save(request: HttpRequest) -> HttpResponse:
    """Stripe.js confirmed the SetupIntent in the browser; make its card the default here."""
    form = SetupIntentForm(request.POST)
    if not form.is_valid():
        return _done(request, BillingError(_("This card setup was not found."), code="not_found"))
    try:
        services.card_save_from_setup_intent(tenant=request.tenant, setup_intent_id=form.cleaned_data["setup_intent"])
    except BillingError as error:
        return _done(request, error)
    return _done(request, message=_("Your card was saved."))


@require_POST
@billing_admin_required
def card_test(request: HttpRequest) -> HttpResponse:
    form = TestCardForm(request.POST)
    if not stripe_api.test_mode() or not form.is_valid():
        return _done(request, BillingError(_("Test cards are available with test keys only.")))
    try:
        services.card_attach_test(
            tenant=request.tenant,
            test_card=form.cleaned_data["test_card"],
            request_token=form.cleaned_data["request_token"],
        )
    except BillingError as error:
        return _done(request, error)
    return _done(request, message=_("Your card was saved."))

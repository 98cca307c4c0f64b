"""The public site: landing, pricing, signup."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import translation
from django.views.decorators.http import require_http_methods

from tenants.errors import SignupRejected
from tenants.forms import SignupForm
from tenants.selectors import plan_list_public
from tenants.services import SignupRequest, tenant_login_url, tenant_signup


def landing(request: HttpRequest) -> HttpResponse:
    return render(request, "public/landing.html", {"plans": plan_list_public()})


def pricing(request: HttpRequest) -> HttpResponse:
    return render(request, "public/pricing.html", {"plans": plan_list_public()})


@require_http_methods(["GET", "POST"])
def signup(request: HttpRequest) -> HttpResponse:
    initial = {"plan": request.GET.get("plan", "")}
    form = SignupForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            tenant = tenant_signup(request=SignupRequest(**form.cleaned_data, language=translation.get_language()))
        except SignupRejected as rejected:
            for field, messages in rejected.messages().items():
                for message in messages:
                    form.add_error(field if field in form.fields else None, message)
        else:
            return redirect(tenant_login_url(tenant) + "?welcome=1")
    return render(
        request,
        "public/signup.html",
        {"form": form, "host_suffix": f".{settings.BASE_DOMAIN}", "signup_enabled": settings.SIGNUP_ENABLED},
    )

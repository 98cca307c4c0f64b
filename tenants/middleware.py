"""Host → tenant → search_path (neutral 404 for unknown hosts); what the tenant's status allows."""

from __future__ import annotations

from django.core.exceptions import DisallowedHost
from django.db import connection
from django.http import HttpResponse, HttpResponseForbidden, HttpResponseNotFound, JsonResponse
from django.shortcuts import redirect
from django.template.loader import render_to_string
from django.utils.translation import gettext
from django_tenants.middleware.main import TenantMainMiddleware

from accounts.policy import has_capability
from accounts.roles import BILLING
from config.sentry import tag_tenant
from tenants.errors import TenantReadOnly, TenantSuspended
from tenants.host_lookup import tenant_for_host
from tenants.status import access_for


class TenantHostMiddleware(TenantMainMiddleware):
    def no_tenant_found(self, request, hostname):
        # The same page whatever the host: it must not tell whether a workspace exists.
        return HttpResponseNotFound(render_to_string("404.html", request=None))

    def process_request(self, request):
        try:
            hostname = self.hostname_from_request(request)
        except DisallowedHost:
            return HttpResponseNotFound()
        tenant = tenant_for_host(hostname)
        if tenant is None:
            connection.set_schema_to_public()
            return self.no_tenant_found(request, hostname)
        tenant.domain_url = hostname
        request.tenant = tenant
        self.setup_url_routing(request)
        tag_tenant(tenant.schema_name)
        return None


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
# Always reachable, whatever the status: signing in and out, the language switch.
OPEN_PREFIXES = ("/login/", "/logout/", "/password-reset/", "/i18n/", "/api/v1/auth/", "/static/")
# What an unpaid workspace keeps: paying, and taking its data away (backups, exports).
BILLING_AND_DATA_PREFIXES = (
    "/billing/",
    "/api/v1/billing/",
    "/backups/",
    "/api/v1/backups/",
    "/exports/",
    "/api/v1/exports/",
)
# Public lead forms keep accepting leads while read-only: a visitor's lead is the
# customer's data (decision 0007); a suspended workspace stops collecting them.
LEAD_FORM_PREFIX = "/forms/"


class TenantStatusMiddleware:
    """Enforces what the workspace's billing status allows (tenants.status.ACCESS).

    Read-only: every non-safe method is refused with `tenant_read_only` (JSON under
    /api/, a page otherwise) except sign-in/out, billing, backups, exports and lead forms.
    Suspended: signed-in administrators are sent to the billing page (and may take
    backups and exports); everyone else gets a clear notice. Must come after
    authentication so it knows who is asking.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        tenant = getattr(request, "tenant", None)
        if tenant is None or tenant.is_public:
            return self.get_response(request)
        access = access_for(tenant.status)
        path = request.path_info
        if access.write or path.startswith(OPEN_PREFIXES):
            return self.get_response(request)
        if access.billing_only:
            return self._suspended(request, path)
        if request.method in SAFE_METHODS or path.startswith((*BILLING_AND_DATA_PREFIXES, LEAD_FORM_PREFIX)):
            return self.get_response(request)
        return self._refuse(request, path, TenantReadOnly())

    def _suspended(self, request, path: str):
        if path.startswith(BILLING_AND_DATA_PREFIXES):
            # The API authenticates by token inside the view, which is admin-only; pages
            # check the person here.
            if path.startswith("/api/") or _is_billing_admin(request.user):
                return self.get_response(request)
        elif path.startswith(LEAD_FORM_PREFIX):
            return _form_unavailable(request)
        elif not path.startswith("/api/") and _is_billing_admin(request.user):
            return redirect("billing:page")
        return self._refuse(request, path, TenantSuspended())

    def _refuse(self, request, path: str, error: TenantReadOnly):
        if path.startswith("/api/"):
            return JsonResponse({"detail": error.message, "code": error.code}, status=error.http_status)
        template = "tenants/suspended.html" if isinstance(error, TenantSuspended) else "tenants/read_only.html"
        context = {"error": error, "billing_admin": _is_billing_admin(request.user)}
        return HttpResponseForbidden(render_to_string(template, context, request=request))


def _is_billing_admin(user) -> bool:
    return bool(user is not None and user.is_authenticated and has_capability(user, BILLING))


def _form_unavailable(request):
    message = gettext("This form is not accepting submissions right now.")
    if "json" in request.headers.get("Accept", ""):
        return JsonResponse({"detail": message, "code": "form_unavailable"}, status=503)
    return HttpResponse(message, status=503, content_type="text/plain; charset=utf-8")

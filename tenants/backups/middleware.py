"""Maintenance while a workspace is being restored: a friendly page, or for the API a
JSON 503 with Retry-After. Placed right after TenantHostMiddleware (it needs the tenant,
and nothing after it may touch the tenant's schema while it is being swapped)."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext as _

from tenants.backups.selectors import maintenance_for, stage_text

STATUS_PATH = "/backups/maintenance/status/"


class MaintenanceMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        tenant = getattr(request, "tenant", None)
        if tenant is None or tenant.is_public or request.path.startswith("/" + settings.STATIC_URL.lstrip("/")):
            return self.get_response(request)
        maintenance = maintenance_for(tenant=tenant)
        if maintenance is None:
            return self.get_response(request)
        # The session and language cookie live with the tenant's data; use the browser's language.
        language = translation.get_language_from_request(request) or tenant.language
        with translation.override(language):
            return self._answer(request, maintenance)

    def _answer(self, request, maintenance) -> HttpResponse:
        retry_after = str(maintenance.retry_after_seconds)
        job = maintenance.job
        if request.path.startswith("/api/"):
            response = JsonResponse(
                {
                    "detail": _("This workspace is being restored from a backup. Try again in a few minutes."),
                    "code": "maintenance",
                },
                status=503,
            )
        else:
            context = {
                "workspace": request.tenant,
                "percent": job.percent if job else 0,
                "stage": stage_text(job.stage) if job else "",
                "status_path": STATUS_PATH,
            }
            template = "backups/maintenance_status.html" if request.path == STATUS_PATH else "backups/maintenance.html"
            response = HttpResponse(render_to_string(template, context, request=None), status=503)
        response["Retry-After"] = retry_after
        response["Cache-Control"] = "no-store"
        return response

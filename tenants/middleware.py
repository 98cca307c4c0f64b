"""Host → tenant → search_path, with a neutral 404 for hosts we do not serve."""

from __future__ import annotations

from django.http import HttpResponseNotFound
from django.template.loader import render_to_string
from django_tenants.middleware.main import TenantMainMiddleware

from config.sentry import tag_tenant


class TenantHostMiddleware(TenantMainMiddleware):
    def no_tenant_found(self, request, hostname):
        # The same page whatever the host: it must not tell whether a workspace exists.
        return HttpResponseNotFound(render_to_string("404.html", request=None))

    def process_request(self, request):
        response = super().process_request(request)
        if response is None:
            tag_tenant(request.tenant.schema_name)
        return response

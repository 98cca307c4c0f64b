"""URLs under /api/ that match nothing answer in the API's error shape, not a web page.

A middleware rather than `handler404`, so it holds with DEBUG on too (Django then shows
its technical 404 page instead of calling the handler).
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _


class ApiNotFoundMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            response.status_code == 404
            and request.path.startswith("/api/")
            and not response.get("Content-Type", "").startswith("application/json")
        ):
            return JsonResponse({"detail": _("Not found."), "code": "not_found"}, status=404)
        return response

"""URLs for `python -m bench seats`: the tenant host's URLs plus two probe views.

Pointed at with `override_settings(ROOT_URLCONF="bench.overhead_urls")`: django-tenants
routes tenant hosts through settings.ROOT_URLCONF, so the real /login/ keeps working.
"""

from django.http import HttpRequest, HttpResponse
from django.urls import path

from config.urls_tenant import urlpatterns as tenant_urlpatterns


def probe_checked(request: HttpRequest) -> HttpResponse:
    """One permission-filtered query: what every CRM list view does at the least."""
    from crm.access import visible
    from crm.clients.models import Contact

    found = visible(Contact.objects.all(), actor=request.user).exists()
    return HttpResponse("1" if found else "0", content_type="text/plain")


def probe_bare(request: HttpRequest) -> HttpResponse:
    """The same query without the permission filter.

    Loads the signed-in user when the auth middleware is there (visible() needs it, and
    SeatMiddleware loads it anyway), so that cost is not pinned on the seat check.
    """
    from crm.clients.models import Contact

    user = getattr(request, "user", None)
    if user is not None:
        user.is_authenticated  # noqa: B018 - evaluates the lazy user: session and user rows
    found = Contact.objects.all().exists()
    return HttpResponse("1" if found else "0", content_type="text/plain")


urlpatterns = [
    path("bench/probe/checked/", probe_checked, name="bench-probe-checked"),
    path("bench/probe/bare/", probe_bare, name="bench-probe-bare"),
    *tenant_urlpatterns,
]

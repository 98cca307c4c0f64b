"""Every signed-in request on a tenant host must still hold its seat."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import logout
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import ReleaseReason

ENDED_BECAUSE = {
    ReleaseReason.EXPIRED: gettext_lazy(
        "You were away for a while, so your seat was freed for a colleague. Please sign in again."
    ),
    ReleaseReason.FORCED: gettext_lazy("An administrator freed your seat. Please sign in again."),
    ReleaseReason.REPLACED: gettext_lazy("You signed in somewhere else, so this session ended."),
    ReleaseReason.SEAT_REMOVED: gettext_lazy("Your seat was changed by an administrator. Please sign in again."),
}


class SeatMiddleware:
    """Renews the session's seat lease (throttled) and signs out sessions that lost it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        tenant = getattr(request, "tenant", None)
        user = getattr(request, "user", None)
        if tenant is not None and not tenant.is_public and user is not None and user.is_authenticated:
            lease = request.session.seat_lease()
            if lease is None or lease.released_at is not None:
                reason = lease.release_reason if lease is not None else ""
                logout(request)
                messages.warning(
                    request, str(ENDED_BECAUSE.get(reason, _("Your session ended. Please sign in again.")))
                )
                return redirect("accounts:login")
        return self.get_response(request)

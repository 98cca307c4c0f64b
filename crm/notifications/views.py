"""The in-app inbox: reminders and assignments, newest first, paged by a cursor."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotModified, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST, require_safe

from accounts.seats import access_settings
from crm.errors import RecordNotFound
from crm.notifications.selectors import InboxCursor, inbox, notifications_since
from crm.notifications.services import notification_mark_read, notifications_mark_all_read


@login_required
def inbox_view(request: HttpRequest) -> HttpResponse:
    before = None
    if request.GET.get("before"):
        try:
            before = InboxCursor.parse(request.GET["before"])
        except ValidationError:
            before = None  # a broken page link shows the first page
    page = inbox(user=request.user, before=before)
    return render(request, "notifications/inbox.html", {"page": page})


@login_required
@require_POST
def mark_read_view(request: HttpRequest, notification_id: int) -> HttpResponse:
    try:
        notification = notification_mark_read(user=request.user, notification_id=notification_id)
    except RecordNotFound as missing:
        raise Http404(missing.message) from missing
    if notification.url.startswith("/") and not notification.url.startswith("//"):
        return redirect(notification.url)
    return redirect("notifications:inbox")


@login_required
@require_POST
def mark_all_read_view(request: HttpRequest) -> HttpResponse:
    notifications_mark_all_read(user=request.user)
    return redirect("notifications:inbox")


# The browser stops polling after this long without a key press or pointer move, so an
# open tab on an empty desk lets its shared seat go after the idle timeout.
POLL_IDLE_CAP_SECONDS = 10 * 60


@login_required
@require_safe
def poll_view(request: HttpRequest) -> HttpResponse:
    """What the header's badge and desktop notifications need, for a page left open.

    `?after=<id>`: the newest notification id the page knows; a page's first poll says
    `?baseline=1` instead and learns that id (what was there before is not news).
    Answers 304 when nothing changed (the ETag is the unread count and the newest id),
    so a poll every half minute costs two index reads and no body.
    """
    try:
        after = max(0, int(request.GET.get("after", "0")))
    except ValueError:
        after = 0
    if request.GET.get("baseline"):
        after = 2**63 - 1
    unread, latest, fresh = notifications_since(user=request.user, after_id=after)
    etag = f'W/"{unread}-{latest}-{after}"'
    if request.headers.get("If-None-Match") == etag:
        return HttpResponseNotModified(headers={"ETag": etag, "Cache-Control": "private, no-cache"})
    idle_seconds = access_settings().idle_timeout_minutes * 60
    response = JsonResponse(
        {
            "unread": unread,
            "unread_label": ngettext("%(count)d unread", "%(count)d unread", unread) % {"count": unread},
            "latest_id": latest,
            "new": [
                {
                    "id": item.pk,
                    "title": item.title,
                    "body": item.body[:300],
                    "url": item.url if item.url.startswith("/") and not item.url.startswith("//") else "",
                    "kind": item.get_kind_display(),
                }
                for item in fresh
            ],
            "stop_after_idle_seconds": min(POLL_IDLE_CAP_SECONDS, max(60, idle_seconds // 2)),
        }
    )
    response["ETag"] = etag
    response["Cache-Control"] = "private, no-cache"
    return response

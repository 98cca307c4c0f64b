"""The in-app inbox: reminders and assignments, newest first, paged by a cursor."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from crm.errors import RecordNotFound
from crm.notifications.selectors import InboxCursor, inbox
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

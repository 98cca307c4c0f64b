"""The Trash page (`/trash/`): what the person can see in the trash, by kind, newest
first, paged by the trash's own cursor; administrators restore from here. Rows and the
restore come from crm.trash, which applies crm.access."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from accounts import roles
from accounts.policy import has_capability
from crm.errors import DomainError, RecordNotFound
from crm.trash import TRASHABLE, TrashCursor, record_restore, trash_cursor, trash_entry_get, trash_list

PAGE_SIZE = 50
KIND_LABELS = {
    "lead": gettext_lazy("Lead"),
    "contact": gettext_lazy("Contact"),
    "company": gettext_lazy("Company"),
    "deal": gettext_lazy("Deal"),
    "task": gettext_lazy("Task"),
    "quote": gettext_lazy("Quote"),
    "product": gettext_lazy("Product"),
    "activity": gettext_lazy("Activity"),
}


@login_required
def trash_view(request: HttpRequest) -> HttpResponse:
    kind = request.GET.get("kind", "")
    kind = kind if kind in TRASHABLE else ""
    problem = ""
    before = None
    if request.GET.get("before"):
        try:
            before = TrashCursor.parse(request.GET["before"])
        except ValidationError as error:
            problem = error.message_dict["before"][0]
    entries = trash_list(actor=request.user, kind=kind or None, limit=PAGE_SIZE + 1, before=before)
    next_url = ""
    if len(entries) > PAGE_SIZE:
        entries = entries[:PAGE_SIZE]
        next_url = "?" + urlencode({**({"kind": kind} if kind else {}), "before": trash_cursor(entries[-1]).encode()})
    context = {
        "entries": [(KIND_LABELS[entry.kind], entry) for entry in entries],
        "kinds": [(name, KIND_LABELS[name]) for name in TRASHABLE],
        "kind": kind,
        "problem": problem,
        "next_url": next_url,
        "is_first": before is None,
        "can_restore": has_capability(request.user, roles.SETTINGS),
    }
    return render(request, "trash/list.html", context)


@require_POST
@login_required
def trash_restore_view(request: HttpRequest, kind: str, record_id: int) -> HttpResponse:
    """Bring one record back (administrators); another workspace's or an invisible one is 404."""
    try:
        record = trash_entry_get(actor=request.user, kind=kind, record_id=record_id)
    except RecordNotFound as missing:
        raise Http404(missing.message) from missing
    try:
        restored = record_restore(actor=request.user, record=record)
    except DomainError as refused:
        messages.error(request, refused.message)
    else:
        messages.success(request, _("“%(record)s” is back from the trash.") % {"record": restored})
    back = request.POST.get("back", "")  # the page's own query string, never another address
    return redirect(reverse("trash:list") + (back if back.startswith("?") else ""))

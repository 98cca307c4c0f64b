"""Save and delete a list's named filter sets; both go back to the list."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import NoReverseMatch, reverse
from django.views.decorators.http import require_POST

from crm.errors import RecordNotFound
from crm.saved_views.services import saved_view_delete, saved_view_save


def _list_url(list_key: str) -> str:
    try:
        return reverse(f"{list_key}:list")
    except NoReverseMatch as unknown:
        raise Http404 from unknown


@login_required
@require_POST
def saved_view_save_view(request: HttpRequest, list_key: str) -> HttpResponse:
    url = _list_url(list_key)
    query = request.POST.get("query", "")
    try:
        view = saved_view_save(actor=request.user, list_key=list_key, name=request.POST.get("name", ""), query=query)
    except ValidationError as error:
        for problems in error.message_dict.values():
            for problem in problems:
                messages.error(request, problem)
        return redirect(f"{url}?{query}")
    return redirect(f"{url}?{view.query}")


@login_required
@require_POST
def saved_view_delete_view(request: HttpRequest, list_key: str, saved_view_id: int) -> HttpResponse:
    url = _list_url(list_key)
    try:
        saved_view_delete(actor=request.user, saved_view_id=saved_view_id)
    except RecordNotFound as missing:
        raise Http404(missing.message) from missing
    return redirect(url)

"""The pipeline board: one column per stage (count, total), drag and drop or "Move to…".

Every move, whether dropped on the board, chosen in a card's "Move to…" select or on the
deal's card, posts to `deal_move_view`, which calls `deal_move_stage` (the API's service
too), so the stage history is written the same way. Entering a lost stage needs a
reason: the board asks for it in a <dialog>; without JavaScript the move answers with a
plain page asking for it.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.html import format_html_join
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from accounts.models import User
from crm.deals.models import StageKind
from crm.deals.selectors import deal_get, pipeline_board, pipeline_list, stage_get
from crm.deals.services import deal_move_stage
from crm.errors import DomainError, RecordNotFound
from crm.list_filters import DATE_INPUT
from crm.selectors import workspace_settings


class BoardFilterForm(forms.Form):
    pipeline = forms.ModelChoiceField(label=gettext_lazy("Pipeline"), queryset=None, required=False, empty_label=None)
    owner = forms.ModelChoiceField(
        label=gettext_lazy("Owner"),
        queryset=User.objects.filter(is_active=True).order_by("full_name", "id"),
        required=False,
        empty_label=gettext_lazy("Anyone"),
    )
    close_from = forms.DateField(label=gettext_lazy("Closing from"), required=False, widget=DATE_INPUT)
    close_to = forms.DateField(label=gettext_lazy("Closing until"), required=False, widget=DATE_INPUT)

    def __init__(self, *args, actor: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["pipeline"].queryset = pipeline_list(actor=actor)


def _board_context(actor: User, params: QueryDict) -> dict[str, Any]:
    form = BoardFilterForm(params or None, actor=actor)
    filters: dict[str, Any] = {}
    if form.is_bound:
        form.is_valid()  # a bad field shows its error; the others still filter
        filters = {name: value for name, value in form.cleaned_data.items() if value is not None}
    pipelines = list(form.fields["pipeline"].queryset)
    pipeline = filters.get("pipeline") or (pipelines[0] if pipelines else None)
    columns = []
    if pipeline is not None:
        columns = pipeline_board(
            actor=actor,
            pipeline=pipeline,
            owner=filters.get("owner"),
            expected_close_from=filters.get("close_from"),
            expected_close_to=filters.get("close_to"),
        )
    query = params.urlencode() if params else ""
    return {
        "form": form,
        "pipeline": pipeline,
        # Each column with its cards' "Move to" options, rendered once per column (all its
        # cards sit in the same stage): 140 cards each looping over the stages cost a
        # third of the board's time.
        "columns": [(column, _stage_options(columns, selected=column.stage)) for column in columns],
        "query": query,
        "base_currency": workspace_settings().base_currency,
    }


def _stage_options(columns: list, *, selected) -> str:
    """The <option>s of a "Move to" menu, the `selected` stage chosen."""
    return format_html_join(
        "",
        '<option value="{}" data-kind="{}"{}>{}</option>',
        (
            (column.stage.pk, column.stage.kind, " selected" if column.stage == selected else "", column.stage.name)
            for column in columns
        ),
    )


@login_required
def board_view(request: HttpRequest) -> HttpResponse:
    context = _board_context(request.user, request.GET)
    return render(request, "deals/_board.html" if request.htmx else "deals/board.html", context)


def _board_url(query: str) -> str:
    return reverse("deals:board") + (f"?{query}" if query else "")


@login_required
@require_POST
def deal_move_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Move a deal to the posted stage through `deal_move_stage`.

    From the board with HTMX: the board again (with the move's error on top, if any).
    Otherwise: back to the board or the card; a lost stage without a reason, or any
    other refusal, answers with the page that asks again (status 400).
    """
    try:
        deal = deal_get(actor=request.user, deal_id=pk)
    except RecordNotFound as missing:
        raise Http404(missing.message) from missing
    from_board = request.POST.get("from") == "board"
    query = request.POST.get("query", "")
    reason = request.POST.get("lost_reason", "")
    stage = None
    error_text = ""
    try:
        stage = stage_get(actor=request.user, stage_id=int(request.POST.get("stage", "")), pipeline=deal.pipeline)
        deal_move_stage(actor=request.user, deal=deal, stage=stage, lost_reason=reason)
    except (ValueError, RecordNotFound):
        error_text = _("Choose a stage of this deal's pipeline.")
    except ValidationError as error:
        error_text = " ".join(error.messages)
    except DomainError as error:
        error_text = error.message
    if request.htmx and from_board:
        context = _board_context(request.user, QueryDict(query))
        context["move_error"] = error_text
        context["moved"] = deal.pk
        return render(request, "deals/_board.html", context)
    if not error_text:
        messages.success(
            request, _("“%(deal)s” moved to %(stage)s.") % {"deal": deal.title, "stage": stage.name if stage else ""}
        )
        return redirect(_board_url(query) if from_board else reverse("deals:detail", args=[deal.pk]))
    context = {
        "deal": deal,
        "stage": stage,
        "error": error_text,
        "reason": reason,
        "needs_reason": stage is not None and stage.kind == StageKind.LOST,
        "from_board": from_board,
        "query": query,
        "back_url": _board_url(query) if from_board else reverse("deals:detail", args=[deal.pk]),
    }
    return render(request, "deals/move.html", context, status=400)

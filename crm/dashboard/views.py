"""The tenant home page, "My day": the signed-in person's widgets in their own order.

Thin views over `crm.dashboard.selectors` (reads, through `crm.access`) and
`crm.dashboard.services` (the person's layout), plus the "done" action of the tasks
widget, which calls `crm.activities.services.task_complete` like every other client.
HTMX requests get the changed fragment; without JavaScript every form posts and
redirects back (or, for a refused change, shows the page again with the message).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from accounts.models import User
from crm.activities.selectors import task_get
from crm.activities.services import task_complete
from crm.dashboard import services
from crm.dashboard.selectors import Day, dashboard_layout_stored, my_day
from crm.dashboard.widgets import WIDGETS_BY_KEY, LayoutEntry, Widget, layout_entries
from crm.errors import DomainError, RecordNotFound


@dataclass(frozen=True)
class Panel:
    """One widget as shown: its data read for this person, today."""

    widget: Widget
    data: dict[str, Any]
    see_all: str


@dataclass(frozen=True)
class SettingField:
    name: str
    label: str
    minimum: int
    maximum: int
    value: object
    errors: list[str]


@dataclass(frozen=True)
class LayoutRow:
    """One line of the "Customise" panel."""

    widget: Widget
    hidden: bool
    first: bool
    last: bool
    settings: list[SettingField]


def _panel(actor: User, entry: LayoutEntry, day: Day) -> Panel:
    widget = entry.widget
    data = widget.data(actor, widget.settings_for(entry.settings, day), day)
    return Panel(widget=widget, data=data, see_all=widget.see_all(actor, data, day) if widget.see_all else "")


def _layout_rows(
    entries: list[LayoutEntry], day: Day, errors: dict[str, list[str]], posted: QueryDict | None
) -> list[LayoutRow]:
    rows = []
    for index, entry in enumerate(entries):
        values = entry.widget.settings_for(entry.settings, day)
        fields = []
        for setting in entry.widget.settings:
            problems = errors.get(f"{entry.widget.key}.{setting.name}", [])
            # A refused value is shown as typed, beside its error, so it can be corrected.
            value = posted.get(setting.name, "") if problems and posted is not None else values[setting.name]
            fields.append(
                SettingField(setting.name, str(setting.label), setting.minimum, setting.maximum, value, problems)
            )
        # A shown widget moves among the shown ones (services.dashboard_widget_move).
        before, after = entries[:index], entries[index + 1 :]
        if not entry.hidden:
            before = [other for other in before if not other.hidden]
            after = [other for other in after if not other.hidden]
        rows.append(LayoutRow(entry.widget, entry.hidden, not before, not after, fields))
    return rows


def _context(
    request: HttpRequest,
    *,
    entries: list[LayoutEntry] | None = None,
    customise: bool = False,
    errors: dict[str, list[str]] | None = None,
    posted: QueryDict | None = None,
    status_text: str = "",
) -> dict[str, Any]:
    actor = request.user
    day = my_day()
    if entries is None:
        entries = layout_entries(dashboard_layout_stored(user=actor))
    errors = errors or {}
    general = [message for field, problems in errors.items() if "." not in field for message in problems]
    return {
        "day": day,
        "panels": [_panel(actor, entry, day) for entry in entries if not entry.hidden],
        "layout_rows": _layout_rows(entries, day, errors, posted),
        "customise": customise or bool(errors),
        "layout_errors": general,
        "status_text": status_text,
    }


@require_safe
@login_required
def dashboard_view(request: HttpRequest) -> HttpResponse:
    context = _context(request, customise=request.GET.get("customise") == "1")
    return render(request, "dashboard/home.html", context)


# --- customising ------------------------------------------------------------------------


def _move(offset: int) -> Callable[[User, str, Any], list[LayoutEntry]]:
    return lambda actor, key, post: services.dashboard_widget_move(actor=actor, key=key, offset=offset)


def _hidden(hidden: bool) -> Callable[[User, str, Any], list[LayoutEntry]]:
    return lambda actor, key, post: services.dashboard_widget_set_hidden(actor=actor, key=key, hidden=hidden)


def _configure(actor: User, key: str, post) -> list[LayoutEntry]:
    widget = WIDGETS_BY_KEY.get(key)
    names = [setting.name for setting in widget.settings] if widget else []
    return services.dashboard_widget_configure(
        actor=actor, key=key, settings={name: post.get(name, "") for name in names}
    )


LAYOUT_ACTIONS: dict[str, Callable[[User, str, Any], list[LayoutEntry]]] = {
    "up": _move(-1),
    "down": _move(+1),
    "hide": _hidden(True),
    "show": _hidden(False),
    "configure": _configure,
    "reset": lambda actor, key, post: services.dashboard_layout_reset(actor=actor),
}


def _done_text(action: str, widget: Widget | None) -> str:
    label = widget.label if widget else ""
    texts = {
        "up": _("“%(label)s” moved up."),
        "down": _("“%(label)s” moved down."),
        "hide": _("“%(label)s” is hidden."),
        "show": _("“%(label)s” is shown."),
        "configure": _("Settings of “%(label)s” saved."),
        "reset": _("Your dashboard is back to the default layout."),
    }
    return texts[action] % {"label": label}


@require_POST
@login_required
def layout_view(request: HttpRequest) -> HttpResponse:
    """Change the person's own layout: move a widget up or down, hide or show it, save
    its settings, or reset everything. A refused change saves nothing and says why."""
    action, key = request.POST.get("action", ""), request.POST.get("key", "")
    change = LAYOUT_ACTIONS.get(action)
    try:
        if change is None:
            raise ValidationError({"action": [ValidationError(_("Choose what to change."), code="invalid_choice")]})
        entries = change(request.user, key, request.POST)
    except ValidationError as error:
        context = _context(request, customise=True, errors=error.message_dict, posted=request.POST)
        if request.htmx:
            return render(request, "dashboard/_dashboard.html", context)
        return render(request, "dashboard/home.html", context, status=400)
    except DomainError as refused:
        messages.error(request, refused.message)
        return redirect("home")
    text = _done_text(action, WIDGETS_BY_KEY.get(key))
    if request.htmx:
        context = _context(request, entries=entries, customise=True, status_text=text)
        return render(request, "dashboard/_dashboard.html", context)
    messages.success(request, text)
    return redirect(f"{reverse('home')}?customise=1#customise")


# --- the tasks widget's "done" ----------------------------------------------------------


@require_POST
@login_required
def task_done_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Mark one of the person's visible tasks done through the task service; another
    workspace's or an invisible task is a 404, a refusal a message (never a 500)."""
    try:
        task = task_get(actor=request.user, task_id=pk)
    except RecordNotFound as missing:
        raise Http404(missing.message) from missing
    status_text = ""
    try:
        task_complete(actor=request.user, task=task)
    except RecordNotFound as missing:
        raise Http404(missing.message) from missing
    except DomainError as refused:
        status_text = refused.message
        if not request.htmx:
            messages.error(request, status_text)
    else:
        status_text = _("Done: %(title)s") % {"title": task.title}
        if not request.htmx:
            messages.success(request, status_text)
    if not request.htmx:
        return redirect("home")
    widget = WIDGETS_BY_KEY["tasks"]
    entries = layout_entries(dashboard_layout_stored(user=request.user))
    entry = next(entry for entry in entries if entry.widget is widget)
    day = my_day()
    context = {"panel": _panel(request.user, entry, day), "day": day, "status_text": status_text}
    return render(request, "dashboard/_widget.html", context)

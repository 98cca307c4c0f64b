"""Client cards (contact, company, lead, deal): one engine, declared per record type.

Each sub-app declares a `ClientCard` (its `*_get` selector, the field groups a person
edits in place with the update service each calls, its template) and mounts
`card_patterns(card)`. What every card gets, the same way:

- the record comes from the sub-app's selector, so crm.access decides: another
  workspace's, a trashed or an invisible record is a 404;
- editing in place: a field group turns into its form (HTMX) and saves through the
  sub-app's update service; the service's field errors are shown on the form's fields
  and nothing is written. Without JavaScript the same links and forms work as pages;
- the timeline (crm.activities.selectors.timeline): activities and field changes, with
  its cursor ("older") and its filter (everything / activities / changes), and the
  record's open tasks;
- quick actions "log a call", "add note", "schedule task", posting to the activities
  services;
- the record's attachments (crm.attachments): list, upload, download, delete.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Model
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from accounts import roles
from accounts.models import User
from accounts.policy import has_capability, scope_for
from crm import access
from crm.access import Action
from crm.activities.models import Direction, TaskKind, TaskStatus
from crm.activities.selectors import TimelineCursor, TimelineShow, task_list, timeline
from crm.activities.services import call_log, email_log, meeting_log, note_add, task_create
from crm.attachments.views import attachment_section
from crm.custom_fields.display import cell
from crm.custom_fields.forms import CustomValuesForm
from crm.custom_fields.models import CustomField, FieldKind
from crm.custom_fields.selectors import custom_fields_for
from crm.errors import DomainError, RecordNotFound
from crm.selectors import workspace_settings

TIMELINE_PAGE = 20
OPEN_TASKS_SHOWN = 10
DATETIME_INPUT = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


def errors_onto(form: forms.Form, error: ValidationError | DomainError, rename: dict[str, str] | None = None) -> None:
    """Show a service's refusal on the form: field errors on their fields, the rest on top."""
    if isinstance(error, DomainError):
        form.add_error(None, error.message)
        return
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    # A custom fields form names its widgets itself (`custom_fields.<key>` -> `cf_<key>`).
    rename = {**(rename or {}), **getattr(form, "error_names", {})}
    for name, errors in error.error_dict.items():
        name = rename.get(name, name)
        form.add_error(name if name in form.fields else None, errors)


def person_choice(label: str = gettext_lazy("Owner"), *, required: bool = False) -> forms.ModelChoiceField:
    return forms.ModelChoiceField(
        label=label,
        queryset=User.objects.filter(is_active=True).order_by("full_name", "id"),
        required=required,
        empty_label=gettext_lazy("Nobody"),
    )


class ListField(forms.CharField):
    """Several values, one per line or separated by commas (emails, phones)."""

    widget = forms.Textarea(attrs={"rows": 2})

    def to_python(self, value: Any) -> list[str]:  # type: ignore[override]
        text = super().to_python(value) or ""
        return [item.strip() for item in text.replace(",", "\n").splitlines() if item.strip()]

    def prepare_value(self, value: Any) -> Any:
        return "\n".join(value) if isinstance(value, list | tuple) else value


# --- declarations -------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    label: str
    value: Any
    url: str = ""
    external: bool = False  # a web address of someone else's: opened apart, without our referrer
    ltr: bool = False


@dataclass(frozen=True)
class Empty:
    """What a group with nothing to show says, with a link for those who can change that."""

    text: str
    link_text: str = ""
    url: str = ""


@dataclass(frozen=True)
class FieldGroup:
    key: str
    title: str
    form: type[forms.Form]
    initial: Callable[[Any], dict[str, Any]]  # record -> the form's initial values
    save: Callable[[User, Any, dict[str, Any]], Any]  # (actor, record, data) through the update service
    rows: Callable[[Any], list[Row]]  # record -> what the group shows
    rename: dict[str, str] = field(default_factory=dict)  # service field -> form field
    form_kwargs: Callable[[Any], dict[str, Any]] | None = None  # record -> more arguments of the form
    data: Callable[[forms.Form], dict[str, Any]] | None = None  # the valid form -> save's data (cleaned_data)
    empty: Callable[[User], Empty] | None = None  # no rows: what to say instead (and no Edit button)

    def make_form(self, record: Any, data: Any = None) -> forms.Form:
        """The group's form: bound to `data` (a POST), or showing the record's values."""
        extra = self.form_kwargs(record) if self.form_kwargs is not None else {}
        return self.form(data, initial=self.initial(record), prefix=self.key, **extra)

    def item(self, record: Any, actor: User, *, editing: bool, form: forms.Form | None) -> dict[str, Any]:
        rows = self.rows(record)
        empty = self.empty(actor) if self.empty is not None and not rows else None
        return {"group": self, "rows": rows, "editing": editing, "form": form, "empty": empty}


@dataclass(frozen=True)
class ClientCard:
    key: str  # URL namespace ("contacts")
    record_type: str  # crm.access record type, also the timeline's argument ("contact")
    model: type[Model]
    get: Callable[[User, int], Any]  # (actor, id) -> the record, RecordNotFound otherwise
    title: Callable[[Any], str]
    groups: list[FieldGroup]
    template: str
    more_context: Callable[[HttpRequest, Any], dict[str, Any]] | None = None  # more context for the card's template
    may_edit: Callable[[Any], bool] | None = None  # e.g. a converted lead is history

    def group(self, key: str) -> FieldGroup:
        for group in self.groups:
            if group.key == key:
                return group
        raise Http404


# --- custom fields ------------------------------------------------------------------

CUSTOM_GROUP = "custom"
_LIVE = "_card_custom_fields"


def _live_fields(record: Any, entity: str) -> list[CustomField]:
    """The entity's live fields, read once per record object (a card render asks thrice)."""
    cached = getattr(record, _LIVE, None)
    if cached is None:
        cached = custom_fields_for(entity)
        setattr(record, _LIVE, cached)
    return cached


def _custom_rows(record: Any, entity: str) -> list[Row]:
    fields = _live_fields(record, entity)
    region = workspace_settings().default_phone_region if any(f.kind == FieldKind.PHONE for f in fields) else ""
    values = record.custom_fields or {}
    rows = []
    for custom in fields:
        shown = cell(custom, values.get(custom.key), region=region)
        rows.append(
            Row(
                custom.label_in(),
                shown.text or "—",
                shown.url,
                external=custom.kind == FieldKind.LINK,
                ltr=shown.ltr and bool(shown.text),
            )
        )
    return rows


def _custom_empty(actor: User) -> Empty:
    text = _("No custom fields yet — an administrator can add them in Settings → Custom fields.")
    if has_capability(actor, roles.SETTINGS):
        return Empty(text, _("Add custom fields"), reverse("settings:custom_fields"))
    return Empty(text)


def custom_fields_group(entity: str, service: Callable[..., Any], record_argument: str) -> FieldGroup:
    """The card's "More fields": every live custom field of `entity` with its value,
    edited in place through the record's update service (`custom_fields=` with only the
    fields the person changed)."""

    def save(actor: User, record: Any, data: dict[str, Any]) -> Any:
        return service(actor=actor, **{record_argument: record}, custom_fields=data)

    return FieldGroup(
        key=CUSTOM_GROUP,
        title=gettext_lazy("More fields"),
        form=CustomValuesForm,
        initial=lambda record: {},
        save=save,
        rows=lambda record: _custom_rows(record, entity),
        form_kwargs=lambda record: {"fields": _live_fields(record, entity), "stored": record.custom_fields},
        data=lambda form: form.values(changed_only=True),
        empty=_custom_empty,
    )


# --- quick actions ------------------------------------------------------------------


class CallForm(forms.Form):
    direction = forms.ChoiceField(
        label=gettext_lazy("Direction"), choices=Direction.choices, initial=Direction.OUTBOUND
    )
    minutes = forms.IntegerField(label=gettext_lazy("Duration (minutes)"), required=False, min_value=0, max_value=1440)
    outcome = forms.CharField(label=gettext_lazy("Outcome"), required=False)
    body = forms.CharField(label=gettext_lazy("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 3}))


class MeetingForm(forms.Form):
    subject = forms.CharField(label=gettext_lazy("About"), required=False)
    occurred_at = forms.DateTimeField(label=gettext_lazy("When"), required=False, widget=DATETIME_INPUT)
    minutes = forms.IntegerField(label=gettext_lazy("Duration (minutes)"), required=False, min_value=0, max_value=1440)
    outcome = forms.CharField(label=gettext_lazy("Outcome"), required=False)
    body = forms.CharField(label=gettext_lazy("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 3}))


class EmailLogForm(forms.Form):
    direction = forms.ChoiceField(
        label=gettext_lazy("Direction"),
        choices=[("sent", gettext_lazy("Sent")), ("received", gettext_lazy("Received"))],
        initial="sent",
    )
    subject = forms.CharField(label=gettext_lazy("Subject"), required=False)
    occurred_at = forms.DateTimeField(label=gettext_lazy("When"), required=False, widget=DATETIME_INPUT)
    body = forms.CharField(label=gettext_lazy("Text"), required=False, widget=forms.Textarea(attrs={"rows": 4}))


class NoteForm(forms.Form):
    body = forms.CharField(label=gettext_lazy("Note"), required=False, widget=forms.Textarea(attrs={"rows": 3}))


class TaskForm(forms.Form):
    title = forms.CharField(label=gettext_lazy("What to do"), required=False)
    kind = forms.ChoiceField(label=gettext_lazy("Kind"), choices=TaskKind.choices, initial=TaskKind.CALL)
    due_at = forms.DateTimeField(label=gettext_lazy("Due"), widget=DATETIME_INPUT)
    duration_minutes = forms.IntegerField(
        label=gettext_lazy("Duration (minutes)"), required=False, min_value=1, max_value=1440
    )
    owner = person_choice(gettext_lazy("Assignee"), required=True)


def _log_call(actor: User, links: dict[str, Any], data: dict[str, Any]) -> Any:
    minutes = data.get("minutes")
    return call_log(
        actor=actor,
        direction=data["direction"],
        duration_seconds=None if minutes is None else minutes * 60,
        outcome=data.get("outcome", ""),
        body=data.get("body", ""),
        **links,
    )


def _log_meeting(actor: User, links: dict[str, Any], data: dict[str, Any]) -> Any:
    minutes = data.get("minutes")
    return meeting_log(
        actor=actor,
        subject=data.get("subject", ""),
        occurred_at=data.get("occurred_at"),
        duration_seconds=None if minutes is None else minutes * 60,
        outcome=data.get("outcome", ""),
        body=data.get("body", ""),
        **links,
    )


def _log_email(actor: User, links: dict[str, Any], data: dict[str, Any]) -> Any:
    return email_log(
        actor=actor,
        direction=data["direction"],
        subject=data.get("subject", ""),
        occurred_at=data.get("occurred_at"),
        body=data.get("body", ""),
        **links,
    )


def _add_note(actor: User, links: dict[str, Any], data: dict[str, Any]) -> Any:
    return note_add(actor=actor, body=data.get("body", ""), **links)


def _schedule_task(actor: User, links: dict[str, Any], data: dict[str, Any]) -> Any:
    return task_create(
        actor=actor,
        title=data.get("title", ""),
        kind=data["kind"],
        due_at=data["due_at"],
        duration_minutes=data.get("duration_minutes"),
        owner=data["owner"],
        **links,
    )


@dataclass(frozen=True)
class QuickAction:
    key: str
    title: str
    form: type[forms.Form]
    run: Callable[[User, dict[str, Any], dict[str, Any]], Any]
    done: str
    record_type: str  # what the action creates (the role needs CREATE on it)
    rename: dict[str, str] = field(default_factory=dict)


QUICK_ACTIONS = [
    QuickAction(
        "call",
        gettext_lazy("Log a call"),
        CallForm,
        _log_call,
        gettext_lazy("Call logged."),
        "activity",
        {"duration_seconds": "minutes"},
    ),
    QuickAction(
        "meeting",
        gettext_lazy("Log a meeting"),
        MeetingForm,
        _log_meeting,
        gettext_lazy("Meeting logged."),
        "activity",
        {"duration_seconds": "minutes"},
    ),
    QuickAction(
        "email", gettext_lazy("Log an email"), EmailLogForm, _log_email, gettext_lazy("Email logged."), "activity"
    ),
    QuickAction("note", gettext_lazy("Add note"), NoteForm, _add_note, gettext_lazy("Note added."), "activity"),
    QuickAction(
        "task", gettext_lazy("Schedule task"), TaskForm, _schedule_task, gettext_lazy("Task scheduled."), "task"
    ),
]


def _quick_action(key: str) -> QuickAction:
    for action in QUICK_ACTIONS:
        if action.key == key:
            return action
    raise Http404


def _blank_forms(actor: User) -> dict[str, forms.Form]:
    tomorrow = timezone.localtime() + timedelta(days=1)
    initial = {"task": {"owner": actor.pk, "due_at": tomorrow.replace(hour=10, minute=0, second=0, microsecond=0)}}
    return {action.key: action.form(initial=initial.get(action.key), prefix=action.key) for action in QUICK_ACTIONS}


# --- the views ----------------------------------------------------------------------


def _record(card: ClientCard, actor: User, pk: int) -> Any:
    try:
        return card.get(actor, pk)
    except RecordNotFound as missing:
        raise Http404(missing.message) from missing


def _can_create(actor: User, record_type: str) -> bool:
    return scope_for(actor, record_type, Action.CREATE) != roles.NONE


def _may_edit(card: ClientCard, actor: User, record: Any) -> bool:
    if card.may_edit is not None and not card.may_edit(record):
        return False
    same = type(record).objects.filter(pk=record.pk)
    return access.visible(same, actor=actor, action=Action.EDIT).exists()


def _timeline_page(card: ClientCard, request: HttpRequest, record: Any):
    """The timeline page the request asks for (`?show=` all, activities or changes; `?before=`)."""
    before = None
    if request.GET.get("before"):
        try:
            before = TimelineCursor.parse(request.GET["before"])
        except ValidationError:
            before = None  # a broken link shows the newest entries
    show = request.GET.get("show", TimelineShow.ALL)
    show = show if show in TimelineShow.values else TimelineShow.ALL
    return timeline(actor=request.user, limit=TIMELINE_PAGE, before=before, show=show, **{card.record_type: record})


def _timeline_context(card: ClientCard, request: HttpRequest, record: Any) -> dict[str, Any]:
    return {
        "timeline": _timeline_page(card, request, record),
        "timeline_url": reverse(f"{card.key}:timeline", args=[record.pk]),
        "card_url": reverse(f"{card.key}:detail", args=[record.pk]),
        "timeline_filters": [{"value": value, "label": label} for value, label in TimelineShow.choices],
    }


def _activity_context(
    card: ClientCard, request: HttpRequest, record: Any, *, bound: tuple[str, forms.Form] | None = None
) -> dict[str, Any]:
    actor = request.user
    action_forms = _blank_forms(actor)
    if bound is not None:
        action_forms[bound[0]] = bound[1]
    actions = [
        {"action": action, "form": action_forms[action.key], "open": bound is not None and bound[0] == action.key}
        for action in QUICK_ACTIONS
        if _can_create(actor, action.record_type)
    ]
    tasks = task_list(actor=actor, status=TaskStatus.OPEN, **{card.record_type: record})[:OPEN_TASKS_SHOWN]
    return {
        "actions": actions,
        "tasks": list(tasks),
        **_timeline_context(card, request, record),
    }


def _card_context(
    card: ClientCard,
    request: HttpRequest,
    record: Any,
    *,
    editing: str = "",
    edit_form: forms.Form | None = None,
    bound: tuple[str, forms.Form] | None = None,
) -> dict[str, Any]:
    may_edit = _may_edit(card, request.user, record)
    groups = [
        group.item(record, request.user, editing=group.key == editing, form=edit_form if group.key == editing else None)
        for group in card.groups
    ]
    context = {
        "card": card,
        "record": record,
        "title": card.title(record),
        "groups": groups,
        "may_edit": may_edit,
        **_activity_context(card, request, record, bound=bound),
        **attachment_section(actor=request.user, record=record),
    }
    if card.more_context is not None:
        context.update(card.more_context(request, record))
    return context


def card_page(request: HttpRequest, card: ClientCard, pk: int) -> HttpResponse:
    record = _record(card, request.user, pk)
    return render(request, card.template, _card_context(card, request, record))


def card_group(request: HttpRequest, card: ClientCard, pk: int, group_key: str) -> HttpResponse:
    """GET: the group (`?edit=1`: its form); POST: save through the update service."""
    group = card.group(group_key)
    record = _record(card, request.user, pk)
    editing = request.method == "POST" or request.GET.get("edit") == "1"
    form = None
    if editing and not _may_edit(card, request.user, record):
        if request.method == "POST":
            messages.error(request, _("Your role doesn't allow changing this record."))
            return _back_to_card(request, card, record, status=403)
        editing = False
    if request.method == "POST":
        # Bound with the record's values as initial, so a form can tell what was changed.
        form = group.make_form(record, request.POST)
        if form.is_valid():
            try:
                data = group.data(form) if group.data is not None else form.cleaned_data
                record = group.save(request.user, record, data)
            except (ValidationError, DomainError) as error:
                errors_onto(form, error, group.rename)
            else:
                if not request.htmx:
                    messages.success(request, _("Saved."))
                    return redirect(reverse(f"{card.key}:detail", args=[record.pk]))
                record = _record(card, request.user, pk)
                form = None
                editing = False
    elif editing:
        form = group.make_form(record)
    if not request.htmx:
        context = _card_context(card, request, record, editing=group.key if editing else "", edit_form=form)
        return render(request, card.template, context)
    context = {
        "card": card,
        "record": record,
        "item": group.item(record, request.user, editing=editing, form=form),
        "may_edit": True,
        "saved": request.method == "POST" and not editing,
    }
    return render(request, "cards/_group.html", context)


def card_timeline(request: HttpRequest, card: ClientCard, pk: int) -> HttpResponse:
    """Older timeline entries (`?before=`: HTMX appends them) or the timeline with another
    filter (`?show=`: HTMX replaces it); without JavaScript the card at that point."""
    record = _record(card, request.user, pk)
    if not request.htmx:
        return card_page(request, card, pk)
    template = "cards/_timeline_entries.html" if request.GET.get("before") else "cards/_timeline.html"
    return render(request, template, _timeline_context(card, request, record))


@require_POST
def card_action(request: HttpRequest, card: ClientCard, pk: int, action_key: str) -> HttpResponse:
    """A quick action (log a call, add note, schedule task) on this record."""
    action = _quick_action(action_key)
    record = _record(card, request.user, pk)
    form = action.form(request.POST, prefix=action.key)
    if form.is_valid():
        try:
            action.run(request.user, {card.record_type: record}, form.cleaned_data)
        except (ValidationError, DomainError) as error:
            errors_onto(form, error, action.rename)
        else:
            if not request.htmx:
                messages.success(request, action.done)
                return redirect(reverse(f"{card.key}:detail", args=[record.pk]))
            context = {"card": card, "record": record, "done": action.done, **_activity_context(card, request, record)}
            return render(request, "cards/_activity.html", context)
    if not request.htmx:
        return render(request, card.template, _card_context(card, request, record, bound=(action.key, form)))
    context = {"card": card, "record": record, **_activity_context(card, request, record, bound=(action.key, form))}
    return render(request, "cards/_activity.html", context)


def _back_to_card(request: HttpRequest, card: ClientCard, record: Any, *, status: int) -> HttpResponse:
    if request.htmx:
        response = HttpResponse(status=status)
        response["HX-Refresh"] = "true"
        return response
    return redirect(reverse(f"{card.key}:detail", args=[record.pk]))


def card_patterns(card: ClientCard) -> list[URLPattern]:
    """The card's addresses, to add to the sub-app's URL patterns (names: detail, group,
    timeline, action)."""

    def detail(request: HttpRequest, pk: int) -> HttpResponse:
        return card_page(request, card, pk)

    def group(request: HttpRequest, pk: int, group_key: str) -> HttpResponse:
        return card_group(request, card, pk, group_key)

    def older(request: HttpRequest, pk: int) -> HttpResponse:
        return card_timeline(request, card, pk)

    def action(request: HttpRequest, pk: int, action_key: str) -> HttpResponse:
        return card_action(request, card, pk, action_key)

    return [
        path("<int:pk>/", login_required(detail), name="detail"),
        path("<int:pk>/fields/<slug:group_key>/", login_required(group), name="group"),
        path("<int:pk>/timeline/", login_required(older), name="timeline"),
        path("<int:pk>/actions/<slug:action_key>/", login_required(action), name="action"),
    ]

"""The signed-in tasks list (`/tasks/`), declared for crm.list_pages: rows from
`task_list` (crm.access applies), bulk reassign through `task_assign`, trash."""

from __future__ import annotations

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy

from crm.activities.models import TaskStatus
from crm.activities.selectors import task_list
from crm.activities.services import task_assign
from crm.list_filters import DATE_INPUT
from crm.list_pages import BaseFilterForm, Column, RecordList, list_page, owner_choices

STATUS_LABELS = dict(TaskStatus.choices)


class TaskFilterForm(BaseFilterForm):
    status = forms.ChoiceField(
        label=gettext_lazy("Status"), choices=[("", gettext_lazy("Any status")), *TaskStatus.choices], required=False
    )
    owner = owner_choices()
    overdue = forms.BooleanField(label=gettext_lazy("Overdue only"), required=False)
    due_from = forms.DateField(label=gettext_lazy("Due from"), required=False, widget=DATE_INPUT)
    due_to = forms.DateField(label=gettext_lazy("Due until"), required=False, widget=DATE_INPUT)


def _task_rows(actor, filters):
    return task_list(
        actor=actor,
        status=filters.get("status"),
        owner=filters.get("owner"),
        overdue=True if filters.get("overdue") else None,
        due_from=filters.get("due_from"),
        due_to=filters.get("due_to"),
        search=filters.get("q", ""),
    )


TASKS = RecordList(
    key="tasks",
    title=gettext_lazy("Tasks"),
    record_type="task",
    filter_form=TaskFilterForm,
    rows=_task_rows,
    # Both follow the due-time indexes; the id breaks ties so pages never overlap.
    sorts={"due": ("due_at", "id"), "-due": ("-due_at", "-id")},
    columns=[
        Column(gettext_lazy("Task")),
        Column(gettext_lazy("Status")),
        Column(gettext_lazy("Assignee")),
        Column(gettext_lazy("Due"), sort="due"),
    ],
    row_template="activities/_task_row.html",
    csv_columns=[
        (gettext_lazy("Task"), lambda task: task.title),
        (gettext_lazy("Kind"), lambda task: task.get_kind_display()),
        (gettext_lazy("Priority"), lambda task: task.get_priority_display()),
        (gettext_lazy("Status"), lambda task: STATUS_LABELS.get(task.status, task.status)),
        (gettext_lazy("Assignee"), lambda task: task.owner.full_name if task.owner else ""),
        (gettext_lazy("Due"), lambda task: task.due_at.isoformat()),
    ],
    assign=lambda actor, task, owner: task_assign(actor=actor, task=task, owner=owner),
    empty_text=gettext_lazy("No tasks here. Schedule calls and meetings from a client card."),
)


@login_required
def task_list_view(request: HttpRequest) -> HttpResponse:
    return list_page(request, TASKS)

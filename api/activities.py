"""Tasks, timeline entries and each client record's timeline, through crm.activities.

Tasks change state only through their services: PATCH changes what a task says, while
`complete`, `reopen`, `cancel`, `reschedule` and `assign` are actions of their own
(each has side effects: reminders stop or restart, the new assignee is told). DELETE
moves a task to the trash like every other record.

`/timeline/?contact=<id>` (or company, deal, lead) is a record's card history through
`crm.activities.selectors.timeline`, paged by its own cursor (`before`), so a
company's timeline also holds its contacts' entries; `/activities/` is the plain,
filterable list of entries. See docs/decisions/0006-api-workspace-resources.md.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param

from api.base import (
    IDEMPOTENCY_HEADER,
    IF_MATCH_HEADER,
    CreateRecordMixin,
    ListRecordsMixin,
    RecordViewSet,
    RetrieveRecordMixin,
    TenantAPIView,
    TrashRecordMixin,
    UpdateRecordMixin,
)
from api.fields import MAX_ID, MemberField, PersonSerializer, VisibleRecordField
from crm.activities.models import ActivityKind, TaskKind, TaskPriority, TaskStatus
from crm.activities.selectors import (
    TASK_ORDERINGS,
    TIMELINE_MAX_PAGE,
    TimelineCursor,
    activity_get,
    activity_list,
    task_get,
    task_list,
    timeline,
)
from crm.activities.services import (
    call_log,
    email_log,
    meeting_log,
    note_add,
    task_assign,
    task_cancel,
    task_complete,
    task_create,
    task_reopen,
    task_reschedule,
    task_update,
)
from crm.clients.selectors import company_get, contact_get
from crm.deals.selectors import deal_get
from crm.leads.selectors import lead_get

LINKS = ("lead", "contact", "company", "deal")
LINK_GETTERS = {
    "lead": lambda actor, pk: lead_get(actor=actor, lead_id=pk),
    "contact": lambda actor, pk: contact_get(actor=actor, contact_id=pk),
    "company": lambda actor, pk: company_get(actor=actor, company_id=pk),
    "deal": lambda actor, pk: deal_get(actor=actor, deal_id=pk),
}


def _id_filter(**kwargs: Any) -> serializers.IntegerField:
    return serializers.IntegerField(required=False, min_value=1, max_value=MAX_ID, **kwargs)


# --- shapes ----------------------------------------------------------------------------


class LinkedRecordsSerializer(serializers.Serializer):
    """The client records an entry or task is about, by id."""

    lead = serializers.IntegerField(source="lead_id", read_only=True, allow_null=True)
    contact = serializers.IntegerField(source="contact_id", read_only=True, allow_null=True)
    company = serializers.IntegerField(source="company_id", read_only=True, allow_null=True)
    deal = serializers.IntegerField(source="deal_id", read_only=True, allow_null=True)


class TaskSerializer(LinkedRecordsSerializer):
    id = serializers.IntegerField(read_only=True)
    title = serializers.CharField(read_only=True)
    description = serializers.CharField(read_only=True)
    kind = serializers.ChoiceField(choices=TaskKind.choices, read_only=True)
    priority = serializers.ChoiceField(choices=TaskPriority.choices, read_only=True)
    status = serializers.ChoiceField(choices=TaskStatus.choices, read_only=True)
    due_at = serializers.DateTimeField(read_only=True)
    duration_minutes = serializers.IntegerField(read_only=True, allow_null=True)
    completed_at = serializers.DateTimeField(read_only=True, allow_null=True)
    owner = PersonSerializer(read_only=True, allow_null=True, help_text="The assignee.")
    created_at = serializers.DateTimeField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)


class LinksInput(serializers.Serializer):
    lead = VisibleRecordField(getter=LINK_GETTERS["lead"], required=False)
    contact = VisibleRecordField(getter=LINK_GETTERS["contact"], required=False)
    company = VisibleRecordField(getter=LINK_GETTERS["company"], required=False)
    deal = VisibleRecordField(getter=LINK_GETTERS["deal"], required=False)


class TaskInput(LinksInput):
    """Shapes only; the services check the values (a blank title, a closed task...)."""

    title = serializers.CharField(max_length=500, allow_blank=True)
    description = serializers.CharField(max_length=20_000, allow_blank=True, required=False)
    kind = serializers.ChoiceField(choices=TaskKind.choices, required=False)
    priority = serializers.ChoiceField(choices=TaskPriority.choices, required=False)
    due_at = serializers.DateTimeField()
    duration_minutes = serializers.IntegerField(
        min_value=1, max_value=1440, required=False, allow_null=True, help_text="A meeting's length."
    )
    owner = MemberField(required=False, allow_null=False, help_text="The assignee; you by default.")


class TaskChangeInput(serializers.Serializer):
    """What PATCH changes; the due time and the assignee have actions of their own."""

    title = serializers.CharField(max_length=500, allow_blank=True, required=False)
    description = serializers.CharField(max_length=20_000, allow_blank=True, required=False)
    kind = serializers.ChoiceField(choices=TaskKind.choices, required=False)
    priority = serializers.ChoiceField(choices=TaskPriority.choices, required=False)
    duration_minutes = serializers.IntegerField(min_value=1, max_value=1440, required=False, allow_null=True)


class RescheduleInput(serializers.Serializer):
    due_at = serializers.DateTimeField()


class AssignInput(serializers.Serializer):
    owner = MemberField(allow_null=False)


class TaskFilter(serializers.Serializer):
    search = serializers.CharField(max_length=200, required=False, allow_blank=True, help_text="Part of the title.")
    owner = MemberField(required=False, help_text="The assignee's id.")
    status = serializers.ChoiceField(choices=TaskStatus.choices, required=False)
    overdue = serializers.BooleanField(
        required=False, allow_null=True, help_text="true: open and past due; false: everything else."
    )
    due_from = serializers.DateField(required=False, help_text="Due on or after this day.")
    due_to = serializers.DateField(required=False, help_text="Due on or before this day.")
    lead = _id_filter()
    contact = _id_filter()
    company = _id_filter()
    deal = _id_filter()
    ordering = serializers.ChoiceField(choices=list(TASK_ORDERINGS), required=False)


class ActivitySerializer(LinkedRecordsSerializer):
    id = serializers.IntegerField(read_only=True)
    kind = serializers.ChoiceField(choices=ActivityKind.choices, read_only=True)
    occurred_at = serializers.DateTimeField(read_only=True)
    author = PersonSerializer(read_only=True, allow_null=True)
    subject = serializers.CharField(read_only=True)
    body = serializers.CharField(read_only=True)
    direction = serializers.CharField(read_only=True, help_text="inbound or outbound (calls, emails); else empty.")
    duration_seconds = serializers.IntegerField(read_only=True, allow_null=True)
    outcome = serializers.CharField(read_only=True)
    quote = serializers.IntegerField(source="quote_id", read_only=True, allow_null=True)
    created_at = serializers.DateTimeField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)


# The fields each kind of entry takes (besides the linked records and occurred_at).
ENTRY_FIELDS = {
    "call": {"direction", "duration_seconds", "outcome", "subject", "body"},
    "email": {"direction", "subject", "body"},
    "meeting": {"subject", "body", "duration_seconds", "outcome"},
    "note": {"body"},
}
ENTRY_KINDS = list(ENTRY_FIELDS)
ENTRY_SERVICES = {"call": call_log, "email": email_log, "meeting": meeting_log, "note": note_add}


class ActivityInput(LinksInput):
    """A person's timeline entry; system entries (stage changes, proposals sent) come from their own services."""

    kind = serializers.ChoiceField(choices=ENTRY_KINDS)
    occurred_at = serializers.DateTimeField(required=False, help_text="When it happened; now by default.")
    subject = serializers.CharField(max_length=1000, allow_blank=True, required=False)
    body = serializers.CharField(max_length=100_000, allow_blank=True, required=False)
    direction = serializers.CharField(
        max_length=20,
        required=False,
        help_text="Calls: inbound or outbound. Emails: sent or received (inbound/outbound accepted).",
    )
    duration_seconds = serializers.IntegerField(required=False, allow_null=True, min_value=0, max_value=2**31 - 1)
    outcome = serializers.CharField(max_length=1000, allow_blank=True, required=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        allowed = ENTRY_FIELDS[attrs["kind"]] | {"kind", "occurred_at", *LINKS}
        stray = sorted(set(attrs) - allowed)
        if stray:
            raise serializers.ValidationError(
                {field: [_("Entries of this kind have no such field.")] for field in stray}
            )
        return attrs


class ActivityFilter(serializers.Serializer):
    kind = serializers.ChoiceField(choices=ActivityKind.choices, required=False)
    author = MemberField(required=False)
    lead = _id_filter()
    contact = _id_filter()
    company = _id_filter()
    deal = _id_filter()
    occurred_from = serializers.DateField(required=False, help_text="On or after this day.")
    occurred_to = serializers.DateField(required=False, help_text="On or before this day.")


class TimelineFilter(serializers.Serializer):
    lead = _id_filter()
    contact = _id_filter()
    company = _id_filter(help_text="A company's timeline also holds its contacts' entries.")
    deal = _id_filter()
    before = serializers.CharField(max_length=200, required=False, help_text="Opaque position from a `next` link.")
    page_size = serializers.IntegerField(required=False, min_value=1, max_value=TIMELINE_MAX_PAGE)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        given = [field for field in LINKS if field in attrs]
        if len(given) != 1:
            raise serializers.ValidationError(
                {"non_field_errors": [_("Name exactly one record: lead, contact, company or deal.")]}
            )
        return attrs


class TimelinePageSerializer(serializers.Serializer):
    next = serializers.URLField(allow_null=True, read_only=True)
    previous = serializers.URLField(allow_null=True, read_only=True, help_text="Always null: timelines page forward.")
    results = ActivitySerializer(many=True, read_only=True)


# --- endpoints -------------------------------------------------------------------------


def _state_action(summary: str, request: Any = None) -> Any:
    return extend_schema(
        summary=summary, request=request, parameters=[IF_MATCH_HEADER], responses={200: TaskSerializer}
    )


@extend_schema_view(
    list=extend_schema(summary="List tasks", parameters=[TaskFilter]),
    retrieve=extend_schema(summary="Get one task"),
    create=extend_schema(summary="Create a task", request=TaskInput, parameters=[IDEMPOTENCY_HEADER]),
    partial_update=extend_schema(
        summary="Change a task's title, description, kind or priority",
        request=TaskChangeInput,
        parameters=[IF_MATCH_HEADER],
    ),
    destroy=extend_schema(summary="Move a task to the trash", parameters=[IF_MATCH_HEADER], responses={204: None}),
    complete=_state_action("Mark a task done (reminders stop)"),
    reopen=_state_action("Open a done or cancelled task again"),
    cancel=_state_action("Cancel an open task (reminders stop)"),
    reschedule=_state_action("Move an open task to a new due time", RescheduleInput),
    assign=_state_action("Give a task to someone (they are told in their inbox)", AssignInput),
)
class TaskViewSet(
    ListRecordsMixin, RetrieveRecordMixin, CreateRecordMixin, UpdateRecordMixin, TrashRecordMixin, RecordViewSet
):
    record_type = "task"
    serializer_class = TaskSerializer
    filter_serializer = TaskFilter
    create_serializer = TaskInput
    update_serializer = TaskChangeInput
    action_permissions = dict.fromkeys(("complete", "reopen", "cancel", "reschedule", "assign"), "edit")

    def records(self, actor, query):
        return task_list(actor=actor, **query)

    def record(self, actor, pk):
        return task_get(actor=actor, task_id=pk)

    def create_record(self, actor, data):
        return task_create(actor=actor, **{"owner": actor, **data})

    def update_record(self, actor, record, data):
        return task_update(actor=actor, task=record, **data)

    def _change(self, service, shape: type | None = None) -> Response:
        task = self.get_object()
        arguments = self.validated(shape) if shape is not None else {}
        with self.edit_guard(task):
            task = service(actor=self.request.user, task=task, **arguments)
        return self.respond(task)

    @action(detail=True, methods=["post"])
    def complete(self, request, pk=None):
        return self._change(task_complete)

    @action(detail=True, methods=["post"])
    def reopen(self, request, pk=None):
        return self._change(task_reopen)

    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        return self._change(task_cancel)

    @action(detail=True, methods=["post"])
    def reschedule(self, request, pk=None):
        return self._change(task_reschedule, RescheduleInput)

    @action(detail=True, methods=["post"])
    def assign(self, request, pk=None):
        return self._change(task_assign, AssignInput)


@extend_schema_view(
    list=extend_schema(
        summary="List timeline entries (calls, emails, meetings, notes...)", parameters=[ActivityFilter]
    ),
    retrieve=extend_schema(summary="Get one timeline entry"),
    create=extend_schema(
        summary="Log a call, email or meeting, or add a note",
        request=ActivityInput,
        parameters=[IDEMPOTENCY_HEADER],
    ),
    destroy=extend_schema(
        summary="Move a timeline entry to the trash", parameters=[IF_MATCH_HEADER], responses={204: None}
    ),
)
class ActivityViewSet(ListRecordsMixin, RetrieveRecordMixin, CreateRecordMixin, TrashRecordMixin, RecordViewSet):
    record_type = "activity"
    serializer_class = ActivitySerializer
    filter_serializer = ActivityFilter
    create_serializer = ActivityInput

    def records(self, actor, query):
        return activity_list(actor=actor, **query)

    def record(self, actor, pk):
        return activity_get(actor=actor, activity_id=pk)

    def create_record(self, actor, data):
        data = dict(data)
        kind = data.pop("kind")
        if kind in ("call", "email"):
            data.setdefault("direction", "")
        if kind in ("email", "meeting"):
            data.setdefault("subject", "")
        if kind == "note":
            data.setdefault("body", "")
        return ENTRY_SERVICES[kind](actor=actor, **data)


class TimelineView(TenantAPIView):
    """One record's history, newest first (see the module docstring)."""

    record_type = "activity"

    @extend_schema(
        summary="A lead's, contact's, company's or deal's timeline, newest first",
        description=(
            "Name exactly one record. A company's timeline also holds its contacts' entries. "
            "Paged by `before` (from the `next` link); an unknown or invisible record answers 404."
        ),
        parameters=[TimelineFilter],
        responses={200: TimelinePageSerializer, 404: OpenApiResponse(description="not_found")},
    )
    def get(self, request):
        query = TimelineFilter(data=request.query_params)
        query.is_valid(raise_exception=True)
        data = query.validated_data
        (field,) = [name for name in LINKS if name in data]
        record = LINK_GETTERS[field](request.user, data[field])
        before = TimelineCursor.parse(data["before"]) if data.get("before") else None
        page = timeline(actor=request.user, **{field: record}, limit=data.get("page_size", 50), before=before)
        next_link = None
        if page.next_before is not None:
            next_link = replace_query_param(request.build_absolute_uri(), "before", page.next_before.encode())
        body = {
            "next": next_link,
            "previous": None,
            "results": ActivitySerializer(page.activities, many=True).data,
        }
        return Response(body, status=status.HTTP_200_OK)

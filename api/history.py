"""A record's field history: `GET /api/v1/<records>/<id>/history/`, through crm.history.

Contacts, companies, leads, deals, products and quotes each have one (a deal's stage moves
are among its changes; the stage history with time spent per stage is
`/deals/<id>/stage-history/`). The record comes
from its own selector, so another workspace's, a trashed or an invisible record answers
404 like its detail does; the role needs VIEW on that record type. Entries are newest
first, paged by cursor like every list (`{next, previous, results}`), and read in the
caller's language (`field_label`, `old_display`, `new_display`), next to the stored
JSON values. The routes are explicit in api/urls.py rather than actions of the record
viewsets, so each resource's module stays about its records.
"""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any, ClassVar

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import serializers

from api.base import TenantAPIView
from api.fields import PersonSerializer
from api.pagination import MAX_PAGE_SIZE, KeysetPagination
from api.schema import ErrorSerializer
from crm.history.models import Channel
from crm.history.selectors import history_entries, history_record_get, record_history_queryset

# record type → the resource's path segment (api/urls.py)
HISTORY_RESOURCES = {
    "contact": "contacts",
    "company": "companies",
    "lead": "leads",
    "deal": "deals",
    "product": "products",
    "quote": "quotes",
}
# Every record's changes are at `<records>/<id>/history/` (issue #15). Until then a deal's
# `history/` was its stage history; that list moved to `deals/<id>/stage-history/`
# (docs/decisions/0021-field-history.md says why).
HISTORY_PATHS = dict.fromkeys(HISTORY_RESOURCES, "history")


@extend_schema_field(OpenApiTypes.DATETIME)
class MomentField(serializers.Field):
    """A date and time (ISO 8601, without a zone: the workspace's), or a bare date (from
    the start of that day); years 1900-2999."""

    default_error_messages = {
        "invalid": _("Give a date (2026-12-31) or a date and time (2026-12-31T09:30:00+03:00)."),
        "out_of_range": _("Give a date between the years 1900 and 2999."),
    }

    def to_internal_value(self, data: Any) -> datetime:
        if not isinstance(data, str):
            self.fail("invalid")
        text = data.strip()
        try:
            moment = datetime.fromisoformat(text) if "T" in text or " " in text else None
            if moment is None:
                moment = datetime.combine(date.fromisoformat(text), time.min)
        except ValueError:
            self.fail("invalid")
        if not 1900 <= moment.year <= 2999:
            self.fail("out_of_range")
        return timezone.make_aware(moment) if timezone.is_naive(moment) else moment

    def to_representation(self, value: Any) -> str:
        return value.isoformat()


class HistoryFilter(serializers.Serializer):
    field = serializers.CharField(
        required=False,
        max_length=80,
        help_text="Only this field: a field name (`job_title`, `owner`, `status`), `custom_fields.<key>`, "
        "`tags`, or an event (`trashed`, `merged_from`, `merged_into`).",
    )
    channel = serializers.ChoiceField(choices=Channel.choices, required=False, help_text="Only changes made this way.")
    since = MomentField(
        required=False, help_text="Only changes at or after this time (a bare date: that whole day on)."
    )


class HistoryEntrySerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    field = serializers.CharField(
        read_only=True, help_text="The field's name, `custom_fields.<key>`, `tags`, or an event (`trashed`...)."
    )
    field_label = serializers.CharField(read_only=True, help_text="What the field is called, in your language.")
    old_value = serializers.JSONField(
        read_only=True, allow_null=True, help_text="As stored: references by id, dates in ISO 8601, decimals as text."
    )
    new_value = serializers.JSONField(read_only=True, allow_null=True)
    old_display = serializers.CharField(read_only=True, help_text="The old value as people read it; empty for none.")
    new_display = serializers.CharField(read_only=True)
    actor = PersonSerializer(read_only=True, allow_null=True, help_text="Who made the change; null for the system.")
    channel = serializers.ChoiceField(choices=Channel.choices, read_only=True)
    batch = serializers.CharField(
        read_only=True, help_text="Changes made together share it: `import:<id>`, `bulk:<id>`, `merge:<id>`; or empty."
    )
    created_at = serializers.DateTimeField(read_only=True)


class HistoryPageSerializer(serializers.Serializer):
    next = serializers.URLField(allow_null=True, read_only=True)
    previous = serializers.URLField(allow_null=True, read_only=True)
    results = HistoryEntrySerializer(many=True, read_only=True)


PAGE_PARAMETERS = [
    OpenApiParameter("cursor", OpenApiTypes.STR, description="Opaque position from a `next` or `previous` link."),
    OpenApiParameter(
        "page_size",
        {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE},
        description=f"Entries per page, 1 to {MAX_PAGE_SIZE} (default 50).",
    ),
]


class RecordHistoryView(TenantAPIView):
    """One record's field history, newest first (a subclass per record type names it)."""

    record_type: ClassVar[str]

    def history(self, request, pk: str):
        query = HistoryFilter(data=request.query_params)
        query.is_valid(raise_exception=True)
        record = history_record_get(actor=request.user, record_type=self.record_type, record_id=int(pk))
        filters = {key: value for key, value in query.validated_data.items() if value not in (None, "")}
        changes = record_history_queryset(actor=request.user, record=record, **filters)
        paginator = KeysetPagination()
        page = paginator.paginate_queryset(changes, request, view=self)
        return paginator.get_paginated_response(HistoryEntrySerializer(history_entries(page), many=True).data)


def _history_view(record_type: str, plural: str) -> type[RecordHistoryView]:
    def get(self, request, pk: str):
        return self.history(request, pk)

    schema = extend_schema(
        summary=f"The field history of one of the {plural}, newest first",
        description=(
            "Every change to the record's fields (custom fields and tags included), and what happened to it "
            "(moved to the trash, restored, merged): who, when, through which channel, from what to what. "
            "Values come as stored (`old_value`, `new_value`) and as people read them in your language "
            "(`old_display`, `new_display`). Another workspace's, a trashed or an invisible record answers 404."
        ),
        parameters=[HistoryFilter, *PAGE_PARAMETERS],
        responses={
            200: HistoryPageSerializer,
            400: OpenApiResponse(ErrorSerializer, description="validation_error: a filter or the cursor is not valid"),
        },
        tags=[plural],
    )
    name = f"{plural.title()}HistoryView"
    return type(
        name, (RecordHistoryView,), {"record_type": record_type, "get": schema(get), "__doc__": f"History of {plural}."}
    )


HISTORY_VIEWS = {record_type: _history_view(record_type, plural) for record_type, plural in HISTORY_RESOURCES.items()}

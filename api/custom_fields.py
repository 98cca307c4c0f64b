"""Custom fields over the API: their definitions (`/custom-fields/`), and the
`custom_fields` object every contact, company, lead and deal carries.

- Definitions: any member lists and reads them (an integration needs to know the
  fields); adding, changing, removing (DELETE: restorable for 30 days) and restoring
  need the `settings` power, checked before the body is read.
- On records: the output holds every live field's key, `null` when empty, in the
  stored form (numbers as numbers, dates as ISO text, a choice as its key, a multiple
  choice as a list of keys); the input is validated by the create/update services,
  whose errors come back under `custom_fields.<key>`. On POST, required fields must be
  given (as in the web UI); on PATCH only the keys sent change.
- Lists take `cf.<key>` filters and `ordering=cf.<key>` (crm.custom_fields.queries).
- OpenAPI: a generic typed object on every record and, when the schema is served on a
  workspace's host, that workspace's own fields as its properties (a postprocessing hook).
"""

from __future__ import annotations

import json
from typing import Any, ClassVar

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import connection
from django.db.models import QuerySet
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field, extend_schema_view
from rest_framework import exceptions, serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts import roles
from accounts.policy import has_capability
from api.base import (
    IDEMPOTENCY_HEADER,
    IF_MATCH_HEADER,
    ListRecordsMixin,
    RecordViewSet,
    RetrieveRecordMixin,
    UpdateRecordMixin,
)
from api.pagination import InvalidCursor, KeysetPagination
from crm.custom_fields.models import CHOICE_KINDS, CustomField, Entity, FieldKind
from crm.custom_fields.queries import (
    CustomSort,
    filters_apply,
    filters_from_params,
    sort_annotate,
    sort_from_param,
    sortable_fields,
    sorted_page_ids,
    values_by_key,
)
from crm.custom_fields.selectors import (
    custom_field_get,
    custom_field_purge_date,
    custom_fields_for,
    custom_fields_removed,
)
from crm.custom_fields.services import (
    custom_field_create,
    custom_field_remove,
    custom_field_restore,
    custom_field_update,
    custom_fields_reorder,
)
from crm.selectors import workspace_settings

# --- values on records -------------------------------------------------------------------

VALUE_SCHEMA = {
    "nullable": True,
    "oneOf": [
        {"type": "string"},
        {"type": "number"},
        {"type": "boolean"},
        {"type": "array", "items": {"type": "string"}},
    ],
}
GENERIC_SCHEMA = {
    "type": "object",
    "description": (
        "The workspace's custom fields, key: value (GET /api/v1/custom-fields/ lists them). "
        "Text, link, email and phone (E.164) as strings; number and money as numbers; date as "
        "YYYY-MM-DD; yes/no as booleans; a choice as its value's key; a multiple choice as a list "
        "of keys. null: no value. On input any form the field accepts (a choice by its label, "
        "`31.12.2024`, `1 234,50`); null or an empty string clears a value."
    ),
    "additionalProperties": VALUE_SCHEMA,
}
COMPONENT = {
    Entity.CONTACT: "ContactCustomFields",
    Entity.COMPANY: "CompanyCustomFields",
    Entity.LEAD: "LeadCustomFields",
    Entity.DEAL: "DealCustomFields",
}
_LIVE_CACHE = "_custom_fields_live"


def live_fields(request: Any, entity: str) -> list[CustomField]:
    """The entity's live fields, read once per request."""
    cache = getattr(request, _LIVE_CACHE, None) if request is not None else None
    if cache is None:
        cache = {}
        if request is not None:
            setattr(request, _LIVE_CACHE, cache)
    if entity not in cache:
        cache[entity] = custom_fields_for(entity)
    return cache[entity]


class CustomFieldValues(serializers.Field):
    """`custom_fields` of a record: out, every live field's value; in, an object the
    service cleans."""

    entity: ClassVar[str] = ""

    def to_representation(self, value: Any) -> dict[str, Any]:
        request = self.context.get("request")
        return values_by_key(live_fields(request, self.entity), value)

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        if not isinstance(data, dict):
            raise serializers.ValidationError(_("Send the custom fields as an object of key: value."))
        if len(data) > 200:
            raise serializers.ValidationError(_("Send at most 200 custom fields at once."))
        return data


def _values_field(entity: str) -> type[CustomFieldValues]:
    name = COMPONENT[entity]
    field_class = type(f"{name}Field", (CustomFieldValues,), {"entity": entity})
    return extend_schema_field(GENERIC_SCHEMA, component_name=name)(field_class)


ContactCustomFields = _values_field(Entity.CONTACT)
CompanyCustomFields = _values_field(Entity.COMPANY)
LeadCustomFields = _values_field(Entity.LEAD)
DealCustomFields = _values_field(Entity.DEAL)

ORDERING_HELP = "Or cf.<key> / -cf.<key> for a filterable custom field (records without a value come last)."


class OrderingField(serializers.ChoiceField):
    """`ordering`: one of the selector's keys, or `cf.<key>` / `-cf.<key>` (the viewset
    checks the field; the workspace's schema lists its sortable fields)."""

    def __init__(self, choices: list[str], **kwargs: Any):
        kwargs.setdefault("help_text", ORDERING_HELP)
        super().__init__(choices=choices, **kwargs)

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, str) and data.lstrip("-").startswith("cf.") and len(data) <= 60:
            return data
        return super().to_internal_value(data)


FEW_MATCHES = 10_000


def _estimated_rows(queryset: QuerySet) -> float:
    """The planner's estimate of how many rows `queryset` holds (EXPLAIN, nothing run)."""
    sql, params = queryset.order_by().values("pk").query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        plan = cursor.fetchone()[0]
    plan = json.loads(plan) if isinstance(plan, str) else plan
    return float(plan[0]["Plan"]["Plan Rows"])


class CustomFieldPagination(KeysetPagination):
    """Keyset pages; ordered by a custom field (the view's `custom_sort`), the two-part
    walk of crm.custom_fields.queries.sorted_page_ids (then `previous` is null); filtered
    by custom fields, few matches sorted on their own."""

    def paginate_queryset(self, queryset: QuerySet, request, view=None) -> list:
        self.view = view
        sort = getattr(view, "custom_sort", None)
        if sort is None:
            return super().paginate_queryset(queryset, request, view)
        self.request = request
        self.page_size = self._page_size(request)
        after = self._custom_after(request.query_params.get(self.cursor_query_param))
        ids = sorted_page_ids(queryset, sort, after=after, limit=self.page_size + 1)
        more = len(ids) > self.page_size
        ids = ids[: self.page_size]
        by_id = queryset.order_by().in_bulk(ids) if ids else {}
        rows = [by_id[pk] for pk in ids if pk in by_id]
        self.next_values = [getattr(rows[-1], sort.alias), rows[-1].pk] if rows and more else None
        self.previous_values = None
        return rows

    def page_ids(self, queryset: QuerySet, keys: list, limit: int) -> list[Any]:
        """With custom field filters, few matches are found first and sorted on their own
        (as the web lists do, decision 0015). PostgreSQL otherwise walks the order's index
        expecting the matches to turn up evenly, and a sales rep's rare combination (his
        contacts with a 2% value: 1,540 of a million) read 26,000 rows of the name index
        for a page (0.7 s). "Few" is the planner's own estimate, which the fields'
        statistics (crm.custom_fields.indexes) make reliable; no extra count is run."""
        view = getattr(self, "view", None)
        if not getattr(view, "custom_filtered", False) or _estimated_rows(queryset) > FEW_MATCHES:
            return super().page_ids(queryset, keys, limit)
        paths = [key.path for key in keys]
        sql, params = queryset.order_by().values_list("pk", *paths).query.sql_with_params()
        columns = ", ".join(f"c{index}" for index in range(len(paths) + 1))
        sort = ", ".join(
            f"c{index} {'DESC' if key.descending else 'ASC'} NULLS {'LAST' if key.nulls_last else 'FIRST'}"
            for index, key in enumerate(keys, start=1)
        )
        # Only the ORM's compiled SQL (its values stay parameters) and fixed column names.
        query = f"SELECT c0 FROM ({sql} OFFSET 0) AS matches ({columns}) ORDER BY {sort} LIMIT %s"  # noqa: S608
        with connection.cursor() as cursor:
            cursor.execute(query, [*params, limit])
            return [pk for (pk,) in cursor.fetchall()]

    def _custom_after(self, cursor: str | None) -> tuple[Any, int] | None:
        if not cursor:
            return None
        backwards, values = self._decode(cursor, 2)
        if backwards or not isinstance(values[1], int) or isinstance(values[1], bool):
            raise InvalidCursor()
        return values[0], values[1]


class CustomFieldListMixin:
    """For record viewsets: custom field filters and ordering on the list. Set
    `custom_entity`; `records()` passes its selector's queryset through `custom_records`."""

    custom_entity: ClassVar[str] = ""
    pagination_class = CustomFieldPagination

    def filters(self) -> dict[str, Any]:
        query = super().filters()  # type: ignore[misc]
        self.custom_sort: CustomSort | None = None
        ordering = query.get("ordering") or ""
        if not ordering.lstrip("-").startswith("cf."):
            return query
        try:
            self.custom_sort = sort_from_param(ordering, fields=live_fields(self.request, self.custom_entity))  # type: ignore[attr-defined]
        except DjangoValidationError as error:
            raise exceptions.ValidationError({"ordering": error.messages}) from error
        query.pop("ordering")
        return query

    def custom_records(self, queryset: QuerySet) -> QuerySet:
        request = self.request  # type: ignore[attr-defined]
        params = [(name, value) for name in request.query_params for value in request.query_params.getlist(name)]
        if any(name.startswith("cf.") for name, _value in params):
            try:
                custom = filters_from_params(
                    params,
                    fields=live_fields(request, self.custom_entity),
                    region=workspace_settings().default_phone_region,
                )
            except DjangoValidationError as error:
                raise exceptions.ValidationError(error.message_dict) from error
            queryset = filters_apply(queryset, custom)
            self.custom_filtered = bool(custom)
        sort = getattr(self, "custom_sort", None)
        return sort_annotate(queryset, sort) if sort is not None else queryset


# --- definitions -------------------------------------------------------------------------


class ChoiceSerializer(serializers.Serializer):
    value = serializers.CharField(help_text="Stable key stored on records")
    label = serializers.CharField()
    labels = serializers.DictField(child=serializers.CharField(), help_text="The label in other languages")


class CustomFieldSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    entity = serializers.ChoiceField(choices=Entity.choices, read_only=True)
    key = serializers.CharField(read_only=True, help_text="The name in `custom_fields`, filters and imports")
    label = serializers.CharField(read_only=True)
    label_translations = serializers.DictField(child=serializers.CharField(), read_only=True)
    label_localized = serializers.SerializerMethodField(help_text="The label in the caller's language")
    kind = serializers.ChoiceField(choices=FieldKind.choices, read_only=True)
    required = serializers.BooleanField(read_only=True)
    position = serializers.IntegerField(read_only=True)
    help_text = serializers.CharField(read_only=True)
    choices = ChoiceSerializer(many=True, read_only=True)
    currency = serializers.CharField(read_only=True, help_text="Money fields: the currency of every value")
    searchable = serializers.BooleanField(read_only=True, help_text="Found by quick search")
    filterable = serializers.BooleanField(read_only=True, help_text="Lists filter (ranges, contains) and sort by it")
    removed_at = serializers.DateTimeField(read_only=True, allow_null=True)
    purge_after = serializers.SerializerMethodField(help_text="A removed field's values are deleted for good then")
    created_at = serializers.DateTimeField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)

    def get_label_localized(self, field: CustomField) -> str:
        return field.label_in()

    def get_purge_after(self, field: CustomField) -> str | None:
        when = custom_field_purge_date(field)
        return when.isoformat() if when else None


class ChoiceInput(serializers.Serializer):
    value = serializers.CharField(
        max_length=40, required=False, allow_blank=True, help_text="Keep it to keep records' values"
    )
    label = serializers.CharField(max_length=100)
    labels = serializers.DictField(child=serializers.CharField(max_length=100, allow_blank=True), required=False)


class CustomFieldUpdateInput(serializers.Serializer):
    """Shapes only; crm.custom_fields.services cleans and checks."""

    label = serializers.CharField(max_length=200, allow_blank=True)
    label_translations = serializers.DictField(child=serializers.CharField(max_length=200, allow_blank=True))
    required = serializers.BooleanField()
    help_text = serializers.CharField(max_length=500, allow_blank=True)
    choices = serializers.ListField(child=ChoiceInput(), max_length=300)
    searchable = serializers.BooleanField()
    filterable = serializers.BooleanField()


class CustomFieldInput(CustomFieldUpdateInput):
    entity = serializers.ChoiceField(choices=Entity.choices)
    kind = serializers.ChoiceField(choices=FieldKind.choices)
    key = serializers.CharField(max_length=60, required=False, allow_blank=True, help_text="Default: from the label")
    label = serializers.CharField(max_length=200, allow_blank=True)
    label_translations = serializers.DictField(
        child=serializers.CharField(max_length=200, allow_blank=True), required=False
    )
    required = serializers.BooleanField(required=False, default=False)
    help_text = serializers.CharField(max_length=500, allow_blank=True, required=False)
    choices = serializers.ListField(child=ChoiceInput(), max_length=300, required=False)
    currency = serializers.CharField(max_length=3, allow_blank=True, required=False, help_text="Money only")
    searchable = serializers.BooleanField(required=False, default=False)
    filterable = serializers.BooleanField(required=False, default=False)


class CustomFieldFilter(serializers.Serializer):
    entity = serializers.ChoiceField(choices=Entity.choices, required=False)
    removed = serializers.BooleanField(
        required=False, default=False, help_text="true: the removed fields still restorable (30 days)"
    )


class CustomFieldReorderInput(serializers.Serializer):
    entity = serializers.ChoiceField(choices=Entity.choices)
    ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=2**63 - 1),
        max_length=200,
        help_text="Every live field of the record type, once, in the new order",
    )


FIXED_AFTER_CREATE = ("entity", "key", "kind", "currency")


@extend_schema_view(
    list=extend_schema(summary="List custom field definitions", parameters=[CustomFieldFilter]),
    retrieve=extend_schema(summary="Get one custom field definition (removed ones too)"),
    create=extend_schema(
        summary="Add a custom field (administrators)", request=CustomFieldInput, parameters=[IDEMPOTENCY_HEADER]
    ),
    partial_update=extend_schema(
        summary="Change a custom field's label, translations, help, choices, required or flags (administrators)",
        request=CustomFieldUpdateInput,
        parameters=[IF_MATCH_HEADER],
    ),
    destroy=extend_schema(
        summary="Remove a custom field; its values stay restorable for 30 days (administrators)",
        parameters=[IF_MATCH_HEADER],
        responses={204: None},
    ),
    restore=extend_schema(
        summary="Restore a removed custom field with its values (administrators)",
        request=None,
        responses={200: CustomFieldSerializer},
        parameters=[IDEMPOTENCY_HEADER],
    ),
    reorder=extend_schema(
        summary="Put a record type's custom fields in a new order (administrators)",
        request=CustomFieldReorderInput,
        responses={200: CustomFieldSerializer(many=True)},
        parameters=[IDEMPOTENCY_HEADER],
    ),
)
class CustomFieldViewSet(ListRecordsMixin, RetrieveRecordMixin, UpdateRecordMixin, RecordViewSet):
    serializer_class = CustomFieldSerializer
    filter_serializer = CustomFieldFilter
    update_serializer = CustomFieldUpdateInput

    def records(self, actor, query):
        if query.get("removed"):
            queryset = custom_fields_removed(query.get("entity"))
        else:
            queryset = CustomField.objects.order_by("entity", "position", "id")
            if query.get("entity"):
                queryset = queryset.filter(entity=query["entity"])
        return queryset

    def record(self, actor, pk):
        return custom_field_get(pk, include_removed=True)

    def _require_admin(self) -> None:
        if not has_capability(self.request.user, roles.SETTINGS):
            raise exceptions.PermissionDenied(
                _("Your role doesn't allow this (%(power)s). Ask a workspace administrator.")
                % {"power": roles.CAPABILITY_LABELS[roles.SETTINGS]}
            )

    def create(self, request, *args, **kwargs) -> Response:
        self._require_admin()
        data = self.validated(CustomFieldInput)
        field = custom_field_create(actor=request.user, **data)
        return self.respond(field, status_code=status.HTTP_201_CREATED)

    def partial_update(self, request, *args, **kwargs) -> Response:
        self._require_admin()
        fixed = [name for name in FIXED_AFTER_CREATE if isinstance(request.data, dict) and name in request.data]
        if fixed:
            raise exceptions.ValidationError(
                {
                    name: [_("A field's record type, key, kind and currency cannot change; add a new field instead.")]
                    for name in fixed
                }
            )
        return super().partial_update(request, *args, **kwargs)

    def update_record(self, actor, record, data):
        if record.is_removed:
            raise exceptions.ValidationError({"non_field_errors": [_("Restore this field before changing it.")]})
        if "choices" in data and record.kind not in CHOICE_KINDS:
            raise exceptions.ValidationError({"choices": [_("Only choice fields have choices.")]})
        return custom_field_update(actor=actor, field=record, **data)

    def destroy(self, request, *args, **kwargs) -> Response:
        self._require_admin()
        field = self.get_object()
        with self.edit_guard(field):
            custom_field_remove(actor=request.user, field=field)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @action(detail=True, methods=["post"])
    def restore(self, request, pk=None) -> Response:
        self._require_admin()
        field = custom_field_restore(actor=request.user, field=self.get_object())
        return self.respond(field)

    @action(detail=False, methods=["post"])
    def reorder(self, request) -> Response:
        self._require_admin()
        data = self.validated(CustomFieldReorderInput)
        fields = custom_fields_reorder(actor=request.user, entity=data["entity"], field_ids=data["ids"])
        return Response(CustomFieldSerializer(fields, many=True, context=self.get_serializer_context()).data)


# --- OpenAPI: the workspace's own fields -----------------------------------------------------


def _property_schema(field: CustomField) -> dict[str, Any]:
    kind = field.kind
    if kind in (FieldKind.NUMBER, FieldKind.MONEY):
        schema: dict[str, Any] = {"type": "number"}
    elif kind == FieldKind.BOOLEAN:
        schema = {"type": "boolean"}
    elif kind == FieldKind.DATE:
        schema = {"type": "string", "format": "date"}
    elif kind == FieldKind.CHOICE:
        schema = {"type": "string", "enum": [choice["value"] for choice in field.choices]}
    elif kind == FieldKind.MULTI_CHOICE:
        schema = {"type": "array", "items": {"type": "string", "enum": [choice["value"] for choice in field.choices]}}
    elif kind == FieldKind.EMAIL:
        schema = {"type": "string", "format": "email"}
    elif kind == FieldKind.LINK:
        schema = {"type": "string", "format": "uri"}
    else:
        schema = {"type": "string"}
    description = field.label
    if field.help_text:
        description = f"{description}. {field.help_text}"
    if field.required:
        description = f"{description} (required when creating)"
    if kind == FieldKind.MONEY:
        description = f"{description} ({field.currency})"
    return {**schema, "nullable": True, "title": field.label, "description": description}


def workspace_fields_schema_hook(result: dict, generator, request, public) -> dict:
    """drf-spectacular postprocessing: on a workspace's host, each record's
    `custom_fields` component lists that workspace's live fields as typed properties
    (others stay allowed as the generic typed values)."""
    if connection.schema_name == "public" or getattr(connection, "tenant", None) is None:
        return result
    schemas = result.get("components", {}).get("schemas", {})
    paths = result.get("paths", {})
    for entity, name in COMPONENT.items():
        fields = custom_fields_for(entity)
        for component in (name, f"{name}Request", f"Patched{name}Request"):
            if component in schemas:
                schemas[component] = {
                    **schemas[component],
                    "properties": {field.key: _property_schema(field) for field in fields},
                }
        sortable = [f"{sign}cf.{field.key}" for field in sortable_fields(fields) for sign in ("", "-")]
        operation = paths.get(f"/api/v1/{LIST_PATHS[entity]}/", {}).get("get", {})
        for parameter in operation.get("parameters", []):
            if parameter.get("name") == "ordering" and "enum" in parameter.get("schema", {}):
                parameter["schema"] = {**parameter["schema"], "enum": [*parameter["schema"]["enum"], *sortable]}
    return result


LIST_PATHS = {Entity.CONTACT: "contacts", Entity.COMPANY: "companies", Entity.LEAD: "leads", Entity.DEAL: "deals"}


CUSTOM_FILTER_PARAMETERS = [
    OpenApiParameter(
        "cf.<key>",
        str,
        OpenApiParameter.QUERY,
        description=(
            "Custom field filters (replace <key>): `cf.<key>=value` equality (a choice by key or "
            "label; a multiple choice holds it; yes/no `false` means not yes), `cf.<key>__from` / "
            "`cf.<key>__to` (number, money, date; filterable fields), `cf.<key>__contains` (text; "
            "filterable; 3+ characters), `cf.<key>__empty=true|false`."
        ),
    )
]

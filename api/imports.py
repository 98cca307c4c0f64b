"""Imports over the API: upload a file, check and change the mapping, preview, start,
follow the progress, read the rejected rows, undo; saved mapping templates.

An import is seen by the person who started it and by administrators; another
person's or another workspace's import answers 404. Importing needs the role's
`create` on the record type (checked by crm.imports.services).
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.parsers import JSONParser, MultiPartParser
from rest_framework.response import Response

from api.base import IDEMPOTENCY_HEADER, ListRecordsMixin, RecordViewSet, RetrieveRecordMixin
from api.fields import PersonSerializer
from crm.imports.mapping import NAME_ORDERS, targets_for
from crm.imports.models import Entity, FileFormat, ImportStatus
from crm.imports.preview import import_preview
from crm.imports.readers import DELIMITERS, ENCODINGS
from crm.imports.selectors import import_get, import_list, rejected_rows, template_get, templates_for
from crm.imports.services import (
    import_cancel,
    import_configure,
    import_discard,
    import_start,
    import_template_create,
    import_template_delete,
    import_undo,
    import_upload,
    undo_available,
)
from crm.imports.uploads import declared_too_large, limit_uploads
from crm.imports.views import report_response
from crm.limits import PlanLimitReached

# --- shapes ----------------------------------------------------------------------------------


class MappingEntrySerializer(serializers.Serializer):
    column = serializers.IntegerField(min_value=0, help_text="The column's position in the file, from 0.")
    header = serializers.CharField(read_only=True)
    target = serializers.CharField(
        allow_blank=True, help_text="A field of the record type, `custom_fields.<key>`, or empty to ignore the column."
    )
    transform = serializers.CharField(
        allow_blank=True,
        required=False,
        help_text=(
            f"Full name: {' | '.join(NAME_ORDERS)}; dates: auto | dmy | mdy | ymd; phones: a two-letter region."
        ),
    )


class CountsSerializer(serializers.Serializer):
    created = serializers.IntegerField(source="created_count")
    updated = serializers.IntegerField(source="updated_count")
    skipped = serializers.IntegerField(source="skipped_count")
    rejected = serializers.IntegerField(source="rejected_count")
    processed = serializers.IntegerField(source="processed_rows")


class ImportSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    entity = serializers.ChoiceField(choices=Entity.choices, read_only=True)
    status = serializers.ChoiceField(choices=ImportStatus.choices, read_only=True)
    file_name = serializers.CharField(source="original_name", read_only=True)
    size_bytes = serializers.IntegerField(read_only=True)
    file_format = serializers.ChoiceField(choices=FileFormat.choices, read_only=True)
    encoding = serializers.CharField(read_only=True)
    delimiter = serializers.CharField(read_only=True)
    headers = serializers.ListField(child=serializers.CharField(), read_only=True)
    sample_rows = serializers.ListField(child=serializers.ListField(child=serializers.CharField()), read_only=True)
    total_rows = serializers.IntegerField(read_only=True)
    mapping = MappingEntrySerializer(many=True, read_only=True)
    options = serializers.DictField(read_only=True)
    warnings = serializers.ListField(child=serializers.CharField(), read_only=True)
    counts = CountsSerializer(source="*", read_only=True)
    progress = serializers.IntegerField(source="percent", read_only=True, help_text="Percent of rows processed.")
    error = serializers.CharField(read_only=True)
    error_code = serializers.CharField(read_only=True)
    created_by = PersonSerializer(read_only=True, allow_null=True)
    created_at = serializers.DateTimeField(read_only=True)
    started_at = serializers.DateTimeField(read_only=True, allow_null=True)
    finished_at = serializers.DateTimeField(read_only=True, allow_null=True)
    undo_deadline = serializers.DateTimeField(read_only=True, allow_null=True)
    can_undo = serializers.SerializerMethodField()
    undone_at = serializers.DateTimeField(read_only=True, allow_null=True)
    undo_outcome = serializers.DictField(read_only=True)

    def get_can_undo(self, job) -> bool:
        return undo_available(job)


class UploadInput(serializers.Serializer):
    file = serializers.FileField(allow_empty_file=True, use_url=False)
    entity = serializers.ChoiceField(choices=Entity.choices)
    encoding = serializers.ChoiceField(choices=ENCODINGS, required=False, help_text="Leave out to detect it.")
    delimiter = serializers.ChoiceField(choices=DELIMITERS, required=False, help_text="Leave out to detect it.")


class ConfigureInput(serializers.Serializer):
    mapping = serializers.ListField(child=serializers.DictField(), required=False)
    options = serializers.DictField(
        required=False,
        help_text=(
            "mode (skip | update | create), match (list of email, phone, name, sku), date_order, phone_region, "
            "default_owner (user id), pipeline (id), create_companies, only_rows_that_fit."
        ),
    )
    encoding = serializers.ChoiceField(choices=ENCODINGS, required=False)
    delimiter = serializers.ChoiceField(choices=DELIMITERS, required=False)


class ProblemSerializer(serializers.Serializer):
    column = serializers.CharField()
    message = serializers.CharField()
    code = serializers.CharField()


class PreviewRowSerializer(serializers.Serializer):
    number = serializers.IntegerField(help_text="The row's number in the file (the header is row 1).")
    action = serializers.ChoiceField(choices=["created", "updated", "skipped", "rejected"])
    reason = serializers.CharField()
    values = serializers.ListField(child=serializers.CharField())
    problems = ProblemSerializer(many=True)


class PreviewSerializer(serializers.Serializer):
    columns = serializers.ListField(child=serializers.CharField())
    rows = PreviewRowSerializer(many=True)


class RejectedRowSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    row_number = serializers.IntegerField()
    column = serializers.CharField()
    reason = serializers.CharField()
    code = serializers.CharField()
    values = serializers.ListField(child=serializers.CharField(), help_text="The row's cells as they were in the file.")


class RejectedPageSerializer(serializers.Serializer):
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = RejectedRowSerializer(many=True)


class TargetSerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()


class TargetListFilter(serializers.Serializer):
    entity = serializers.ChoiceField(choices=Entity.choices)


class ImportFilter(serializers.Serializer):
    entity = serializers.ChoiceField(choices=Entity.choices, required=False)
    status = serializers.ChoiceField(choices=ImportStatus.choices, required=False)


def _plan_limit_response(error: PlanLimitReached) -> Response:
    return Response(
        {"detail": error.message, "code": error.code, "rows_that_fit": getattr(error, "rows_that_fit", None)},
        status=error.http_status,
    )


@extend_schema_view(
    list=extend_schema(summary="List imports (yours; administrators see all)", parameters=[ImportFilter]),
    retrieve=extend_schema(summary="An import's detection results, mapping, options, status and progress"),
    create=extend_schema(
        summary="Upload a file to import (CSV, XLSX or vCard)",
        description=(
            "Multipart: `file`, `entity` (contact, company, lead, deal, product), optional `encoding` and "
            "`delimiter`. Answers 201 with what was detected, the guessed mapping and the first rows. A file "
            "over IMPORT_MAX_BYTES is refused while it uploads (`file_too_large`); binary files, CSV and zip "
            "bombs and undecodable text are `validation_error` on `file`."
        ),
        request={"multipart/form-data": UploadInput},
        parameters=[IDEMPOTENCY_HEADER],
        responses={201: ImportSerializer},
    ),
    partial_update=extend_schema(
        summary="Change the mapping, options, encoding or delimiter (before the import starts)",
        request=ConfigureInput,
        responses={200: ImportSerializer},
    ),
    destroy=extend_schema(summary="Discard an import that has not started (and its file)", responses={204: None}),
)
class ImportViewSet(ListRecordsMixin, RetrieveRecordMixin, RecordViewSet):
    serializer_class = ImportSerializer
    filter_serializer = ImportFilter
    parser_classes = [JSONParser, MultiPartParser]

    def records(self, actor, query):
        return import_list(actor=actor, **query)

    def record(self, actor, pk):
        return import_get(actor=actor, job_id=pk)

    def initial(self, request, *args, **kwargs):
        # Before anything reads the body: the size limit sits in front of the upload handlers.
        self._upload_limit = limit_uploads(request._request) if request.method == "POST" else None
        super().initial(request, *args, **kwargs)

    def create(self, request, *args, **kwargs) -> Response:
        if declared_too_large(request._request):
            return self._too_large()
        try:
            data = self.validated(UploadInput)
        except serializers.ValidationError:
            if self._upload_limit is not None and self._upload_limit.refused:
                return self._too_large()
            raise
        job = import_upload(
            actor=request.user,
            entity=data["entity"],
            file=data["file"],
            encoding=data.get("encoding", ""),
            delimiter=data.get("delimiter", ""),
        )
        return self.respond(job, status_code=status.HTTP_201_CREATED)

    def _too_large(self) -> Response:
        from django.conf import settings

        message = _(
            "This file is too large: files of up to %(size)d MB can be imported. Split it into smaller files."
        ) % {"size": settings.IMPORT_MAX_BYTES // (1024 * 1024)}
        return Response(
            {"detail": message, "code": "validation_error", "errors": {"file": [message]}},
            status=status.HTTP_400_BAD_REQUEST,
        )

    def partial_update(self, request, *args, **kwargs) -> Response:
        job = self.get_object()
        data = self.validated(ConfigureInput)
        job = import_configure(
            actor=request.user,
            job=job,
            mapping=data.get("mapping"),
            options=data.get("options"),
            encoding=data.get("encoding", ""),
            delimiter=data.get("delimiter", ""),
        )
        return self.respond(job)

    def destroy(self, request, *args, **kwargs) -> Response:
        import_discard(actor=request.user, job=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(summary="The first rows as they would be stored", request=None, responses={200: PreviewSerializer})
    @action(detail=True, methods=["post"])
    def preview(self, request, pk=None) -> Response:
        preview = import_preview(actor=request.user, job=self.get_object())
        return Response(PreviewSerializer(preview).data)

    @extend_schema(
        summary="Start the import (it runs in the background)",
        description=(
            "202; follow `status` and `progress` on the import. A contacts file larger than the plan has room "
            "for is refused with `plan_limit_reached` (403) and `rows_that_fit`; set the option "
            "`only_rows_that_fit` to import those."
        ),
        request=None,
        responses={202: ImportSerializer},
    )
    @action(detail=True, methods=["post"])
    def start(self, request, pk=None) -> Response:
        try:
            job = import_start(actor=request.user, job=self.get_object())
        except PlanLimitReached as error:
            return _plan_limit_response(error)
        return self.respond(job, status_code=status.HTTP_202_ACCEPTED)

    @extend_schema(summary="Stop a running import after its current batch", request=None)
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None) -> Response:
        return self.respond(import_cancel(actor=request.user, job=self.get_object()))

    @extend_schema(
        summary="Undo a finished import (within 7 days)",
        description="202: created records go to the trash, updated fields are put back. `undo_expired` after 7 days.",
        request=None,
        responses={202: ImportSerializer},
    )
    @action(detail=True, methods=["post"])
    def undo(self, request, pk=None) -> Response:
        job = import_undo(actor=request.user, job=self.get_object())
        return self.respond(job, status_code=status.HTTP_202_ACCEPTED)

    @extend_schema(summary="The rejected rows, in file order (cursor pages)", responses={200: RejectedPageSerializer})
    @action(detail=True, methods=["get"])
    def rejected(self, request, pk=None) -> Response:
        job = self.get_object()
        page = self.paginate_queryset(rejected_rows(job=job))
        return self.get_paginated_response(RejectedRowSerializer(page, many=True).data)

    @extend_schema(
        summary="The rejected rows as CSV (row, column, reason, then the file's own columns)",
        operation_id="imports_report",
        responses={(200, "text/csv"): OpenApiResponse(OpenApiTypes.BINARY)},
    )
    @action(detail=True, methods=["get"], url_path="report.csv", url_name="report")
    def report(self, request, pk=None):
        return report_response(self.get_object())

    @extend_schema(
        summary="The fields a column can go to, per record type (custom fields included)",
        parameters=[TargetListFilter],
        responses={200: TargetSerializer(many=True)},
    )
    @action(detail=False, methods=["get"], pagination_class=None)
    def targets(self, request) -> Response:
        from crm.custom_fields.selectors import custom_fields_for
        from crm.imports.mapping import CUSTOM_ENTITIES

        query = TargetListFilter(data=request.query_params)
        query.is_valid(raise_exception=True)
        entity = query.validated_data["entity"]
        fields = custom_fields_for(entity) if entity in CUSTOM_ENTITIES else []
        data: list[dict[str, Any]] = [
            {"key": target.key, "label": str(target.label)} for target in targets_for(entity, fields)
        ]
        return Response(data)

    def perform_content_negotiation(self, request, force=False):
        return super().perform_content_negotiation(request, force=force or self.action == "report")


class TemplateSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(max_length=100)
    entity = serializers.ChoiceField(choices=Entity.choices)
    mapping = serializers.DictField(help_text='{"column name": {"target": "emails", "transform": ""}}')
    options = serializers.DictField(required=False)
    created_at = serializers.DateTimeField(read_only=True)


class TemplateFilter(serializers.Serializer):
    entity = serializers.ChoiceField(choices=Entity.choices, required=False)


@extend_schema_view(
    list=extend_schema(summary="Saved mapping templates", parameters=[TemplateFilter]),
    retrieve=extend_schema(summary="One saved mapping template"),
    create=extend_schema(summary="Save a mapping template", parameters=[IDEMPOTENCY_HEADER]),
    destroy=extend_schema(summary="Delete a mapping template", responses={204: None}),
)
class ImportTemplateViewSet(ListRecordsMixin, RetrieveRecordMixin, RecordViewSet):
    serializer_class = TemplateSerializer
    filter_serializer = TemplateFilter

    def records(self, actor, query):
        return templates_for(**query)

    def record(self, actor, pk):
        return template_get(template_id=pk)

    def create(self, request, *args, **kwargs) -> Response:
        data = self.validated(TemplateSerializer)
        template = import_template_create(
            actor=request.user,
            entity=data["entity"],
            name=data["name"],
            mapping=data["mapping"],
            options=data.get("options"),
        )
        return self.respond(template, status_code=status.HTTP_201_CREATED)

    def destroy(self, request, *args, **kwargs) -> Response:
        import_template_delete(actor=request.user, template=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

"""Documents attached to leads, contacts, companies and deals, through crm.attachments.

Permissions follow the record an attachment belongs to, so no single role scope can be
declared on the view: the selectors hide attachments of records the caller cannot see
(404), the services ask crm.access for EDIT (upload) and DELETE or uploader-with-EDIT
(delete). Uploads are multipart (`record_type`, `record_id`, `file`); the bytes come
back from `/attachments/<id>/download/` as a download, never rendered inline.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response

from api.base import IDEMPOTENCY_HEADER, IF_MATCH_HEADER, ListRecordsMixin, RecordViewSet, RetrieveRecordMixin
from api.fields import MAX_ID, PersonSerializer
from crm.attachments.models import RECORD_TYPES
from crm.attachments.selectors import attachment_get, attachment_list, record_get
from crm.attachments.services import attachment_delete, attachment_upload
from crm.attachments.views import download_response
from crm.errors import RecordNotFound


class AttachmentSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    record_type = serializers.ChoiceField(choices=RECORD_TYPES, read_only=True)
    record_id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(source="original_name", read_only=True, help_text="The file name, cleaned.")
    content_type = serializers.CharField(read_only=True, help_text="Guessed from the name.")
    size_bytes = serializers.IntegerField(read_only=True)
    sha256 = serializers.CharField(read_only=True)
    uploaded_by = PersonSerializer(read_only=True, allow_null=True)
    created_at = serializers.DateTimeField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)


class AttachmentInput(serializers.Serializer):
    record_type = serializers.ChoiceField(choices=RECORD_TYPES)
    record_id = serializers.IntegerField(min_value=1, max_value=MAX_ID)
    # Empty files reach the service, which refuses them with its own message.
    file = serializers.FileField(allow_empty_file=True, use_url=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        try:
            attrs["record"] = record_get(
                actor=self.context["request"].user, record_type=attrs["record_type"], record_id=attrs["record_id"]
            )
        except RecordNotFound as missing:
            raise serializers.ValidationError(
                {"record_id": [_("No record with this id exists, or you cannot see it.")]}
            ) from missing
        return attrs


class AttachmentFilter(serializers.Serializer):
    record_type = serializers.ChoiceField(choices=RECORD_TYPES, required=False)
    record_id = serializers.IntegerField(required=False, min_value=1, max_value=MAX_ID, help_text="Needs record_type.")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if "record_id" in attrs and "record_type" not in attrs:
            raise serializers.ValidationError({"record_type": [_("Say which kind of record the id is of.")]})
        return attrs


@extend_schema_view(
    list=extend_schema(
        summary="List attachments (of one record with record_type and record_id)", parameters=[AttachmentFilter]
    ),
    retrieve=extend_schema(summary="Get one attachment's details"),
    create=extend_schema(
        summary="Attach a file to a lead, contact, company or deal",
        description=(
            "Multipart. Needs edit rights on the record. Refused with validation_error for an empty or "
            "too large file, and with plan_limit_reached (403) when the workspace's files would pass "
            "the plan's storage."
        ),
        request={"multipart/form-data": AttachmentInput},
        parameters=[IDEMPOTENCY_HEADER],
        responses={201: AttachmentSerializer},
    ),
    destroy=extend_schema(
        summary="Delete an attachment for good",
        description="Needs delete rights on the record, or being the uploader with edit rights.",
        parameters=[IF_MATCH_HEADER],
        responses={204: None},
    ),
)
class AttachmentViewSet(ListRecordsMixin, RetrieveRecordMixin, RecordViewSet):
    serializer_class = AttachmentSerializer
    filter_serializer = AttachmentFilter
    parser_classes = [MultiPartParser]

    def records(self, actor, query):
        return attachment_list(actor=actor, **query)

    def record(self, actor, pk):
        return attachment_get(actor=actor, attachment_id=pk)

    def create(self, request, *args, **kwargs) -> Response:
        data = self.validated(AttachmentInput)
        attachment = attachment_upload(actor=request.user, record=data["record"], file=data["file"])
        return self.respond(attachment, status_code=status.HTTP_201_CREATED)

    def destroy(self, request, *args, **kwargs) -> Response:
        attachment = self.get_object()
        with self.edit_guard(attachment):
            attachment_delete(actor=request.user, attachment=attachment)
        return Response(status=status.HTTP_204_NO_CONTENT)

    def perform_content_negotiation(self, request, force=False):
        # A download answers with the file's own type whatever the client accepts;
        # errors on the way still come back as JSON.
        return super().perform_content_negotiation(request, force=force or self.action == "download")

    @extend_schema(
        summary="Download an attachment's file",
        responses={
            (200, "*/*"): OpenApiResponse(
                OpenApiTypes.BINARY, description="The bytes, as an attachment (Content-Disposition)."
            )
        },
    )
    @action(detail=True, methods=["get"])
    def download(self, request, pk=None):
        return download_response(self.get_object())

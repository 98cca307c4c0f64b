"""Deals, pipelines and their stages over the API, through crm.deals' services and selectors.

Stage moves go through `deal_move_stage` (the same service as the board), so every
move over the API is in the deal's stage history.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from api.base import (
    IDEMPOTENCY_HEADER,
    IF_MATCH_HEADER,
    CreateRecordMixin,
    ListRecordsMixin,
    RecordViewSet,
    RetrieveRecordMixin,
    TrashRecordMixin,
    UpdateRecordMixin,
)
from api.clients import CompanyBriefSerializer, visible_company
from api.custom_fields import CUSTOM_FILTER_PARAMETERS, CustomFieldListMixin, DealCustomFields, OrderingField
from api.fields import MAX_ID, CalendarDateField, MemberField, PersonSerializer, TagNamesField, VisibleRecordField
from crm.clients.selectors import contact_get
from crm.deals.models import StageKind
from crm.deals.selectors import (
    DEAL_ORDERINGS,
    deal_get,
    deal_list,
    deal_stage_history,
    pipeline_get,
    pipeline_list,
    stage_get,
)
from crm.deals.services import (
    StageSpec,
    deal_create,
    deal_mark_lost,
    deal_mark_won,
    deal_move_stage,
    deal_reopen,
    deal_update,
    pipeline_create,
    pipeline_delete,
    pipeline_rename,
    pipeline_set_default,
    stage_add,
    stage_delete,
    stage_rename,
    stage_set_win_probability,
    stages_reorder,
)
from crm.errors import RecordNotFound


def visible_contact(actor, pk: int):
    return contact_get(actor=actor, contact_id=pk)


def visible_pipeline(actor, pk: int):
    return pipeline_get(actor=actor, pipeline_id=pk)


def live_stage(actor, pk: int):
    return stage_get(actor=actor, stage_id=pk)


# --- shapes ----------------------------------------------------------------------------


class PipelineBriefSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(read_only=True)


class StageSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(read_only=True)
    position = serializers.IntegerField(read_only=True)
    kind = serializers.ChoiceField(choices=StageKind.choices, read_only=True)
    win_probability = serializers.IntegerField(read_only=True, help_text="Percent, 0-100")


class ContactBriefSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    full_name = serializers.CharField(read_only=True)


class DealSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    title = serializers.CharField(read_only=True)
    amount = serializers.DecimalField(max_digits=14, decimal_places=2, read_only=True)
    currency = serializers.CharField(read_only=True)
    amount_base = serializers.DecimalField(
        max_digits=16, decimal_places=2, read_only=True, help_text="In the workspace's base currency"
    )
    pipeline = PipelineBriefSerializer(read_only=True)
    stage = StageSerializer(read_only=True)
    status = serializers.ChoiceField(
        choices=StageKind.choices, source="stage.kind", read_only=True, help_text="open, won or lost"
    )
    stage_entered_at = serializers.DateTimeField(read_only=True)
    expected_close_date = serializers.DateField(read_only=True, allow_null=True)
    closed_at = serializers.DateTimeField(read_only=True, allow_null=True)
    lost_reason = serializers.CharField(read_only=True)
    contact = ContactBriefSerializer(read_only=True, allow_null=True)
    company = CompanyBriefSerializer(read_only=True, allow_null=True)
    owner = PersonSerializer(read_only=True, allow_null=True)
    team = serializers.IntegerField(source="team_id", read_only=True, allow_null=True)
    tags = TagNamesField(read_only=True)
    channel = serializers.CharField(read_only=True)
    utm_source = serializers.CharField(read_only=True)
    utm_medium = serializers.CharField(read_only=True)
    utm_campaign = serializers.CharField(read_only=True)
    utm_term = serializers.CharField(read_only=True)
    utm_content = serializers.CharField(read_only=True)
    search_engine = serializers.CharField(read_only=True)
    source_url = serializers.CharField(read_only=True)
    referrer = serializers.CharField(read_only=True)
    last_activity_at = serializers.DateTimeField(read_only=True, allow_null=True)
    custom_fields = DealCustomFields(read_only=True)
    created_at = serializers.DateTimeField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)


class StageChangeSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    from_stage = StageSerializer(read_only=True, allow_null=True)
    to_stage = StageSerializer(read_only=True)
    changed_by = PersonSerializer(read_only=True, allow_null=True)
    changed_at = serializers.DateTimeField(read_only=True)
    seconds_in_previous_stage = serializers.IntegerField(read_only=True, allow_null=True)


class DealUpdateInput(serializers.Serializer):
    """Shapes only; crm.deals.services checks the values (currency, rates, trashed links)."""

    title = serializers.CharField(max_length=200, allow_blank=True)
    amount = serializers.DecimalField(max_digits=14, decimal_places=2, min_value=0)
    currency = serializers.CharField(max_length=3, allow_blank=True)
    expected_close_date = CalendarDateField(allow_null=True)
    owner = MemberField()
    contact = VisibleRecordField(getter=visible_contact)
    company = VisibleRecordField(getter=visible_company)
    tags = TagNamesField()
    custom_fields = DealCustomFields(required=False)


class DealInput(DealUpdateInput):
    amount = serializers.DecimalField(max_digits=14, decimal_places=2, min_value=0, required=False)
    currency = serializers.CharField(max_length=3, allow_blank=True, required=False)
    expected_close_date = CalendarDateField(allow_null=True, required=False)
    owner = MemberField(required=False)
    contact = VisibleRecordField(getter=visible_contact, required=False)
    company = VisibleRecordField(getter=visible_company, required=False)
    tags = TagNamesField(required=False)
    pipeline = VisibleRecordField(getter=visible_pipeline, required=False, help_text="Default: the default pipeline")
    stage = VisibleRecordField(getter=live_stage, required=False, help_text="Default: the pipeline's first stage")
    channel = serializers.CharField(max_length=40, allow_blank=True, required=False)
    utm_source = serializers.CharField(max_length=255, allow_blank=True, required=False)
    utm_medium = serializers.CharField(max_length=255, allow_blank=True, required=False)
    utm_campaign = serializers.CharField(max_length=255, allow_blank=True, required=False)
    utm_term = serializers.CharField(max_length=255, allow_blank=True, required=False)
    utm_content = serializers.CharField(max_length=255, allow_blank=True, required=False)
    search_engine = serializers.CharField(max_length=40, allow_blank=True, required=False)
    source_url = serializers.URLField(max_length=2000, allow_blank=True, required=False)
    referrer = serializers.URLField(max_length=2000, allow_blank=True, required=False)


SOURCE_INPUTS = (
    "channel",
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "utm_term",
    "utm_content",
    "search_engine",
    "source_url",
    "referrer",
)


class DealFilter(serializers.Serializer):
    pipeline = VisibleRecordField(getter=visible_pipeline, required=False)
    stage = VisibleRecordField(getter=live_stage, required=False)
    status = serializers.ChoiceField(choices=StageKind.choices, required=False)
    owner = MemberField(required=False)
    company = serializers.IntegerField(required=False, min_value=1, max_value=MAX_ID)
    contact = serializers.IntegerField(required=False, min_value=1, max_value=MAX_ID)
    tag = serializers.IntegerField(required=False, min_value=1, max_value=MAX_ID)
    expected_close_from = CalendarDateField(required=False)
    expected_close_to = CalendarDateField(required=False)
    amount_min = serializers.DecimalField(max_digits=16, decimal_places=2, required=False, help_text="Base currency")
    amount_max = serializers.DecimalField(max_digits=16, decimal_places=2, required=False, help_text="Base currency")
    search = serializers.CharField(max_length=200, required=False, allow_blank=True, help_text="In the title")
    ordering = OrderingField(choices=list(DEAL_ORDERINGS), required=False)


class DealMoveInput(serializers.Serializer):
    stage = VisibleRecordField(getter=live_stage, allow_null=False, help_text="A stage of the deal's pipeline")
    lost_reason = serializers.CharField(
        max_length=255, allow_blank=True, required=False, help_text="Required for a lost stage"
    )


class DealLostInput(serializers.Serializer):
    reason = serializers.CharField(max_length=255)


class DealReopenInput(serializers.Serializer):
    stage = VisibleRecordField(
        getter=live_stage, required=False, help_text="An open stage; default: the stage it was closed from"
    )


# --- deals -----------------------------------------------------------------------------


def _deal_action_schema(summary: str, request) -> dict:
    return {
        "summary": summary,
        "request": request,
        "responses": {200: DealSerializer},
        "parameters": [IDEMPOTENCY_HEADER, IF_MATCH_HEADER],
    }


@extend_schema_view(
    list=extend_schema(summary="List deals", parameters=[DealFilter, *CUSTOM_FILTER_PARAMETERS]),
    retrieve=extend_schema(summary="Get one deal"),
    create=extend_schema(summary="Create a deal", request=DealInput, parameters=[IDEMPOTENCY_HEADER]),
    partial_update=extend_schema(
        summary="Change some fields of a deal (stages: use move, won, lost, reopen)",
        request=DealUpdateInput,
        parameters=[IF_MATCH_HEADER],
    ),
    destroy=extend_schema(summary="Move a deal to the trash", parameters=[IF_MATCH_HEADER], responses={204: None}),
    move=extend_schema(**_deal_action_schema("Move a deal to another stage of its pipeline", DealMoveInput)),
    won=extend_schema(**_deal_action_schema("Mark a deal won (its pipeline's won stage)", None)),
    lost=extend_schema(**_deal_action_schema("Mark a deal lost, with the reason", DealLostInput)),
    reopen=extend_schema(**_deal_action_schema("Reopen a won or lost deal", DealReopenInput)),
    stage_history=extend_schema(
        summary="A deal's stage history, oldest first, with the time spent in each stage",
        responses={200: StageChangeSerializer(many=True)},
    ),
)
class DealViewSet(
    CustomFieldListMixin,
    ListRecordsMixin,
    RetrieveRecordMixin,
    CreateRecordMixin,
    UpdateRecordMixin,
    TrashRecordMixin,
    RecordViewSet,
):
    record_type = "deal"
    custom_entity = "deal"
    serializer_class = DealSerializer
    filter_serializer = DealFilter
    create_serializer = DealInput
    update_serializer = DealUpdateInput
    action_permissions = {"move": "edit", "won": "edit", "lost": "edit", "reopen": "edit", "stage_history": "view"}

    def records(self, actor, query):
        return self.custom_records(deal_list(actor=actor, **query))

    def record(self, actor, pk):
        return deal_get(actor=actor, deal_id=pk)

    def create_record(self, actor, data):
        source = {field: data.pop(field) for field in SOURCE_INPUTS if field in data}
        # A POST is a person's input: the required custom fields must be given.
        return deal_create(actor=actor, source=source, **{"custom_fields": {}, **data})

    def update_record(self, actor, record, data):
        return deal_update(actor=actor, deal=record, **data)

    def _change(self, service, **arguments):
        deal = self.get_object()
        with self.edit_guard(deal):
            deal = service(actor=self.request.user, deal=deal, **arguments)
        return self.respond(deal_get(actor=None, deal_id=deal.pk))

    @action(detail=True, methods=["post"])
    def move(self, request, pk=None):
        data = self.validated(DealMoveInput)
        return self._change(deal_move_stage, stage=data["stage"], lost_reason=data.get("lost_reason", ""))

    @action(detail=True, methods=["post"])
    def won(self, request, pk=None):
        return self._change(deal_mark_won)

    @action(detail=True, methods=["post"])
    def lost(self, request, pk=None):
        return self._change(deal_mark_lost, reason=self.validated(DealLostInput)["reason"])

    @action(detail=True, methods=["post"])
    def reopen(self, request, pk=None):
        return self._change(deal_reopen, stage=self.validated(DealReopenInput).get("stage"))

    @action(detail=True, methods=["get"], pagination_class=None, url_path="stage-history")
    def stage_history(self, request, pk=None):
        changes = deal_stage_history(actor=request.user, deal=self.get_object())
        return Response(StageChangeSerializer(changes, many=True).data)


# --- pipelines and stages --------------------------------------------------------------


class PipelineSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(read_only=True)
    is_default = serializers.BooleanField(read_only=True)
    position = serializers.IntegerField(read_only=True)
    stages = StageSerializer(many=True, read_only=True, help_text="Live stages in order")
    created_at = serializers.DateTimeField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)


class StageSpecInput(serializers.Serializer):
    name = serializers.CharField(max_length=100, allow_blank=True)
    kind = serializers.ChoiceField(choices=StageKind.choices, required=False, default=StageKind.OPEN)
    win_probability = serializers.IntegerField(
        min_value=0, max_value=100, required=False, help_text="Default: 100 for won, else 0"
    )


class PipelineInput(serializers.Serializer):
    name = serializers.CharField(max_length=100, allow_blank=True)
    stages = serializers.ListField(
        child=StageSpecInput(),
        max_length=50,
        required=False,
        help_text="In order; at least one open, one won and one lost. Default: the standard sales stages.",
    )


class PipelineUpdateInput(serializers.Serializer):
    name = serializers.CharField(max_length=100, allow_blank=True)
    is_default = serializers.BooleanField(help_text="true makes this the default pipeline")


class StageInput(serializers.Serializer):
    name = serializers.CharField(max_length=100, allow_blank=True)
    kind = serializers.ChoiceField(choices=StageKind.choices, required=False, default=StageKind.OPEN)
    win_probability = serializers.IntegerField(min_value=0, max_value=100, required=False)
    position = serializers.IntegerField(
        min_value=0, max_value=1000, required=False, help_text="0 = first; default: after the last open stage"
    )


class StageUpdateInput(serializers.Serializer):
    name = serializers.CharField(max_length=100, allow_blank=True)
    win_probability = serializers.IntegerField(min_value=0, max_value=100)


class StageDeleteQuery(serializers.Serializer):
    move_deals_to = serializers.IntegerField(
        required=False, min_value=1, max_value=MAX_ID, help_text="Another stage of this pipeline for its deals"
    )


class StageDeletedSerializer(serializers.Serializer):
    moved_deals = serializers.IntegerField(read_only=True)


class StagesReorderInput(serializers.Serializer):
    stage_ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_ID),
        max_length=100,
        help_text="Every live stage of the pipeline, once, in the new order",
    )


STAGE_ID = OpenApiParameter("stage_id", int, OpenApiParameter.PATH)


@extend_schema_view(
    list=extend_schema(summary="List pipelines with their stages (default first)"),
    retrieve=extend_schema(summary="Get one pipeline with its stages"),
    create=extend_schema(
        summary="Create a pipeline (administrators)", request=PipelineInput, parameters=[IDEMPOTENCY_HEADER]
    ),
    partial_update=extend_schema(
        summary="Rename a pipeline or make it the default (administrators)",
        request=PipelineUpdateInput,
        parameters=[IF_MATCH_HEADER],
    ),
    destroy=extend_schema(
        summary="Delete an empty pipeline (administrators)", parameters=[IF_MATCH_HEADER], responses={204: None}
    ),
    stages=extend_schema(
        summary="Add a stage to a pipeline (administrators)",
        request=StageInput,
        responses={201: StageSerializer},
        parameters=[IDEMPOTENCY_HEADER],
    ),
    reorder=extend_schema(
        summary="Put a pipeline's stages in a new order (administrators)",
        request=StagesReorderInput,
        responses={200: PipelineSerializer},
        parameters=[IDEMPOTENCY_HEADER],
    ),
)
class PipelineViewSet(ListRecordsMixin, RetrieveRecordMixin, CreateRecordMixin, RecordViewSet):
    # Pipelines are workspace configuration: every member reads them; the services let
    # only administrators (the `settings` power) change them.
    serializer_class = PipelineSerializer
    create_serializer = PipelineInput

    def records(self, actor, query):
        return pipeline_list(actor=actor)

    def record(self, actor, pk):
        return pipeline_get(actor=actor, pipeline_id=pk)

    def create_record(self, actor, data):
        specs = None
        if "stages" in data:
            specs = [
                StageSpec(
                    spec["name"],
                    spec["kind"],
                    spec.get("win_probability", 100 if spec["kind"] == StageKind.WON else 0),
                )
                for spec in data["stages"]
            ]
        pipeline = pipeline_create(actor=actor, name=data["name"], stages=specs)
        return pipeline_get(actor=actor, pipeline_id=pipeline.pk)

    def partial_update(self, request, pk=None):
        pipeline = self.get_object()
        data = self.validated(PipelineUpdateInput, partial=True)
        if data.get("is_default") is False:
            raise ValidationError({"is_default": [_("Make another pipeline the default instead.")]}, code="invalid")
        with self.edit_guard(pipeline):
            if "name" in data:
                pipeline = pipeline_rename(actor=request.user, pipeline=pipeline, name=data["name"])
            if data.get("is_default"):
                pipeline = pipeline_set_default(actor=request.user, pipeline=pipeline)
        return self.respond(pipeline_get(actor=request.user, pipeline_id=pipeline.pk))

    def destroy(self, request, pk=None):
        pipeline = self.get_object()
        with self.edit_guard(pipeline):
            pipeline_delete(actor=request.user, pipeline=pipeline)
        return Response(status=status.HTTP_204_NO_CONTENT)

    def _stage_response(self, stage, status_code=status.HTTP_200_OK) -> Response:
        response = Response(StageSerializer(stage).data, status=status_code)
        response.record = stage
        return response

    @action(detail=True, methods=["post"])
    def stages(self, request, pk=None):
        pipeline = self.get_object()
        data = self.validated(StageInput)
        stage = stage_add(actor=request.user, pipeline=pipeline, **data)
        return self._stage_response(stage, status.HTTP_201_CREATED)

    @extend_schema(
        methods=["PATCH"],
        summary="Rename a stage or set its win probability (administrators)",
        request=StageUpdateInput,
        responses={200: StageSerializer},
        parameters=[STAGE_ID, IF_MATCH_HEADER],
    )
    @extend_schema(
        methods=["DELETE"],
        summary="Remove a stage; its deals move to `move_deals_to` (administrators)",
        request=None,
        responses={200: StageDeletedSerializer},
        parameters=[STAGE_ID, StageDeleteQuery, IF_MATCH_HEADER],
    )
    @action(detail=True, methods=["patch", "delete"], url_path=r"stages/(?P<stage_id>[0-9]{1,18})")
    def stage(self, request, pk=None, stage_id=None):
        pipeline = self.get_object()
        stage = stage_get(actor=request.user, pipeline=pipeline, stage_id=int(stage_id))
        if request.method == "DELETE":
            return self._stage_delete(pipeline, stage)
        data = self.validated(StageUpdateInput, partial=True)
        with self.edit_guard(stage):
            if "name" in data:
                stage = stage_rename(actor=request.user, stage=stage, name=data["name"])
            if "win_probability" in data:
                stage = stage_set_win_probability(
                    actor=request.user, stage=stage, win_probability=data["win_probability"]
                )
        return self._stage_response(stage)

    def _stage_delete(self, pipeline, stage) -> Response:
        query = StageDeleteQuery(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        target = None
        if query.validated_data.get("move_deals_to"):
            try:
                target = stage_get(
                    actor=self.request.user, pipeline=pipeline, stage_id=query.validated_data["move_deals_to"]
                )
            except RecordNotFound as missing:
                raise ValidationError(
                    {"move_deals_to": [_("Choose another stage of the same pipeline.")]}, code="invalid"
                ) from missing
        with self.edit_guard(stage):
            moved = stage_delete(actor=self.request.user, stage=stage, move_deals_to=target)
        return Response({"moved_deals": moved})

    @action(detail=True, methods=["post"])
    def reorder(self, request, pk=None):
        pipeline = self.get_object()
        data = self.validated(StagesReorderInput)
        stages_reorder(actor=request.user, pipeline=pipeline, stage_ids=data["stage_ids"])
        return self.respond(pipeline_get(actor=request.user, pipeline_id=pipeline.pk))

"""Outgoing webhooks over the API: endpoints, their delivery log, and a test ping."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts import roles
from api.base import IDEMPOTENCY_HEADER, IF_MATCH_HEADER, ListRecordsMixin, RecordViewSet, RetrieveRecordMixin
from crm.webhooks.events import EVENTS
from crm.webhooks.models import DeliveryStatus
from crm.webhooks.selectors import webhook_delivery_list, webhook_endpoint_get, webhook_endpoint_list
from crm.webhooks.services import (
    webhook_endpoint_create,
    webhook_endpoint_delete,
    webhook_endpoint_update,
    webhook_ping,
)

EVENT_CHOICES = list(EVENTS)


class WebhookSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    url = serializers.CharField(read_only=True)
    events = serializers.ListField(child=serializers.ChoiceField(choices=EVENT_CHOICES), read_only=True)
    description = serializers.CharField(read_only=True)
    is_active = serializers.BooleanField(read_only=True)
    created_at = serializers.DateTimeField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)


class WebhookWithSecretSerializer(WebhookSerializer):
    secret = serializers.CharField(
        read_only=True, help_text="Verifies X-CRM-Signature; shown when created or rotated only."
    )


class WebhookInput(serializers.Serializer):
    url = serializers.CharField(max_length=500)
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=EVENT_CHOICES), max_length=len(EVENT_CHOICES), help_text="[]: every event"
    )
    description = serializers.CharField(max_length=255, required=False, allow_blank=True)
    is_active = serializers.BooleanField(required=False)


class WebhookUpdateInput(WebhookInput):
    rotate_secret = serializers.BooleanField(required=False, help_text="true: a new secret (answered once)")


class WebhookFilter(serializers.Serializer):
    active = serializers.BooleanField(required=False, allow_null=True, default=None)


class DeliverySerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    event = serializers.CharField(read_only=True)
    event_id = serializers.UUIDField(read_only=True)
    attempt = serializers.IntegerField(read_only=True)
    status = serializers.ChoiceField(choices=DeliveryStatus.choices, read_only=True)
    response_code = serializers.IntegerField(read_only=True, allow_null=True)
    response_body = serializers.CharField(read_only=True, help_text="The start of the receiver's answer.")
    error = serializers.CharField(read_only=True)
    next_retry_at = serializers.DateTimeField(read_only=True, allow_null=True)
    duration_ms = serializers.IntegerField(read_only=True, allow_null=True)
    payload = serializers.JSONField(read_only=True)
    created_at = serializers.DateTimeField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)


class DeliveryFilter(serializers.Serializer):
    event = serializers.ChoiceField(choices=[*EVENT_CHOICES, "ping"], required=False)
    status = serializers.ChoiceField(choices=DeliveryStatus.choices, required=False)


@extend_schema_view(
    list=extend_schema(summary="List webhooks", parameters=[WebhookFilter]),
    retrieve=extend_schema(summary="Get one webhook"),
    create=extend_schema(
        summary="Register a webhook (its signing secret is answered once)",
        request=WebhookInput,
        parameters=[IDEMPOTENCY_HEADER],
        responses={201: WebhookWithSecretSerializer},
    ),
    partial_update=extend_schema(
        summary="Change a webhook (URL, events, on/off, or rotate its secret)",
        request=WebhookUpdateInput,
        parameters=[IF_MATCH_HEADER],
        responses={200: WebhookWithSecretSerializer},
    ),
    destroy=extend_schema(summary="Delete a webhook and its log", parameters=[IF_MATCH_HEADER], responses={204: None}),
    deliveries=extend_schema(
        summary="Delivery attempts of a webhook, newest first",
        parameters=[DeliveryFilter],
        responses={200: DeliverySerializer(many=True)},
    ),
    test=extend_schema(summary="Send a ping event to a webhook", request=None, responses={202: DeliverySerializer}),
)
class WebhookViewSet(ListRecordsMixin, RetrieveRecordMixin, RecordViewSet):
    required_capability = roles.SETTINGS
    serializer_class = WebhookSerializer
    filter_serializer = WebhookFilter

    def records(self, actor, query):
        return webhook_endpoint_list(actor=actor, **query)

    def record(self, actor, pk):
        return webhook_endpoint_get(actor=actor, endpoint_id=pk)

    def create(self, request, *args, **kwargs) -> Response:
        data = self.validated(WebhookInput)
        endpoint = webhook_endpoint_create(actor=request.user, **data)
        response = Response(WebhookWithSecretSerializer(endpoint).data, status=status.HTTP_201_CREATED)
        response.record = endpoint
        return response

    def partial_update(self, request, *args, **kwargs) -> Response:
        endpoint = self.get_object()
        data = self.validated(WebhookUpdateInput, partial=True)
        with self.edit_guard(endpoint):
            endpoint = webhook_endpoint_update(actor=request.user, endpoint=endpoint, **data)
        shape = WebhookWithSecretSerializer if data.get("rotate_secret") else WebhookSerializer
        response = Response(shape(endpoint).data)
        response.record = endpoint
        return response

    def destroy(self, request, *args, **kwargs) -> Response:
        endpoint = self.get_object()
        with self.edit_guard(endpoint):
            webhook_endpoint_delete(actor=request.user, endpoint=endpoint)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @action(detail=True, methods=["get"], serializer_class=DeliverySerializer, filter_serializer=DeliveryFilter)
    def deliveries(self, request, pk=None):
        endpoint = self.get_object()
        page = self.paginate_queryset(webhook_delivery_list(actor=request.user, endpoint=endpoint, **self.filters()))
        return self.get_paginated_response(DeliverySerializer(page, many=True).data)

    @action(detail=True, methods=["post"])
    def test(self, request, pk=None):
        sent = webhook_ping(actor=request.user, endpoint=self.get_object())
        return Response(DeliverySerializer(sent).data, status=status.HTTP_202_ACCEPTED)

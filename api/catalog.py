"""Products and proposals (quotes) over the API, through crm.catalog.

A quote's lines are part of the quote: every line change answers with the whole quote
(lines and fresh totals) and its new ETag, and takes the quote's ETag in `If-Match`,
since a line change changes the quote's totals. Only drafts can change; a sent quote is
revised through `duplicate`. `GET /quotes/<id>/pdf/` answers the printable PDF.
"""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.http import HttpResponse
from django.utils import translation
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import renderers, serializers, status
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
from api.fields import MAX_ID, MemberField, PersonSerializer, VisibleRecordField
from crm.catalog.models import QuoteStatus, Unit
from crm.catalog.quote_pdf import render_quote_pdf
from crm.catalog.selectors import QUOTE_ORDERINGS, product_get, product_list, quote_get, quote_list
from crm.catalog.services import (
    product_create,
    product_deactivate,
    product_update,
    quote_accept,
    quote_create,
    quote_duplicate,
    quote_line_add,
    quote_line_remove,
    quote_line_update,
    quote_lines_reorder,
    quote_mark_sent,
    quote_reject,
    quote_update,
)
from crm.clients.selectors import company_get, contact_get
from crm.deals.selectors import deal_get
from crm.errors import RecordNotFound

PERCENT = {"max_digits": 5, "decimal_places": 2, "min_value": 0, "max_value": 100}


def _money(**kwargs: Any) -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=16, decimal_places=2, read_only=True, **kwargs)


# --- products --------------------------------------------------------------------------


class ProductSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    sku = serializers.CharField(read_only=True)
    name = serializers.CharField(read_only=True)
    description = serializers.CharField(read_only=True)
    unit = serializers.ChoiceField(choices=Unit.choices, read_only=True)
    price = _money()
    currency = serializers.CharField(read_only=True)
    tax_rate = serializers.DecimalField(max_digits=5, decimal_places=2, read_only=True, help_text="Percent.")
    is_active = serializers.BooleanField(read_only=True, help_text="On sale (can be added to quotes).")
    created_at = serializers.DateTimeField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)


class ProductInput(serializers.Serializer):
    """Shapes only; the service checks SKU uniqueness, currency, bounds."""

    sku = serializers.CharField(max_length=200, allow_blank=True)
    name = serializers.CharField(max_length=1000, allow_blank=True)
    description = serializers.CharField(max_length=20_000, allow_blank=True, required=False)
    unit = serializers.ChoiceField(choices=Unit.choices, required=False)
    price = serializers.DecimalField(max_digits=14, decimal_places=2, min_value=0)
    currency = serializers.CharField(
        max_length=3, required=False, help_text="ISO 4217; the workspace's base currency by default."
    )
    tax_rate = serializers.DecimalField(**PERCENT, required=False, help_text="Percent.")
    is_active = serializers.BooleanField(required=False, default=True)


class ProductFilter(serializers.Serializer):
    search = serializers.CharField(max_length=200, required=False, allow_blank=True, help_text="Part of SKU or name.")
    active = serializers.ChoiceField(
        choices=["true", "false", "all"], required=False, help_text="On sale (default), off sale, or all."
    )


@extend_schema_view(
    list=extend_schema(summary="List products", parameters=[ProductFilter]),
    retrieve=extend_schema(summary="Get one product"),
    create=extend_schema(
        summary="Add a product to the catalogue", request=ProductInput, parameters=[IDEMPOTENCY_HEADER]
    ),
    partial_update=extend_schema(
        summary="Change some fields of a product (quotes keep what they copied)",
        request=ProductInput,
        parameters=[IF_MATCH_HEADER],
    ),
    destroy=extend_schema(
        summary="Take a product off sale (it stays in the catalogue, inactive)",
        parameters=[IF_MATCH_HEADER],
        responses={204: None},
    ),
)
class ProductViewSet(ListRecordsMixin, RetrieveRecordMixin, CreateRecordMixin, UpdateRecordMixin, RecordViewSet):
    record_type = "product"
    serializer_class = ProductSerializer
    filter_serializer = ProductFilter
    create_serializer = ProductInput
    update_serializer = ProductInput
    # Taking a product off sale is an edit of it, not a deletion.
    action_permissions = {"destroy": "edit"}

    def records(self, actor, query):
        active = {"true": True, "false": False, "all": None}[query.pop("active", "true")]
        return product_list(actor=actor, active=active, **query)

    def record(self, actor, pk):
        return product_get(actor=actor, product_id=pk)

    def create_record(self, actor, data):
        return product_create(actor=actor, **data)

    def update_record(self, actor, record, data):
        return product_update(actor=actor, product=record, **data)

    def destroy(self, request, *args, **kwargs):
        product = self.get_object()
        with self.edit_guard(product):
            product_deactivate(actor=request.user, product=product)
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- quotes ----------------------------------------------------------------------------


class QuoteLineSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    position = serializers.IntegerField(read_only=True)
    product = serializers.IntegerField(source="product_id", read_only=True, allow_null=True)
    name = serializers.CharField(read_only=True)
    description = serializers.CharField(read_only=True)
    unit = serializers.ChoiceField(choices=Unit.choices, read_only=True)
    quantity = serializers.DecimalField(max_digits=12, decimal_places=3, read_only=True)
    unit_price = serializers.DecimalField(max_digits=14, decimal_places=2, read_only=True)
    discount_percent = serializers.DecimalField(max_digits=5, decimal_places=2, read_only=True)
    tax_rate = serializers.DecimalField(max_digits=5, decimal_places=2, read_only=True)
    net_amount = _money()
    tax_amount = _money()
    total_amount = _money()


class QuoteSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    number = serializers.CharField(read_only=True, help_text="Sequential per year, e.g. Q-2026-0001.")
    title = serializers.CharField(read_only=True)
    status = serializers.ChoiceField(choices=QuoteStatus.choices, read_only=True)
    currency = serializers.CharField(read_only=True)
    owner = PersonSerializer(read_only=True, allow_null=True)
    deal = serializers.IntegerField(source="deal_id", read_only=True, allow_null=True)
    contact = serializers.IntegerField(source="contact_id", read_only=True, allow_null=True)
    company = serializers.IntegerField(source="company_id", read_only=True, allow_null=True)
    valid_until = serializers.DateField(read_only=True, allow_null=True)
    notes = serializers.CharField(read_only=True)
    subtotal = _money(help_text="Sum of the lines before discounts and tax.")
    discount_total = _money()
    tax_total = _money()
    total = _money(help_text="subtotal - discount_total + tax_total, to the cent.")
    sent_at = serializers.DateTimeField(read_only=True, allow_null=True)
    decided_at = serializers.DateTimeField(read_only=True, allow_null=True)
    created_at = serializers.DateTimeField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)


class QuoteDetailSerializer(QuoteSerializer):
    lines = QuoteLineSerializer(many=True, read_only=True)


def _visible_product(actor, pk: int):
    return product_get(actor=actor, product_id=pk)


class QuoteChangeInput(serializers.Serializer):
    """Shapes only; the services check links, dates and the draft rule."""

    title = serializers.CharField(max_length=1000, allow_blank=True, required=False)
    currency = serializers.CharField(max_length=3, required=False)
    deal = VisibleRecordField(getter=lambda actor, pk: deal_get(actor=actor, deal_id=pk), required=False)
    contact = VisibleRecordField(getter=lambda actor, pk: contact_get(actor=actor, contact_id=pk), required=False)
    company = VisibleRecordField(getter=lambda actor, pk: company_get(actor=actor, company_id=pk), required=False)
    valid_until = serializers.DateField(required=False, allow_null=True)
    notes = serializers.CharField(max_length=20_000, allow_blank=True, required=False)


class QuoteInput(QuoteChangeInput):
    title = serializers.CharField(max_length=1000, allow_blank=True)
    owner = MemberField(required=False, allow_null=False, help_text="You by default.")


class LineInput(serializers.Serializer):
    product = VisibleRecordField(
        getter=_visible_product, required=False, help_text="Copies name, unit, price and tax rate (each overridable)."
    )
    name = serializers.CharField(max_length=1000, allow_blank=True, required=False)
    description = serializers.CharField(max_length=20_000, allow_blank=True, required=False)
    quantity = serializers.DecimalField(max_digits=12, decimal_places=3)
    unit_price = serializers.DecimalField(max_digits=14, decimal_places=2, min_value=0, required=False)
    discount_percent = serializers.DecimalField(**PERCENT, required=False)
    tax_rate = serializers.DecimalField(**PERCENT, required=False)
    unit = serializers.ChoiceField(choices=Unit.choices, required=False)


class LineChangeInput(serializers.Serializer):
    name = serializers.CharField(max_length=1000, allow_blank=True, required=False)
    description = serializers.CharField(max_length=20_000, allow_blank=True, required=False)
    quantity = serializers.DecimalField(max_digits=12, decimal_places=3, required=False)
    unit_price = serializers.DecimalField(max_digits=14, decimal_places=2, min_value=0, required=False)
    discount_percent = serializers.DecimalField(**PERCENT, required=False)
    tax_rate = serializers.DecimalField(**PERCENT, required=False)
    unit = serializers.ChoiceField(choices=Unit.choices, required=False)


class LinesReorderInput(serializers.Serializer):
    line_ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_ID),
        max_length=1000,
        help_text="Every line's id exactly once, in the new order.",
    )


class QuoteFilter(serializers.Serializer):
    status = serializers.ChoiceField(choices=QuoteStatus.choices, required=False)
    owner = MemberField(required=False)
    deal = serializers.IntegerField(required=False, min_value=1, max_value=MAX_ID)
    contact = serializers.IntegerField(required=False, min_value=1, max_value=MAX_ID)
    company = serializers.IntegerField(required=False, min_value=1, max_value=MAX_ID)
    created_from = serializers.DateField(required=False)
    created_to = serializers.DateField(required=False)
    ordering = serializers.ChoiceField(choices=list(QUOTE_ORDERINGS), required=False)


class PdfQuery(serializers.Serializer):
    language = serializers.ChoiceField(
        choices=[code for code, _name in settings.LANGUAGES], required=False, help_text="Yours by default."
    )


class PdfRenderer(renderers.BaseRenderer):
    """Lets a client ask for `Accept: application/pdf`; errors still go out as JSON text."""

    media_type = "application/pdf"
    format = "pdf"
    charset = None

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return data if isinstance(data, bytes) else json.dumps(data, default=str).encode()


LINE_ID = OpenApiParameter("line_id", int, OpenApiParameter.PATH, description="The line's id.")
QUOTE_RESPONSE = {200: QuoteDetailSerializer}


def _quote_action(summary: str, *, request: Any = None, status_code: int = 200, headers: bool = True) -> Any:
    return extend_schema(
        summary=summary,
        request=request,
        parameters=[IF_MATCH_HEADER] if headers else [IDEMPOTENCY_HEADER],
        responses={status_code: QuoteDetailSerializer},
    )


@extend_schema_view(
    list=extend_schema(summary="List proposals (quotes)", parameters=[QuoteFilter]),
    retrieve=extend_schema(summary="Get one proposal with its lines and totals"),
    create=extend_schema(
        summary="Create a draft proposal",
        request=QuoteInput,
        parameters=[IDEMPOTENCY_HEADER],
        responses={201: QuoteDetailSerializer},
    ),
    partial_update=extend_schema(
        summary="Change a draft's header (title, currency, links, validity, notes)",
        request=QuoteChangeInput,
        parameters=[IF_MATCH_HEADER],
    ),
    destroy=extend_schema(summary="Move a proposal to the trash", parameters=[IF_MATCH_HEADER], responses={204: None}),
    add_line=_quote_action("Append a line to a draft (answers the whole quote)", request=LineInput, status_code=201),
    reorder_lines=_quote_action("Put a draft's lines in a new order", request=LinesReorderInput),
    mark_sent=_quote_action("Record that a draft was sent to the customer"),
    accept=_quote_action("Mark a sent proposal accepted"),
    reject=_quote_action("Mark a sent proposal rejected"),
    duplicate=_quote_action("Copy a proposal into a new draft", status_code=201, headers=False),
)
class QuoteViewSet(
    ListRecordsMixin, RetrieveRecordMixin, CreateRecordMixin, UpdateRecordMixin, TrashRecordMixin, RecordViewSet
):
    record_type = "quote"
    filter_serializer = QuoteFilter
    create_serializer = QuoteInput
    update_serializer = QuoteChangeInput
    action_permissions = {
        "add_line": "edit",
        "line": "edit",
        "reorder_lines": "edit",
        "mark_sent": "edit",
        "accept": "edit",
        "reject": "edit",
        "duplicate": "create",
        "pdf": "view",
    }

    def get_serializer_class(self):
        return QuoteSerializer if self.action == "list" else QuoteDetailSerializer

    def records(self, actor, query):
        return quote_list(actor=actor, **query)

    def record(self, actor, pk):
        return quote_get(actor=actor, quote_id=pk)

    def create_record(self, actor, data):
        quote = quote_create(actor=actor, **data)
        return quote_get(actor=actor, quote_id=quote.pk)

    def update_record(self, actor, record, data):
        quote_update(actor=actor, quote=record, **data)
        return quote_get(actor=actor, quote_id=record.pk)

    def _change(self, quote, write) -> Response:
        """One guarded write on a quote; answers the quote as it is now, with its new ETag."""
        with self.edit_guard(quote):
            write(quote)
        return self.respond(self.record(self.request.user, quote.pk))

    @action(detail=True, methods=["post"], url_path="lines")
    def add_line(self, request, pk=None):
        quote = self.get_object()
        data = self.validated(LineInput)
        response = self._change(quote, lambda quote: quote_line_add(actor=request.user, quote=quote, **data))
        response.status_code = status.HTTP_201_CREATED
        return response

    @extend_schema(
        methods=["PATCH"],
        summary="Change a line of a draft (answers the whole quote)",
        request=LineChangeInput,
        parameters=[LINE_ID, IF_MATCH_HEADER],
        responses=QUOTE_RESPONSE,
    )
    @extend_schema(
        methods=["DELETE"],
        summary="Remove a line from a draft (answers the whole quote)",
        request=None,
        parameters=[LINE_ID, IF_MATCH_HEADER],
        responses=QUOTE_RESPONSE,
    )
    @action(detail=True, methods=["patch", "delete"], url_path=r"lines/(?P<line_id>[0-9]{1,18})")
    def line(self, request, pk=None, line_id=None):
        quote = self.get_object()
        line = next((line for line in quote.lines.all() if line.pk == int(line_id)), None)
        if line is None:
            raise RecordNotFound(_("This line is no longer on the proposal."))
        if request.method == "DELETE":
            return self._change(quote, lambda _quote: quote_line_remove(actor=request.user, line=line))
        data = self.validated(LineChangeInput, partial=True)
        return self._change(quote, lambda _quote: quote_line_update(actor=request.user, line=line, **data))

    @action(detail=True, methods=["post"], url_path="lines/reorder")
    def reorder_lines(self, request, pk=None):
        quote = self.get_object()
        data = self.validated(LinesReorderInput)
        return self._change(quote, lambda quote: quote_lines_reorder(actor=request.user, quote=quote, **data))

    @action(detail=True, methods=["post"], url_path="mark-sent")
    def mark_sent(self, request, pk=None):
        return self._change(self.get_object(), lambda quote: quote_mark_sent(actor=request.user, quote=quote))

    @action(detail=True, methods=["post"])
    def accept(self, request, pk=None):
        return self._change(self.get_object(), lambda quote: quote_accept(actor=request.user, quote=quote))

    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        return self._change(self.get_object(), lambda quote: quote_reject(actor=request.user, quote=quote))

    @action(detail=True, methods=["post"])
    def duplicate(self, request, pk=None):
        copy = quote_duplicate(actor=request.user, quote=self.get_object())
        return self.respond(self.record(request.user, copy.pk), status_code=status.HTTP_201_CREATED)

    @extend_schema(
        summary="The proposal as a printable PDF",
        parameters=[PdfQuery],
        responses={(200, "application/pdf"): OpenApiResponse(OpenApiTypes.BINARY, description="An A4 PDF document.")},
    )
    @action(detail=True, methods=["get"], renderer_classes=[renderers.JSONRenderer, PdfRenderer])
    def pdf(self, request, pk=None):
        query = PdfQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        language = query.validated_data.get("language") or translation.get_language() or settings.LANGUAGE_CODE
        if language not in dict(settings.LANGUAGES):
            language = settings.LANGUAGE_CODE
        quote = self.get_object()
        response = HttpResponse(render_quote_pdf(quote, language), content_type="application/pdf")
        response["Content-Disposition"] = f'inline; filename="{quote.number}.pdf"'
        return response

    def finalize_response(self, request, response, *args, **kwargs):
        # A client that asked for a PDF still gets its errors as JSON, labelled as JSON.
        if isinstance(getattr(request, "accepted_renderer", None), PdfRenderer) and hasattr(response, "data"):
            request.accepted_renderer = renderers.JSONRenderer()
            request.accepted_media_type = "application/json"
        return super().finalize_response(request, response, *args, **kwargs)

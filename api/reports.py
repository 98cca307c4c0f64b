"""Sales reports over the API, from crm.reports.selectors with the acting user: a sales
rep's funnel counts only the deals that rep may see, exactly as in the web UI."""

from __future__ import annotations

from datetime import date, timedelta

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from api.base import TenantAPIView
from api.deals import PipelineBriefSerializer, visible_pipeline
from api.fields import CalendarDateField, VisibleRecordField
from crm.deals.selectors import pipeline_default
from crm.reports.selectors import (
    MAX_FORECAST_MONTHS,
    PERIODS,
    SOURCE_GROUPS,
    forecast,
    lead_conversion,
    sales_funnel,
    source_effectiveness,
)

# A report lists every period of its range; more rows than this is no report a person reads.
MAX_PERIODS = 1000
PERIOD_DAYS = {"day": 1, "week": 7, "month": 28, "quarter": 89, "year": 365}


def _money(**kwargs) -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=18, decimal_places=2, read_only=True, **kwargs)


def _rate() -> serializers.DecimalField:
    return serializers.DecimalField(
        max_digits=6, decimal_places=1, read_only=True, allow_null=True, help_text="Percent; null: nothing to divide"
    )


def _filters(serializer_class: type, request) -> dict:
    serializer = serializer_class(data=request.query_params, context={"request": request})
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


class DateRangeFilter(serializers.Serializer):
    date_from = CalendarDateField(required=False)
    date_to = CalendarDateField(required=False, help_text="Inclusive")


def _range_or_last_year(query: dict) -> tuple[date, date]:
    """The asked range; by default the twelve months up to today."""
    date_to = query.get("date_to") or timezone.localdate()
    date_from = query.get("date_from") or (date_to.replace(day=1) - timedelta(days=335)).replace(day=1)
    return date_from, date_to


# --- funnel ------------------------------------------------------------------------------


class FunnelFilter(DateRangeFilter):
    pipeline = VisibleRecordField(getter=visible_pipeline, required=False, help_text="Default: the default pipeline")
    date_from = CalendarDateField(required=False, help_text="Deals created from this day (default: all)")
    date_to = CalendarDateField(required=False, help_text="Deals created up to this day, inclusive")


class FunnelStageSerializer(serializers.Serializer):
    stage_id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(read_only=True)
    kind = serializers.CharField(read_only=True)
    count = serializers.IntegerField(
        source="reached_count", read_only=True, help_text="Deals that reached this stage or a later one"
    )
    amount = _money(source="reached_amount")
    conversion_to_next = _rate()
    entered_count = serializers.IntegerField(read_only=True)
    entered_amount = _money()
    current_count = serializers.IntegerField(read_only=True, help_text="In this stage now")
    current_amount = _money()
    lost_here_count = serializers.IntegerField(read_only=True)
    median_days_in_stage = serializers.DecimalField(max_digits=10, decimal_places=1, read_only=True, allow_null=True)


class FunnelSerializer(serializers.Serializer):
    pipeline = PipelineBriefSerializer(read_only=True)
    date_from = serializers.DateField(read_only=True, allow_null=True)
    date_to = serializers.DateField(read_only=True, allow_null=True)
    currency = serializers.CharField(read_only=True)
    stages = FunnelStageSerializer(many=True, read_only=True)
    total_count = serializers.IntegerField(read_only=True)
    total_amount = _money()
    open_count = serializers.IntegerField(read_only=True)
    open_amount = _money()
    won_count = serializers.IntegerField(read_only=True)
    won_amount = _money()
    lost_count = serializers.IntegerField(read_only=True)
    lost_amount = _money()
    win_rate = _rate()
    close_rate = _rate()


class FunnelView(TenantAPIView):
    record_type = "deal"

    @extend_schema(
        summary="Sales funnel of a pipeline: per stage, deals, amount and conversion to the next stage",
        parameters=[FunnelFilter],
        responses={200: FunnelSerializer},
    )
    def get(self, request):
        query = _filters(FunnelFilter, request)
        pipeline = query.get("pipeline") or pipeline_default()
        if pipeline is None:
            raise ValidationError({"pipeline": [_("Create a pipeline first.")]})
        funnel = sales_funnel(
            actor=request.user, pipeline=pipeline, date_from=query.get("date_from"), date_to=query.get("date_to")
        )
        body = FunnelSerializer(funnel).data
        body["pipeline"] = PipelineBriefSerializer(pipeline).data
        return Response(body)


# --- lead conversion -----------------------------------------------------------------------


class ConversionFilter(DateRangeFilter):
    date_from = CalendarDateField(required=False, help_text="Leads created from this day (default: 12 months ago)")
    period = serializers.ChoiceField(choices=list(PERIODS), required=False, default="month")


class ConversionRowSerializer(serializers.Serializer):
    period_start = serializers.DateField(read_only=True)
    leads = serializers.IntegerField(read_only=True)
    contacts = serializers.IntegerField(read_only=True, help_text="Leads converted")
    deals = serializers.IntegerField(read_only=True)
    won = serializers.IntegerField(read_only=True)
    won_amount = _money()
    contact_rate = _rate()
    deal_rate = _rate()
    won_rate = _rate()
    overall_rate = _rate()


class ConversionSerializer(serializers.Serializer):
    date_from = serializers.DateField(read_only=True)
    date_to = serializers.DateField(read_only=True)
    period = serializers.CharField(read_only=True)
    currency = serializers.CharField(read_only=True)
    rows = ConversionRowSerializer(many=True, read_only=True)
    total = ConversionRowSerializer(read_only=True)


class ConversionView(TenantAPIView):
    record_type = "lead"

    @extend_schema(
        summary="Lead to deal conversion by period (leads, contacts, deals, won)",
        parameters=[ConversionFilter],
        responses={200: ConversionSerializer},
    )
    def get(self, request):
        query = _filters(ConversionFilter, request)
        date_from, date_to = _range_or_last_year(query)
        period = query["period"]
        if (date_to - date_from).days // PERIOD_DAYS[period] > MAX_PERIODS:
            raise ValidationError(
                {"period": [_("Too many periods: choose a longer period or a shorter range.")]}, code="too_many"
            )
        report = lead_conversion(actor=request.user, date_from=date_from, date_to=date_to, period=period)
        return Response(ConversionSerializer(report).data)


# --- sources -------------------------------------------------------------------------------


class SourcesFilter(DateRangeFilter):
    date_from = CalendarDateField(required=False, help_text="Leads created from this day (default: 12 months ago)")
    group_by = serializers.ChoiceField(
        choices=list(SOURCE_GROUPS), required=False, default="utm_source", help_text="utm_term: keywords"
    )


class SourceRowSerializer(serializers.Serializer):
    key = serializers.CharField(read_only=True, help_text='The channel or value; "" for leads without one')
    leads = serializers.IntegerField(read_only=True)
    converted = serializers.IntegerField(read_only=True)
    deals = serializers.IntegerField(read_only=True)
    won = serializers.IntegerField(read_only=True)
    won_amount = _money()
    conversion_rate = _rate()
    win_rate = _rate()


class SourcesSerializer(serializers.Serializer):
    date_from = serializers.DateField(read_only=True)
    date_to = serializers.DateField(read_only=True)
    group_by = serializers.CharField(read_only=True)
    currency = serializers.CharField(read_only=True)
    rows = SourceRowSerializer(many=True, read_only=True)


class SourcesView(TenantAPIView):
    record_type = "lead"

    @extend_schema(
        summary="Which channels, campaigns and keywords bring leads and won deals",
        parameters=[SourcesFilter],
        responses={200: SourcesSerializer},
    )
    def get(self, request):
        query = _filters(SourcesFilter, request)
        date_from, date_to = _range_or_last_year(query)
        report = source_effectiveness(
            actor=request.user, date_from=date_from, date_to=date_to, group_by=query["group_by"]
        )
        return Response(SourcesSerializer(report).data)


# --- forecast ------------------------------------------------------------------------------


class ForecastFilter(serializers.Serializer):
    months = serializers.IntegerField(min_value=1, max_value=MAX_FORECAST_MONTHS, required=False, default=6)
    pipeline = VisibleRecordField(getter=visible_pipeline, required=False, help_text="Default: every pipeline")


class ForecastMonthSerializer(serializers.Serializer):
    month = serializers.DateField(read_only=True)
    open_count = serializers.IntegerField(read_only=True, help_text="Open deals expected to close this month")
    open_amount = _money()
    weighted_amount = _money(help_text="By their stage's win probability")
    won_count = serializers.IntegerField(read_only=True)
    won_amount = _money()
    expected_amount = _money(help_text="Won plus weighted open")


class ForecastBucketSerializer(serializers.Serializer):
    count = serializers.IntegerField(read_only=True)
    amount = _money()
    weighted_amount = _money()


class ForecastSerializer(serializers.Serializer):
    currency = serializers.CharField(read_only=True)
    months = ForecastMonthSerializer(many=True, read_only=True)
    overdue = ForecastBucketSerializer(read_only=True, help_text="Open deals past their expected close date")
    undated = ForecastBucketSerializer(read_only=True, help_text="Open deals without an expected close date")


class ForecastView(TenantAPIView):
    record_type = "deal"

    @extend_schema(
        summary="Revenue forecast by month: open deals weighted by stage probability, plus won",
        parameters=[ForecastFilter],
        responses={200: ForecastSerializer},
    )
    def get(self, request):
        query = _filters(ForecastFilter, request)
        report = forecast(actor=request.user, months=query["months"], pipeline=query.get("pipeline"))
        return Response(ForecastSerializer(report).data)

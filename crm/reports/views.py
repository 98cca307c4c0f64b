"""The Reports page (`/reports/`): sales funnel (an SVG chart with its table), lead →
deal conversion by period, channels and keywords, forecast. Every number comes from
crm.reports.selectors with the signed-in person as the actor, so a sales rep sees only
the figures of the deals and leads they may see."""

from __future__ import annotations

from datetime import date, timedelta

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from crm.charts import funnel_chart
from crm.deals.selectors import pipeline_default, pipeline_list
from crm.leads.models import LeadChannel
from crm.reports.selectors import forecast, lead_conversion, sales_funnel, source_effectiveness

CHANNEL_LABELS = dict(LeadChannel.choices)
PERIOD_CHOICES = [
    ("week", gettext_lazy("Week")),
    ("month", gettext_lazy("Month")),
    ("quarter", gettext_lazy("Quarter")),
    ("year", gettext_lazy("Year")),
]
GROUP_CHOICES = [
    ("channel", gettext_lazy("Channel")),
    ("utm_source", gettext_lazy("Source")),
    ("utm_medium", gettext_lazy("Medium")),
    ("utm_campaign", gettext_lazy("Campaign")),
    ("utm_term", gettext_lazy("Keyword")),
    ("search_engine", gettext_lazy("Search engine")),
]
# A report lists every period of its range; more rows than this nobody reads.
MAX_ROWS = 120
PERIOD_DAYS = {"week": 7, "month": 28, "quarter": 89, "year": 365}


class ReportFilterForm(forms.Form):
    pipeline = forms.ModelChoiceField(label=gettext_lazy("Pipeline"), queryset=None, required=False, empty_label=None)
    date_from = forms.DateField(
        label=gettext_lazy("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(label=gettext_lazy("To"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    period = forms.ChoiceField(label=gettext_lazy("Conversion by"), choices=PERIOD_CHOICES, required=False)
    group_by = forms.ChoiceField(label=gettext_lazy("Leads by"), choices=GROUP_CHOICES, required=False)

    def __init__(self, *args, actor=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["pipeline"].queryset = pipeline_list(actor=actor)

    def clean(self):
        data = super().clean()
        date_from, date_to = data.get("date_from"), data.get("date_to")
        if date_from and date_to and date_from > date_to:
            self.add_error("date_to", _("The end date is before the start date."))
        period = data.get("period") or "month"
        if date_from and date_to and (date_to - date_from).days / PERIOD_DAYS[period] > MAX_ROWS:
            self.add_error("period", _("Too many periods for this range: choose a longer period or a shorter range."))
        return data


def _default_range(today: date) -> tuple[date, date]:
    """The twelve months up to today."""
    return (today.replace(day=1) - timedelta(days=335)).replace(day=1), today


def period_label(start: date, period: str) -> str:
    if period == "week":
        return _("Week of %(date)s") % {"date": date_format(start, "SHORT_DATE_FORMAT")}
    if period == "month":
        return date_format(start, "YEAR_MONTH_FORMAT")
    if period == "quarter":
        return _("Q%(quarter)d %(year)d") % {"quarter": (start.month - 1) // 3 + 1, "year": start.year}
    return str(start.year)


def _source_label(key: str, group_by: str) -> str:
    if not key:
        return _("(not known)")
    if group_by == "channel":
        return str(CHANNEL_LABELS.get(key, key))
    return key


@require_GET
@login_required
def reports_view(request: HttpRequest) -> HttpResponse:
    form = ReportFilterForm(request.GET or None, actor=request.user)
    if form.is_bound and not form.is_valid():
        return render(request, "reports/index.html", {"form": form}, status=400)
    data = form.cleaned_data if form.is_bound else {}
    default_from, default_to = _default_range(timezone.localdate())
    date_from, date_to = data.get("date_from") or default_from, data.get("date_to") or default_to
    if date_from > date_to:
        date_from = date_to.replace(day=1)
    period, group_by = data.get("period") or "month", data.get("group_by") or "channel"
    pipeline = data.get("pipeline") or pipeline_default()
    context: dict = {"form": form, "date_from": date_from, "date_to": date_to, "pipeline": pipeline}
    try:
        if pipeline is not None:
            funnel = sales_funnel(actor=request.user, pipeline=pipeline, date_from=date_from, date_to=date_to)
            context["funnel"] = funnel
            context["funnel_chart"] = funnel_chart(funnel.stages)
        conversion = lead_conversion(actor=request.user, date_from=date_from, date_to=date_to, period=period)
        context["conversion"] = conversion
        context["conversion_rows"] = [(period_label(row.period_start, period), row) for row in conversion.rows]
        sources = source_effectiveness(actor=request.user, date_from=date_from, date_to=date_to, group_by=group_by)
        context["sources"] = sources
        context["source_rows"] = [(_source_label(row.key, group_by), row) for row in sources.rows]
        context["group_label"] = dict(GROUP_CHOICES)[group_by]
        context["forecast"] = forecast(actor=request.user, months=6, pipeline=pipeline)
    except ValidationError as error:
        for name, problems in error.message_dict.items():
            form.add_error(name if name in form.fields else None, problems)
        return render(request, "reports/index.html", {"form": form}, status=400)
    return render(request, "reports/index.html", context)

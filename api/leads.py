"""Leads (with conversion and disqualification) and lead capture forms over the API,
through crm.leads' services and selectors."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts import roles
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
from api.clients import CompanySerializer, ContactSerializer, visible_company
from api.custom_fields import CUSTOM_FILTER_PARAMETERS, CustomFieldListMixin, LeadCustomFields, OrderingField
from api.deals import DealSerializer, visible_contact, visible_pipeline
from api.fields import MAX_ID, CalendarDateField, MemberField, PersonSerializer, TagNamesField, VisibleRecordField
from crm.clients.selectors import company_get, contact_get
from crm.deals.selectors import deal_get
from crm.leads.models import LeadAssignment, LeadChannel, LeadStatus
from crm.leads.selectors import LEAD_ORDERINGS, lead_form_get, lead_form_list, lead_get, lead_list
from crm.leads.services import (
    MANUAL_STATUSES,
    lead_convert,
    lead_create,
    lead_disqualify,
    lead_form_create,
    lead_form_deactivate,
    lead_form_snippet,
    lead_form_update,
    lead_set_status,
    lead_update,
)
from crm.leads.source import SOURCE_FIELDS

# --- leads: shapes ---------------------------------------------------------------------


class LeadFormBriefSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(read_only=True)


class LeadSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(read_only=True)
    phone = serializers.CharField(read_only=True, help_text="E.164")
    email = serializers.CharField(read_only=True)
    company_name = serializers.CharField(read_only=True)
    message = serializers.CharField(read_only=True)
    status = serializers.ChoiceField(choices=LeadStatus.choices, read_only=True)
    disqualified_reason = serializers.CharField(read_only=True)
    channel = serializers.CharField(read_only=True)
    utm_source = serializers.CharField(read_only=True)
    utm_medium = serializers.CharField(read_only=True)
    utm_campaign = serializers.CharField(read_only=True)
    utm_term = serializers.CharField(read_only=True)
    utm_content = serializers.CharField(read_only=True)
    search_engine = serializers.CharField(read_only=True)
    source_url = serializers.CharField(read_only=True)
    referrer = serializers.CharField(read_only=True)
    form = LeadFormBriefSerializer(read_only=True, allow_null=True)
    owner = PersonSerializer(read_only=True, allow_null=True)
    team = serializers.IntegerField(source="team_id", read_only=True, allow_null=True)
    tags = TagNamesField(read_only=True)
    converted_at = serializers.DateTimeField(read_only=True, allow_null=True)
    converted_contact = serializers.IntegerField(source="converted_contact_id", read_only=True, allow_null=True)
    converted_company = serializers.IntegerField(source="converted_company_id", read_only=True, allow_null=True)
    converted_deal = serializers.IntegerField(source="converted_deal_id", read_only=True, allow_null=True)
    custom_fields = LeadCustomFields(read_only=True)
    created_at = serializers.DateTimeField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)


class LeadUpdateInput(serializers.Serializer):
    """Shapes only; crm.leads.services cleans phones, emails and text."""

    name = serializers.CharField(max_length=200, allow_blank=True)
    phone = serializers.CharField(max_length=40, allow_blank=True)
    email = serializers.CharField(max_length=254, allow_blank=True)
    company_name = serializers.CharField(max_length=200, allow_blank=True)
    message = serializers.CharField(max_length=10_000, allow_blank=True)
    owner = MemberField()
    tags = TagNamesField()
    status = serializers.ChoiceField(
        choices=list(MANUAL_STATUSES),
        help_text="new, in_progress or qualified (reopens a disqualified lead); use disqualify and convert otherwise",
    )
    custom_fields = LeadCustomFields()


class LeadInput(serializers.Serializer):
    name = serializers.CharField(max_length=200, allow_blank=True, required=False)
    phone = serializers.CharField(max_length=40, allow_blank=True, required=False)
    email = serializers.CharField(max_length=254, allow_blank=True, required=False)
    company_name = serializers.CharField(max_length=200, allow_blank=True, required=False)
    message = serializers.CharField(max_length=10_000, allow_blank=True, required=False)
    owner = MemberField(required=False, help_text="Default: you")
    tags = TagNamesField(required=False)
    channel = serializers.ChoiceField(choices=LeadChannel.choices, required=False, default=LeadChannel.API)
    utm_source = serializers.CharField(max_length=255, allow_blank=True, required=False)
    utm_medium = serializers.CharField(max_length=255, allow_blank=True, required=False)
    utm_campaign = serializers.CharField(max_length=255, allow_blank=True, required=False)
    utm_term = serializers.CharField(max_length=255, allow_blank=True, required=False)
    utm_content = serializers.CharField(max_length=255, allow_blank=True, required=False)
    search_engine = serializers.CharField(max_length=40, allow_blank=True, required=False)
    source_url = serializers.CharField(max_length=2000, allow_blank=True, required=False)
    referrer = serializers.CharField(max_length=2000, allow_blank=True, required=False)
    custom_fields = LeadCustomFields(required=False)


class LeadFilter(serializers.Serializer):
    status = serializers.ChoiceField(choices=LeadStatus.choices, required=False)
    owner = MemberField(required=False)
    channel = serializers.ChoiceField(choices=LeadChannel.choices, required=False)
    utm_source = serializers.CharField(max_length=255, required=False, allow_blank=True)
    utm_campaign = serializers.CharField(max_length=255, required=False, allow_blank=True)
    form = serializers.IntegerField(required=False, min_value=1, max_value=MAX_ID)
    tag = serializers.IntegerField(required=False, min_value=1, max_value=MAX_ID)
    created_from = CalendarDateField(required=False)
    created_to = CalendarDateField(required=False, help_text="Inclusive")
    search = serializers.CharField(
        max_length=200, required=False, allow_blank=True, help_text="Name, company name, email or phone"
    )
    ordering = OrderingField(choices=list(LEAD_ORDERINGS), required=False)


class LeadConvertInput(serializers.Serializer):
    pipeline = VisibleRecordField(
        getter=visible_pipeline, required=False, help_text="Where the deal goes; default: the default pipeline"
    )
    contact = VisibleRecordField(
        getter=visible_contact, required=False, help_text="Link this existing contact instead of creating one"
    )
    company = VisibleRecordField(
        getter=visible_company, required=False, help_text="Link this existing company instead of creating one"
    )
    create_company = serializers.BooleanField(
        required=False, default=True, help_text="Create (or reuse by name) a company from the lead's company name"
    )
    deal_title = serializers.CharField(max_length=200, allow_blank=True, required=False)
    amount = serializers.DecimalField(max_digits=14, decimal_places=2, min_value=0, required=False)
    currency = serializers.CharField(max_length=3, allow_blank=True, required=False)


class LeadConversionSerializer(serializers.Serializer):
    lead = LeadSerializer(read_only=True)
    contact = ContactSerializer(read_only=True)
    company = CompanySerializer(read_only=True, allow_null=True)
    deal = DealSerializer(read_only=True)


class LeadDisqualifyInput(serializers.Serializer):
    reason = serializers.CharField(max_length=255)


# --- leads: endpoints ------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(summary="List leads", parameters=[LeadFilter, *CUSTOM_FILTER_PARAMETERS]),
    retrieve=extend_schema(summary="Get one lead"),
    create=extend_schema(summary="Create a lead", request=LeadInput, parameters=[IDEMPOTENCY_HEADER]),
    partial_update=extend_schema(
        summary="Change some fields of a lead", request=LeadUpdateInput, parameters=[IF_MATCH_HEADER]
    ),
    destroy=extend_schema(summary="Move a lead to the trash", parameters=[IF_MATCH_HEADER], responses={204: None}),
    convert=extend_schema(
        summary="Convert a lead into a contact, a company and a deal",
        request=LeadConvertInput,
        responses={201: LeadConversionSerializer},
        parameters=[IDEMPOTENCY_HEADER, IF_MATCH_HEADER],
    ),
    disqualify=extend_schema(
        summary="Disqualify a lead with a reason (its open tasks are cancelled)",
        request=LeadDisqualifyInput,
        responses={200: LeadSerializer},
        parameters=[IDEMPOTENCY_HEADER, IF_MATCH_HEADER],
    ),
)
class LeadViewSet(
    CustomFieldListMixin,
    ListRecordsMixin,
    RetrieveRecordMixin,
    CreateRecordMixin,
    UpdateRecordMixin,
    TrashRecordMixin,
    RecordViewSet,
):
    record_type = "lead"
    custom_entity = "lead"
    serializer_class = LeadSerializer
    filter_serializer = LeadFilter
    create_serializer = LeadInput
    update_serializer = LeadUpdateInput
    action_permissions = {"convert": "edit", "disqualify": "edit"}

    def records(self, actor, query):
        return self.custom_records(lead_list(actor=actor, **query))

    def record(self, actor, pk):
        return lead_get(actor=actor, lead_id=pk)

    def create_record(self, actor, data):
        source = {field: data.pop(field) for field in SOURCE_FIELDS if field in data}
        # A POST is a person's input: the required custom fields must be given.
        lead = lead_create(actor=actor, source=source, **{"name": "", "custom_fields": {}, **data})
        return lead_get(actor=None, lead_id=lead.pk)

    def update_record(self, actor, record, data):
        new_status = data.pop("status", None)
        lead = lead_update(actor=actor, lead=record, **data)
        if new_status is not None and new_status != lead.status:
            lead = lead_set_status(actor=actor, lead=lead, status=new_status)
        return lead_get(actor=None, lead_id=lead.pk)

    @action(detail=True, methods=["post"])
    def convert(self, request, pk=None):
        lead = self.get_object()
        data = self.validated(LeadConvertInput)
        with self.edit_guard(lead):
            conversion = lead_convert(
                actor=request.user,
                lead=lead,
                pipeline=data.get("pipeline"),
                existing_contact=data.get("contact"),
                existing_company=data.get("company"),
                create_company=data["create_company"],
                deal_title=data.get("deal_title"),
                amount=data.get("amount"),
                currency=data.get("currency"),
            )
        body = {
            "lead": lead_get(actor=None, lead_id=conversion.lead.pk),
            "contact": contact_get(actor=None, contact_id=conversion.contact.pk),
            "company": company_get(actor=None, company_id=conversion.company.pk) if conversion.company else None,
            "deal": deal_get(actor=None, deal_id=conversion.deal.pk),
        }
        return Response(LeadConversionSerializer(body).data, status=status.HTTP_201_CREATED)

    @action(detail=True, methods=["post"])
    def disqualify(self, request, pk=None):
        lead = self.get_object()
        reason = self.validated(LeadDisqualifyInput)["reason"]
        with self.edit_guard(lead):
            lead = lead_disqualify(actor=request.user, lead=lead, reason=reason)
        return self.respond(lead_get(actor=None, lead_id=lead.pk))


# --- lead forms --------------------------------------------------------------------------


class LeadFormSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(read_only=True)
    key = serializers.CharField(read_only=True, help_text="The public address: POST /forms/<key>/")
    is_active = serializers.BooleanField(read_only=True)
    allowed_origins = serializers.ListField(
        child=serializers.CharField(), read_only=True, help_text="Empty: any site may post"
    )
    assignment = serializers.ChoiceField(choices=LeadAssignment.choices, read_only=True)
    owner = PersonSerializer(read_only=True, allow_null=True)
    round_robin_users = PersonSerializer(many=True, read_only=True)
    thank_you_text = serializers.CharField(read_only=True)
    redirect_url = serializers.CharField(read_only=True)
    lead_count = serializers.IntegerField(read_only=True)
    url = serializers.SerializerMethodField(help_text="Where the form posts")
    snippet = serializers.SerializerMethodField(help_text="Copy-paste HTML for the website")
    created_at = serializers.DateTimeField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)

    def _base_url(self) -> str:
        return self.context["request"].build_absolute_uri("/")

    def get_url(self, form) -> str:
        return self.context["request"].build_absolute_uri(f"/forms/{form.key}/")

    def get_snippet(self, form) -> str:
        return lead_form_snippet(form, self._base_url())


class LeadFormUpdateInput(serializers.Serializer):
    name = serializers.CharField(max_length=100, allow_blank=True)
    allowed_origins = serializers.ListField(child=serializers.CharField(max_length=255), max_length=50)
    assignment = serializers.ChoiceField(choices=LeadAssignment.choices)
    owner = MemberField(help_text="Gets the leads (assignment `owner`); default: you")
    round_robin_users = serializers.ListField(
        child=MemberField(allow_null=False), max_length=50, help_text="Take turns (assignment `round_robin`)"
    )
    thank_you_text = serializers.CharField(max_length=2_000, allow_blank=True)
    redirect_url = serializers.CharField(max_length=2_000, allow_blank=True)
    is_active = serializers.BooleanField()


class LeadFormInput(LeadFormUpdateInput):
    allowed_origins = serializers.ListField(child=serializers.CharField(max_length=255), max_length=50, required=False)
    assignment = serializers.ChoiceField(choices=LeadAssignment.choices, required=False)
    owner = MemberField(required=False, help_text="Gets the leads (assignment `owner`); default: you")
    round_robin_users = serializers.ListField(
        child=MemberField(allow_null=False),
        max_length=50,
        required=False,
        help_text="Take turns (assignment `round_robin`)",
    )
    thank_you_text = serializers.CharField(max_length=2_000, allow_blank=True, required=False)
    redirect_url = serializers.CharField(max_length=2_000, allow_blank=True, required=False)
    is_active = None


@extend_schema_view(
    list=extend_schema(summary="List lead capture forms (administrators)"),
    retrieve=extend_schema(summary="Get one lead capture form with its snippet (administrators)"),
    create=extend_schema(
        summary="Create a lead capture form (administrators)", request=LeadFormInput, parameters=[IDEMPOTENCY_HEADER]
    ),
    partial_update=extend_schema(
        summary="Change a lead capture form (administrators)", request=LeadFormUpdateInput, parameters=[IF_MATCH_HEADER]
    ),
    destroy=extend_schema(
        summary="Switch a lead capture form off; its leads are kept (administrators)",
        parameters=[IF_MATCH_HEADER],
        responses={204: None},
    ),
)
class LeadFormViewSet(ListRecordsMixin, RetrieveRecordMixin, CreateRecordMixin, UpdateRecordMixin, RecordViewSet):
    required_capability = roles.SETTINGS
    serializer_class = LeadFormSerializer
    create_serializer = LeadFormInput
    update_serializer = LeadFormUpdateInput

    def records(self, actor, query):
        return lead_form_list(actor=actor)

    def record(self, actor, pk):
        return lead_form_get(actor=actor, form_id=pk)

    def create_record(self, actor, data):
        form = lead_form_create(actor=actor, **data)
        return lead_form_get(actor=actor, form_id=form.pk)

    def update_record(self, actor, record, data):
        form = lead_form_update(actor=actor, form=record, **data)
        return lead_form_get(actor=actor, form_id=form.pk)

    def destroy(self, request, pk=None):
        form = self.get_object()
        with self.edit_guard(form):
            lead_form_deactivate(actor=request.user, form=form)
        return Response(status=status.HTTP_204_NO_CONTENT)

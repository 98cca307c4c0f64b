"""Companies and contacts over the API, through crm.clients' services and selectors."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers

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
from api.custom_fields import (
    CUSTOM_FILTER_PARAMETERS,
    CompanyCustomFields,
    ContactCustomFields,
    CustomFieldListMixin,
    OrderingField,
)
from api.fields import MemberField, PersonSerializer, TagNamesField, TeamField, VisibleRecordField
from crm.clients.selectors import (
    COMPANY_ORDERINGS,
    CONTACT_ORDERINGS,
    company_get,
    company_list,
    contact_get,
    contact_list,
)
from crm.clients.services import company_create, company_update, contact_create, contact_update


def visible_company(actor, pk: int):
    return company_get(actor=actor, company_id=pk)


# --- shapes ----------------------------------------------------------------------------

ADDRESS_FIELDS = ["address", "city", "region", "postal_code", "country"]


class CompanyBriefSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(read_only=True)


class ClientRecordSerializer(serializers.Serializer):
    """What companies and contacts share."""

    id = serializers.IntegerField(read_only=True)
    emails = serializers.ListField(child=serializers.CharField(), read_only=True)
    phones = serializers.ListField(child=serializers.CharField(), read_only=True, help_text="E.164")
    address = serializers.CharField(read_only=True)
    city = serializers.CharField(read_only=True)
    region = serializers.CharField(read_only=True)
    postal_code = serializers.CharField(read_only=True)
    country = serializers.CharField(read_only=True)
    notes = serializers.CharField(read_only=True)
    owner = PersonSerializer(read_only=True, allow_null=True)
    team = serializers.IntegerField(source="team_id", read_only=True, allow_null=True)
    tags = TagNamesField(read_only=True)
    created_at = serializers.DateTimeField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)


class CompanySerializer(ClientRecordSerializer):
    name = serializers.CharField(read_only=True)
    website = serializers.CharField(read_only=True)
    industry = serializers.CharField(read_only=True)
    custom_fields = CompanyCustomFields(read_only=True)


class ContactSerializer(ClientRecordSerializer):
    first_name = serializers.CharField(read_only=True)
    last_name = serializers.CharField(read_only=True)
    full_name = serializers.CharField(read_only=True)
    company = CompanyBriefSerializer(read_only=True, allow_null=True)
    job_title = serializers.CharField(read_only=True)
    birthday = serializers.DateField(read_only=True, allow_null=True)
    custom_fields = ContactCustomFields(read_only=True)


class ClientRecordInput(serializers.Serializer):
    """Shapes only; the services clean and check the values (emails, phones, country...)."""

    emails = serializers.ListField(child=serializers.CharField(max_length=254), max_length=20, required=False)
    phones = serializers.ListField(child=serializers.CharField(max_length=40), max_length=20, required=False)
    address = serializers.CharField(max_length=255, allow_blank=True, required=False)
    city = serializers.CharField(max_length=100, allow_blank=True, required=False)
    region = serializers.CharField(max_length=100, allow_blank=True, required=False)
    postal_code = serializers.CharField(max_length=20, allow_blank=True, required=False)
    country = serializers.CharField(max_length=2, allow_blank=True, required=False)
    notes = serializers.CharField(max_length=20_000, allow_blank=True, required=False)
    owner = MemberField(required=False)
    team = TeamField(required=False)
    tags = TagNamesField(required=False)


class CompanyInput(ClientRecordInput):
    name = serializers.CharField(max_length=200, allow_blank=True)
    website = serializers.CharField(max_length=500, allow_blank=True, required=False)
    industry = serializers.CharField(max_length=100, allow_blank=True, required=False)
    custom_fields = CompanyCustomFields(required=False)


class ContactInput(ClientRecordInput):
    first_name = serializers.CharField(max_length=100, allow_blank=True, required=False)
    last_name = serializers.CharField(max_length=100, allow_blank=True, required=False)
    company = VisibleRecordField(getter=visible_company, required=False)
    job_title = serializers.CharField(max_length=150, allow_blank=True, required=False)
    birthday = serializers.DateField(allow_null=True, required=False)
    custom_fields = ContactCustomFields(required=False)


class ClientFilter(serializers.Serializer):
    search = serializers.CharField(max_length=200, required=False, allow_blank=True)
    owner = MemberField(required=False)
    tag = serializers.IntegerField(required=False, min_value=1, max_value=2**63 - 1)
    created_from = serializers.DateField(required=False)
    created_to = serializers.DateField(required=False)


class CompanyFilter(ClientFilter):
    ordering = OrderingField(choices=list(COMPANY_ORDERINGS), required=False)


class ContactFilter(ClientFilter):
    company = serializers.IntegerField(required=False, min_value=1, max_value=2**63 - 1)
    ordering = OrderingField(choices=list(CONTACT_ORDERINGS), required=False)


# --- endpoints -------------------------------------------------------------------------


def _client_schema(noun: str, plural: str, filters: type, input_serializer: type) -> dict:
    return {
        "list": extend_schema(summary=f"List {plural}", parameters=[filters, *CUSTOM_FILTER_PARAMETERS]),
        "retrieve": extend_schema(summary=f"Get one {noun}"),
        "create": extend_schema(summary=f"Create a {noun}", request=input_serializer, parameters=[IDEMPOTENCY_HEADER]),
        "partial_update": extend_schema(
            summary=f"Change some fields of a {noun}", request=input_serializer, parameters=[IF_MATCH_HEADER]
        ),
        "destroy": extend_schema(
            summary=f"Move a {noun} to the trash", parameters=[IF_MATCH_HEADER], responses={204: None}
        ),
    }


@extend_schema_view(**_client_schema("company", "companies", CompanyFilter, CompanyInput))
class CompanyViewSet(
    CustomFieldListMixin,
    ListRecordsMixin,
    RetrieveRecordMixin,
    CreateRecordMixin,
    UpdateRecordMixin,
    TrashRecordMixin,
    RecordViewSet,
):
    record_type = "company"
    custom_entity = "company"
    serializer_class = CompanySerializer
    filter_serializer = CompanyFilter
    create_serializer = CompanyInput
    update_serializer = CompanyInput

    def records(self, actor, query):
        return self.custom_records(company_list(actor=actor, **query))

    def record(self, actor, pk):
        return company_get(actor=actor, company_id=pk)

    def create_record(self, actor, data):
        # A POST is a person's input: the required custom fields must be given.
        return company_create(actor=actor, **{"custom_fields": {}, **data})

    def update_record(self, actor, record, data):
        return company_update(actor=actor, company=record, **data)


@extend_schema_view(**_client_schema("contact", "contacts", ContactFilter, ContactInput))
class ContactViewSet(
    CustomFieldListMixin,
    ListRecordsMixin,
    RetrieveRecordMixin,
    CreateRecordMixin,
    UpdateRecordMixin,
    TrashRecordMixin,
    RecordViewSet,
):
    record_type = "contact"
    custom_entity = "contact"
    serializer_class = ContactSerializer
    filter_serializer = ContactFilter
    create_serializer = ContactInput
    update_serializer = ContactInput

    def records(self, actor, query):
        return self.custom_records(contact_list(actor=actor, **query))

    def record(self, actor, pk):
        return contact_get(actor=actor, contact_id=pk)

    def create_record(self, actor, data):
        return contact_create(actor=actor, **{"custom_fields": {}, **data})

    def update_record(self, actor, record, data):
        return contact_update(actor=actor, contact=record, **data)

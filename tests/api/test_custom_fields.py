"""Custom fields over the API: definitions at /custom-fields/ (members read, administrators
shape), and the `custom_fields` object on contacts, companies, leads and deals: output,
validated input, filters, ordering, OpenAPI."""

from __future__ import annotations

import pytest

from accounts import roles
from crm.clients.services import contact_create
from crm.custom_fields.models import CustomField
from crm.custom_fields.services import custom_field_create, custom_field_remove
from tests.api.colleagues import colleague, queries_of
from tests.conftest import inside

CONTACTS = "/api/v1/contacts/"
FIELDS = "/api/v1/custom-fields/"


def _field(tenant, **values) -> CustomField:
    """A field made through the service (its indexes are the worker's job, tested in
    tests/crm/custom_fields/test_index_sync.py; queries work without them, slower)."""
    with inside(tenant):
        return custom_field_create(actor=None, **values)


@pytest.fixture
def tier(tenant_a) -> CustomField:
    return _field(
        tenant_a,
        entity="contact",
        label="Tier",
        kind="choice",
        choices=[{"label": "Gold", "labels": {"ru": "Золото"}}, "Silver", "Bronze"],
        filterable=True,
    )


@pytest.fixture
def signed(tenant_a) -> CustomField:
    return _field(tenant_a, entity="contact", label="Signed on", kind="date", filterable=True)


@pytest.fixture
def score(tenant_a) -> CustomField:
    return _field(tenant_a, entity="contact", label="Score", kind="number", filterable=True)


# --- definitions ---------------------------------------------------------------------------


def test_an_administrator_adds_a_field_and_gets_its_key_from_the_label(api_a):
    response = api_a.post(
        FIELDS,
        {
            "entity": "contact",
            "label": "Номер договора",
            "kind": "text",
            "label_translations": {"en": "Contract number"},
            "searchable": True,
        },
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["key"] == "nomer_dogovora"
    assert body["label_translations"] == {"en": "Contract number"}
    assert body["searchable"] is True and body["removed_at"] is None
    assert api_a.get(f"{FIELDS}?entity=contact").json()["results"][0]["key"] == "nomer_dogovora"


def test_a_sales_rep_reads_the_fields_but_cannot_add_one(tenant_a, tier):
    rep, _user = colleague(tenant_a, "rep.fields@acme.example", roles.SALES_REP)

    assert rep.get(FIELDS).json()["results"][0]["key"] == "tier"
    refused = rep.post(FIELDS, {"entity": "contact", "label": "X", "kind": "text"})
    assert refused.status_code == 403 and refused.json()["code"] == "permission_denied"
    assert rep.patch(f"{FIELDS}{tier.pk}/", {"label": "Y"}).status_code == 403
    assert rep.delete(f"{FIELDS}{tier.pk}/").status_code == 403


def test_bad_definitions_are_field_errors(api_a, tier):
    response = api_a.post(FIELDS, {"entity": "contact", "label": "", "kind": "choice", "key": "Bad Key"})

    assert response.status_code == 400
    errors = response.json()["errors"]
    assert {"label", "key", "choices"} <= set(errors)
    assert api_a.post(FIELDS, {"entity": "contact", "label": "T", "kind": "text", "key": "tier"}).json()["errors"][
        "key"
    ]
    assert (
        "key"
        in api_a.post(FIELDS, {"entity": "contact", "label": "E", "kind": "text", "key": "email"}).json()["errors"]
    )


def test_the_kind_and_key_of_a_field_cannot_change(api_a, tier):
    response = api_a.patch(f"{FIELDS}{tier.pk}/", {"kind": "text", "key": "other"})

    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"kind", "key"}


def test_removing_lists_the_field_as_removed_and_restoring_brings_it_back(api_a, tier):
    assert api_a.delete(f"{FIELDS}{tier.pk}/").status_code == 204
    assert api_a.get(FIELDS).json()["results"] == []
    removed = api_a.get(f"{FIELDS}?removed=true").json()["results"]
    assert [field["key"] for field in removed] == ["tier"]
    assert removed[0]["purge_after"] is not None

    restored = api_a.post(f"{FIELDS}{tier.pk}/restore/")

    assert restored.status_code == 200 and restored.json()["removed_at"] is None
    assert [field["key"] for field in api_a.get(FIELDS).json()["results"]] == ["tier"]


def test_reorder_puts_the_fields_in_the_given_order(api_a, tier, signed, score):
    response = api_a.post(f"{FIELDS}reorder/", {"entity": "contact", "ids": [score.pk, tier.pk, signed.pk]})

    assert response.status_code == 200, response.content
    assert [field["key"] for field in api_a.get(f"{FIELDS}?entity=contact").json()["results"]] == [
        "score",
        "tier",
        "signed_on",
    ]
    stale = api_a.post(f"{FIELDS}reorder/", {"entity": "contact", "ids": [score.pk]})
    assert stale.status_code == 409 and stale.json()["code"] == "stale_order"


def test_another_workspaces_field_is_not_found(tenant_b, api_a):
    theirs = _field(tenant_b, entity="contact", label="Globex secret", kind="text")

    for response in (
        api_a.get(f"{FIELDS}{theirs.pk}/"),
        api_a.patch(f"{FIELDS}{theirs.pk}/", {"label": "Mine"}),
        api_a.delete(f"{FIELDS}{theirs.pk}/"),
        api_a.post(f"{FIELDS}{theirs.pk}/restore/"),
    ):
        assert response.status_code == 404, response.content
    assert api_a.get(FIELDS).json()["results"] == []


# --- values on records ---------------------------------------------------------------------


def test_a_contact_carries_every_live_field_in_its_stored_form(api_a, tier, signed, score):
    response = api_a.post(
        CONTACTS,
        {"last_name": "Ivanova", "custom_fields": {"tier": "Золото", "signed_on": "31.12.2024", "score": "1 234,5"}},
    )

    assert response.status_code == 201, response.content
    assert response.json()["custom_fields"] == {"tier": "gold", "signed_on": "2024-12-31", "score": 1234.5}
    read = api_a.get(f"{CONTACTS}{response.json()['id']}/").json()
    assert read["custom_fields"] == {"tier": "gold", "signed_on": "2024-12-31", "score": 1234.5}


def test_bad_values_come_back_per_field_and_nothing_is_written(api_a, tier, signed):
    response = api_a.post(
        CONTACTS, {"last_name": "Bad", "custom_fields": {"tier": "Platinum", "signed_on": "soon", "nope": 1}}
    )

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "validation_error"
    assert set(body["errors"]) == {"custom_fields.tier", "custom_fields.signed_on", "custom_fields.nope"}
    assert api_a.get(CONTACTS, {"search": "Bad"}).json()["results"] == []


def test_a_post_must_fill_required_fields_but_a_patch_leaves_them_alone(tenant_a, api_a):
    _field(tenant_a, entity="contact", label="Region code", kind="text", required=True)

    refused = api_a.post(CONTACTS, {"last_name": "Petrov"})
    assert refused.status_code == 400
    assert list(refused.json()["errors"]) == ["custom_fields.region_code"]

    with inside(tenant_a):
        older = contact_create(actor=None, last_name="Made before the field was required")
    changed = api_a.patch(f"{CONTACTS}{older.pk}/", {"job_title": "CEO"})
    assert changed.status_code == 200, changed.content
    cleared = api_a.patch(f"{CONTACTS}{older.pk}/", {"custom_fields": {"region_code": ""}})
    assert cleared.status_code == 400 and "custom_fields.region_code" in cleared.json()["errors"]


def test_a_patch_changes_only_the_keys_sent_and_null_clears(api_a, tier, score):
    created = api_a.post(CONTACTS, {"last_name": "Keys", "custom_fields": {"tier": "gold", "score": 5}}).json()

    changed = api_a.patch(f"{CONTACTS}{created['id']}/", {"custom_fields": {"score": None}})

    assert changed.status_code == 200, changed.content
    assert changed.json()["custom_fields"] == {"tier": "gold", "score": None}


def test_a_removed_fields_values_are_hidden_but_kept(tenant_a, api_a, tier, score):
    created = api_a.post(CONTACTS, {"last_name": "Kept", "custom_fields": {"tier": "gold", "score": 5}}).json()
    with inside(tenant_a):
        custom_field_remove(actor=None, field=tier)

    assert api_a.get(f"{CONTACTS}{created['id']}/").json()["custom_fields"] == {"score": 5}
    with inside(tenant_a):
        from crm.clients.models import Contact

        assert Contact.objects.get(pk=created["id"]).custom_fields["tier"] == "gold"


@pytest.mark.parametrize(
    ("path", "entity", "body"),
    [
        ("/api/v1/companies/", "company", {"name": "Initech"}),
        ("/api/v1/leads/", "lead", {"name": "Milton"}),
        ("/api/v1/deals/", "deal", {"title": "TPS"}),
    ],
)
def test_companies_leads_and_deals_carry_their_own_fields(tenant_a, api_a, path, entity, body):
    _field(tenant_a, entity=entity, label="Budget", kind="money", currency="EUR")

    created = api_a.post(path, {**body, "custom_fields": {"budget": "1 000,5"}})

    assert created.status_code == 201, created.content
    assert created.json()["custom_fields"] == {"budget": 1000.5}
    changed = api_a.patch(f"{path}{created.json()['id']}/", {"custom_fields": {"budget": "bad"}})
    assert changed.status_code == 400 and "custom_fields.budget" in changed.json()["errors"]


# --- filters and ordering ------------------------------------------------------------------


def _contacts(api, values: dict[str, dict]) -> None:
    for name, custom in values.items():
        response = api.post(CONTACTS, {"last_name": name, "custom_fields": custom})
        assert response.status_code == 201, response.content


def _names(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [row["last_name"] for row in response.json()["results"]]


def test_list_filters_by_equality_range_and_emptiness(api_a, tier, signed):
    _contacts(
        api_a,
        {
            "Anna": {"tier": "gold", "signed_on": "2024-01-10"},
            "Boris": {"tier": "silver", "signed_on": "2024-03-01"},
            "Clara": {"tier": "gold"},
            "Dmitri": {},
        },
    )

    assert _names(api_a.get(CONTACTS, {"cf.tier": "Gold"})) == ["Anna", "Clara"]
    assert _names(api_a.get(CONTACTS, {"cf.tier": "золото"})) == ["Anna", "Clara"]
    assert _names(api_a.get(CONTACTS, {"cf.signed_on__from": "15.01.2024"})) == ["Boris"]
    assert _names(api_a.get(CONTACTS, {"cf.signed_on__to": "2024-02-01", "cf.tier": "gold"})) == ["Anna"]
    assert _names(api_a.get(CONTACTS, {"cf.signed_on__empty": "true"})) == ["Clara", "Dmitri"]
    assert _names(api_a.get(CONTACTS, {"cf.tier__empty": "false"})) == ["Anna", "Boris", "Clara"]


def test_bad_filters_are_field_errors(tenant_a, api_a, tier):
    _field(tenant_a, entity="contact", label="Born", kind="date")  # not filterable

    response = api_a.get(CONTACTS, {"cf.tier": "platinum", "cf.nope": "1", "cf.born__from": "2024-01-01"})

    assert response.status_code == 400
    errors = response.json()["errors"]
    assert set(errors) == {"cf.tier", "cf.nope", "cf.born__from"}
    assert "Settings" in errors["cf.born__from"][0]


def test_yes_no_filter_false_means_not_yes(tenant_a, api_a):
    _field(tenant_a, entity="contact", label="Newsletter", kind="boolean")
    _contacts(api_a, {"Yes": {"newsletter": True}, "No": {"newsletter": "нет"}, "Unknown": {}})

    assert _names(api_a.get(CONTACTS, {"cf.newsletter": "yes"})) == ["Yes"]
    assert _names(api_a.get(CONTACTS, {"cf.newsletter": "false"})) == ["No", "Unknown"]


def test_multi_choice_filter_holds_every_value_listed(tenant_a, api_a):
    _field(tenant_a, entity="contact", label="Interests", kind="multi_choice", choices=["Golf", "Wine", "Art"])
    _contacts(api_a, {"Both": {"interests": "Golf; Wine"}, "Golf": {"interests": ["golf"]}, "None": {}})

    assert _names(api_a.get(CONTACTS, {"cf.interests": "golf"})) == ["Both", "Golf"]
    assert _names(api_a.get(CONTACTS, {"cf.interests": "wine;golf"})) == ["Both"]


def test_ordering_by_a_custom_field_pages_with_empty_values_last_both_ways(api_a, score):
    _contacts(
        api_a,
        {"Low": {"score": 1}, "High": {"score": 30}, "Mid": {"score": 7}, "Empty1": {}, "Mid2": {"score": 7}, "E2": {}},
    )

    def walk(ordering: str) -> list[str]:
        names, link = [], f"{CONTACTS}?ordering={ordering}&page_size=2"
        while link:
            page = api_a.get(link.replace("http://acme.localhost:8000", ""))
            names += _names(page)
            assert page.json()["previous"] is None
            link = page.json()["next"]
        return names

    assert walk("cf.score") == ["Low", "Mid", "Mid2", "High", "Empty1", "E2"]
    assert walk("-cf.score") == ["High", "Mid2", "Mid", "Low", "E2", "Empty1"]


def test_ordering_by_a_field_that_is_not_filterable_is_refused(tenant_a, api_a):
    _field(tenant_a, entity="contact", label="Plain", kind="number")

    response = api_a.get(CONTACTS, {"ordering": "cf.plain"})

    assert response.status_code == 400 and "ordering" in response.json()["errors"]
    assert api_a.get(CONTACTS, {"ordering": "cf.missing"}).status_code == 400


def test_a_filtered_list_costs_the_same_queries_with_more_rows(api_a, tier, signed):
    _contacts(api_a, {"One": {"tier": "gold", "signed_on": "2024-01-01"}})
    params = {"cf.tier": "gold", "cf.signed_on__from": "2023-01-01", "ordering": "-cf.signed_on"}
    baseline = queries_of(api_a, CONTACTS, params)
    _contacts(api_a, {f"More {number}": {"tier": "gold", "signed_on": "2024-02-01"} for number in range(8)})

    assert queries_of(api_a, CONTACTS, params) <= baseline


# --- OpenAPI -------------------------------------------------------------------------------


def test_the_generic_schema_types_custom_fields_on_every_record():
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator(urlconf="config.urls_tenant").get_schema(request=None, public=True)
    components = schema["components"]["schemas"]
    for name in ("ContactCustomFields", "CompanyCustomFields", "LeadCustomFields", "DealCustomFields"):
        value = components[name]["additionalProperties"]
        assert {option["type"] for option in value["oneOf"]} == {"string", "number", "boolean", "array"}
    for record in ("Contact", "Company", "Lead", "Deal"):
        reference = components[record]["properties"]["custom_fields"]["allOf"][0]["$ref"]
        assert reference.endswith(f"/{record}CustomFields")


def test_a_workspaces_schema_lists_its_own_fields(api_a, tier, score):
    schema = api_a.get("/api/v1/schema/", HTTP_ACCEPT="application/json").json()

    contact_fields = schema["components"]["schemas"]["ContactCustomFields"]["properties"]
    assert contact_fields["tier"]["enum"] == ["gold", "silver", "bronze"]
    assert contact_fields["score"]["type"] == "number"
    ordering = next(
        parameter
        for parameter in schema["paths"]["/api/v1/contacts/"]["get"]["parameters"]
        if parameter["name"] == "ordering"
    )
    assert {"cf.tier", "-cf.score"} <= set(ordering["schema"]["enum"])


def test_a_filtered_list_pages_in_order_without_overlap(api_a, tier):
    _contacts(api_a, {f"Gold {number:02d}": {"tier": "gold"} for number in range(7)} | {"Silver": {"tier": "silver"}})

    names, link = [], f"{CONTACTS}?cf.tier=gold&page_size=3"
    while link:
        page = api_a.get(link.replace("http://acme.localhost:8000", ""))
        names += _names(page)
        link = page.json()["next"]

    assert names == [f"Gold {number:02d}" for number in range(7)]

"""`GET /api/v1/<records>/<id>/history/`: a record's field history over the API."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from api.clients import ContactInput
from crm.catalog.services import product_create, product_update, quote_create, quote_update
from crm.clients.services import company_create, company_update, contact_create, contact_update
from crm.custom_fields.services import custom_field_create
from crm.deals.services import deal_create, deal_update
from crm.history.models import FieldChange
from crm.leads.services import lead_create, lead_set_status
from crm.trash import record_trash
from tests.api.people import alice as acme_alice
from tests.api.people import signed_in
from tests.conftest import BOB_EMAIL, inside

ENTRY_KEYS = {
    "id",
    "field",
    "field_label",
    "old_value",
    "new_value",
    "old_display",
    "new_display",
    "actor",
    "channel",
    "batch",
    "created_at",
}


@pytest.fixture
def peter(tenant_a):
    with inside(tenant_a):
        return contact_create(actor=acme_alice(), first_name="Peter", last_name="Gibbons", job_title="CEO")


def test_a_patch_over_the_api_is_read_back_with_channel_api(api_a, tenant_a, peter):
    patched = api_a.patch(f"/api/v1/contacts/{peter.pk}/", {"job_title": "CFO"})
    assert patched.status_code == 200, patched.content

    response = api_a.get(f"/api/v1/contacts/{peter.pk}/history/")

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"next", "previous", "results"}
    (entry,) = body["results"]
    assert set(entry) == ENTRY_KEYS
    with inside(tenant_a):
        alice = acme_alice()
    assert entry["field"] == "job_title"
    assert (entry["field_label"], entry["old_value"], entry["new_value"]) == ("Job title", "CEO", "CFO")
    assert (entry["old_display"], entry["new_display"]) == ("CEO", "CFO")
    assert entry["actor"] == {"id": alice.pk, "full_name": "Alice Adams", "email": "alice@acme.example"}
    assert (entry["channel"], entry["batch"]) == ("api", "")


@pytest.mark.skipif(
    "custom_fields" not in ContactInput().fields,
    reason="the contacts API takes custom fields once the custom-fields serializers land (another branch)",
)
def test_a_custom_field_patched_over_the_api_is_in_its_history(api_a, tenant_a, peter):
    with inside(tenant_a):
        custom_field_create(actor=acme_alice(), entity="contact", label="Tier", kind="text", key="tier")

    patched = api_a.patch(f"/api/v1/contacts/{peter.pk}/", {"custom_fields": {"tier": "Gold"}})
    assert patched.status_code == 200, patched.content

    (entry,) = api_a.get(f"/api/v1/contacts/{peter.pk}/history/").json()["results"]
    assert (entry["field"], entry["field_label"], entry["new_value"], entry["new_display"]) == (
        "custom_fields.tier",
        "Tier",
        "Gold",
        "Gold",
    )
    assert entry["channel"] == "api"


def test_a_custom_field_change_reads_with_its_label_and_display(api_a, tenant_a, peter):
    with inside(tenant_a):
        alice = acme_alice()
        custom_field_create(actor=alice, entity="contact", label="Renewal", kind="date", key="renewal")
        contact_update(actor=alice, contact=peter, custom_fields={"renewal": "2027-03-01"})

    (entry,) = api_a.get(f"/api/v1/contacts/{peter.pk}/history/").json()["results"]

    assert (entry["field"], entry["field_label"]) == ("custom_fields.renewal", "Renewal")
    assert (entry["old_value"], entry["new_value"]) == (None, "2027-03-01")
    assert (entry["old_display"], entry["new_display"]) == ("", "03/01/2027")


def test_every_kind_of_record_has_a_history(api_a, tenant_a):
    with inside(tenant_a):
        alice = acme_alice()
        company = company_create(actor=alice, name="Initech")
        company_update(actor=alice, company=company, industry="Software")
        lead = lead_create(actor=alice, name="Ann Lead", phone="+14155550100")
        lead_set_status(actor=alice, lead=lead, status="qualified")
        deal = deal_create(actor=alice, title="Website", amount=Decimal("100"))
        deal_update(actor=alice, deal=deal, amount=Decimal("150"))
        product = product_create(actor=alice, sku="WEB-1", name="Website", price="1000")
        product_update(actor=alice, product=product, name="Website, large")
        quote = quote_create(actor=alice, title="Proposal")
        quote_update(actor=alice, quote=quote, title="Proposal v2")

    expected = {
        f"/api/v1/companies/{company.pk}/history/": ("industry", "Software"),
        f"/api/v1/leads/{lead.pk}/history/": ("status", "Qualified"),
        f"/api/v1/deals/{deal.pk}/history/": ("amount", "150.00 USD"),
        f"/api/v1/products/{product.pk}/history/": ("name", "Website, large"),
        f"/api/v1/quotes/{quote.pk}/history/": ("title", "Proposal v2"),
    }
    for path, (field, shown) in expected.items():
        response = api_a.get(path)
        assert response.status_code == 200, (path, response.content)
        (entry,) = response.json()["results"]
        assert (entry["field"], entry["new_display"]) == (field, shown), path


def test_pages_follow_next_and_previous_links(api_a, tenant_a, peter):
    with inside(tenant_a):
        alice = acme_alice()
        for number in range(5):
            contact_update(actor=alice, contact=peter, job_title=f"Title {number}")

    first = api_a.get(f"/api/v1/contacts/{peter.pk}/history/", {"page_size": 2}).json()
    second = api_a.get(first["next"]).json()
    third = api_a.get(second["next"]).json()
    back = api_a.get(second["previous"]).json()

    titles = [entry["new_value"] for page in (first, second, third) for entry in page["results"]]
    assert titles == ["Title 4", "Title 3", "Title 2", "Title 1", "Title 0"]
    assert first["previous"] is None and third["next"] is None
    assert [entry["new_value"] for entry in back["results"]] == ["Title 4", "Title 3"]


def test_filters_by_field_channel_and_since(api_a, tenant_a, peter):
    with inside(tenant_a):
        alice = acme_alice()
        contact_update(actor=alice, contact=peter, job_title="CFO", city="Austin")
        FieldChange.objects.filter(record_id=peter.pk, field="city").update(
            created_at=timezone.now() - timedelta(days=3)
        )
    api_a.patch(f"/api/v1/contacts/{peter.pk}/", {"job_title": "CTO"})
    path = f"/api/v1/contacts/{peter.pk}/history/"

    def values(**query):
        response = api_a.get(path, query)
        assert response.status_code == 200, response.content
        return [entry["new_value"] for entry in response.json()["results"]]

    assert values(field="city") == ["Austin"]
    assert values(channel="api") == ["CTO"]
    assert values(since=(timezone.localdate() - timedelta(days=1)).isoformat()) == ["CTO", "CFO"]
    assert values(since=(timezone.now() - timedelta(days=4)).isoformat(), field="city") == ["Austin"]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"channel": "fax"}, "channel"),
        ({"since": "yesterday"}, "since"),
        ({"since": "0001-01-01"}, "since"),
        ({"cursor": "garbage"}, "cursor"),
        ({"page_size": "0"}, "page_size"),
    ],
)
def test_a_bad_filter_is_a_field_error(api_a, peter, query, field):
    response = api_a.get(f"/api/v1/contacts/{peter.pk}/history/", query)

    assert response.status_code == 400, response.content
    body = response.json()
    assert body["code"] == "validation_error"
    assert field in body["errors"]


def test_another_workspaces_record_answers_404_like_a_missing_one(api_a, api_b, tenant_b):
    with inside(tenant_b):
        from accounts.models import User

        bob = User.objects.select_related("role").get(email=BOB_EMAIL)
        theirs = contact_create(actor=bob, first_name="Hank", last_name="Scorpio")
        contact_update(actor=bob, contact=theirs, job_title="Villain")
    assert api_b.get(f"/api/v1/contacts/{theirs.pk}/history/").status_code == 200

    foreign = api_a.get(f"/api/v1/contacts/{theirs.pk}/history/")
    missing = api_a.get("/api/v1/contacts/999999999/history/")

    assert foreign.status_code == missing.status_code == 404
    assert foreign.json() == missing.json()
    assert b"Villain" not in foreign.content


def test_a_record_the_caller_cannot_see_answers_404(tenant_a, peter):
    with inside(tenant_a):
        contact_update(actor=acme_alice(), contact=peter, job_title="CFO")
    rep = signed_in(tenant_a, "rep.history@acme.example")

    response = rep.get(f"/api/v1/contacts/{peter.pk}/history/")

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_a_trashed_record_answers_404(api_a, tenant_a, peter):
    with inside(tenant_a):
        record_trash(actor=acme_alice(), record=peter)

    assert api_a.get(f"/api/v1/contacts/{peter.pk}/history/").status_code == 404


def test_without_a_token_it_is_401(peter):
    from tests.api.conftest import ApiClient

    response = ApiClient("acme.localhost:8000").get(f"/api/v1/contacts/{peter.pk}/history/")

    assert response.status_code == 401


def _queries(client, path: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(path).status_code == 200
    return len(captured)


def test_a_page_makes_as_many_queries_with_many_changes_as_with_one(
    api_a, tenant_a, peter, django_assert_max_num_queries
):
    path = f"/api/v1/contacts/{peter.pk}/history/?page_size=200"
    with inside(tenant_a):
        alice = acme_alice()
        custom_field_create(actor=alice, entity="contact", label="Tier", kind="text", key="tier")
        contact_update(
            actor=alice, contact=peter, job_title="CFO", custom_fields={"tier": "a"}, phones=["+14155550100"]
        )
    baseline = _queries(api_a, path)
    with inside(tenant_a):
        for number in range(40):
            contact_update(
                actor=alice,
                contact=peter,
                job_title=f"Title {number}",
                custom_fields={"tier": f"t{number}"},
                phones=[f"+1415555{number:04d}"],
            )

    with django_assert_max_num_queries(baseline):
        _queries(api_a, path)


def test_the_schema_documents_each_history_route_with_its_filters(api_a):
    schema = api_a.get("/api/v1/schema/", HTTP_ACCEPT="application/json").json()

    for path in ("contacts", "companies", "leads", "deals", "products", "quotes"):
        suffix = "history"
        operation = schema["paths"][f"/api/v1/{path}/{{id}}/{suffix}/"]["get"]
        plural = path
        names = {parameter["name"] for parameter in operation["parameters"]}
        assert {"id", "field", "channel", "since", "cursor", "page_size"} <= names, plural
        assert {"200", "400", "401", "404"} <= set(operation["responses"]), plural


def test_every_history_route_answers_404_for_another_workspaces_record(api_a, tenant_b):
    # given one record of each kind in Globex, each with a history
    from tests.api.test_isolation_walk import api_patterns

    with inside(tenant_b):
        from accounts.models import User

        bob = User.objects.select_related("role").get(email=BOB_EMAIL)
        company = company_create(actor=bob, name="Globex Secret Holdings")
        records = {
            "company": company,
            "contact": contact_create(actor=bob, first_name="Hank", last_name="Scorpio", company=company),
            "lead": lead_create(actor=bob, name="Globex Secret Lead", phone="+14155550100"),
            "deal": deal_create(actor=bob, title="Globex Secret Deal"),
            "product": product_create(actor=bob, sku="GLX-1", name="Doomsday device", price="100"),
            "quote": quote_create(actor=bob, title="Globex secret quote"),
        }
        for record in records.values():
            FieldChange.objects.create(
                record_type=record._meta.model_name, record_id=record.pk, field="notes", new_value="Globex secret"
            )
    names = {f"{record_type}-fields" for record_type in records}
    routes = [(route, pattern) for route, pattern in api_patterns() if pattern.name in names]
    assert len(routes) == len(records)

    # when Acme's token asks for each of them on Acme's host, then each is missing
    for route, pattern in routes:
        record = records[pattern.name.removesuffix("-fields")]
        path = "/" + route.replace("(?P<pk>[0-9]{1,18})", str(record.pk))
        assert path.endswith("history/"), path
        response = api_a.get(path)
        assert response.status_code == 404, (path, response.status_code)
        assert b"Globex secret" not in response.content


def test_a_deals_history_is_its_field_history_and_its_stage_list_has_its_own_address(api_a, tenant_a):
    with inside(tenant_a):
        deal = deal_create(actor=acme_alice(), title="Website", amount=Decimal("100"))
        deal_update(actor=acme_alice(), deal=deal, title="Website 2.0")

    stages = api_a.get(f"/api/v1/deals/{deal.pk}/stage-history/")
    fields = api_a.get(f"/api/v1/deals/{deal.pk}/history/")

    assert isinstance(stages.json(), list) and stages.json()[0]["to_stage"]["name"] == "New"
    assert [entry["field"] for entry in fields.json()["results"]] == ["title"]

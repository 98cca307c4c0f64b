"""The product catalogue over the API."""

from __future__ import annotations

from decimal import Decimal

from accounts import roles
from accounts.models import User
from crm.catalog.models import Product
from crm.catalog.services import product_create
from tests.api.colleagues import alice, colleague, only_in_b, queries_of
from tests.conftest import BOB_EMAIL, inside


def a_product(tenant, actor, sku="SKU-1", **kwargs):
    with inside(tenant):
        return product_create(actor=actor, sku=sku, name=kwargs.pop("name", f"Product {sku}"), price="10", **kwargs)


def test_a_product_is_created_listed_and_fetched(api_a):
    created = api_a.post(
        "/api/v1/products/",
        {"sku": "WID-1", "name": "Widget", "price": "19.90", "currency": "eur", "tax_rate": 20, "unit": "pcs"},
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["price"], body["currency"], body["tax_rate"], body["is_active"]) == ("19.90", "EUR", "20.00", True)
    assert [row["id"] for row in api_a.get("/api/v1/products/", {"search": "wid"}).json()["results"]] == [body["id"]]
    assert api_a.get(f"/api/v1/products/{body['id']}/")["ETag"] == created["ETag"]


def test_bad_products_are_field_errors_and_write_nothing(api_a, tenant_a):
    a_product(tenant_a, alice(tenant_a), sku="TAKEN")
    with inside(tenant_a):
        before = Product.all_objects.count()
    taken = api_a.post("/api/v1/products/", {"sku": "taken", "name": "Twin", "price": "1"})
    assert taken.status_code == 400
    assert taken.json()["errors"]["sku"]
    wrong = api_a.post(
        "/api/v1/products/",
        {"sku": "", "name": "x", "price": "1.005", "currency": "ZZZ", "unit": "bag", "tax_rate": 101},
    )
    assert wrong.status_code == 400
    assert {"price", "unit", "tax_rate"} <= set(wrong.json()["errors"])
    service_checked = api_a.post("/api/v1/products/", {"sku": " ", "name": "x", "price": "1", "currency": "ZZZ"})
    assert {"sku", "currency"} <= set(service_checked.json()["errors"])
    with inside(tenant_a):
        assert Product.all_objects.count() == before


def test_delete_takes_a_product_off_sale(api_a, tenant_a):
    product = a_product(tenant_a, alice(tenant_a), sku="OLD-1")
    assert api_a.delete(f"/api/v1/products/{product.pk}/").status_code == 204
    fetched = api_a.get(f"/api/v1/products/{product.pk}/")
    assert fetched.status_code == 200 and fetched.json()["is_active"] is False
    on_sale = [row["id"] for row in api_a.get("/api/v1/products/").json()["results"]]
    off_sale = [row["id"] for row in api_a.get("/api/v1/products/", {"active": "false"}).json()["results"]]
    everything = [row["id"] for row in api_a.get("/api/v1/products/", {"active": "all"}).json()["results"]]
    assert product.pk not in on_sale and product.pk in off_sale and product.pk in everything


def test_patch_changes_the_price_and_refuses_a_stale_etag(api_a, tenant_a):
    product = a_product(tenant_a, alice(tenant_a), sku="P-1")
    etag = api_a.get(f"/api/v1/products/{product.pk}/")["ETag"]
    changed = api_a.patch(f"/api/v1/products/{product.pk}/", {"price": "12.50"}, HTTP_IF_MATCH=etag)
    assert changed.status_code == 200 and changed.json()["price"] == "12.50"
    stale = api_a.patch(f"/api/v1/products/{product.pk}/", {"price": "13"}, HTTP_IF_MATCH=etag)
    assert stale.status_code == 412
    assert api_a.delete(f"/api/v1/products/{product.pk}/", HTTP_IF_MATCH=etag).status_code == 412
    with inside(tenant_a):
        product.refresh_from_db()
    assert (product.price, product.is_active) == (Decimal("12.50"), True)


def test_a_rep_reads_the_catalogue_but_cannot_change_its_products(tenant_a):
    # (The seeded sales rep role may add products: "create" is granted on every record type.)
    rep_api, _rep = colleague(tenant_a, "rita@acme.example", roles.SALES_REP)
    product = a_product(tenant_a, alice(tenant_a), sku="R-1")
    assert rep_api.get(f"/api/v1/products/{product.pk}/").status_code == 200
    assert rep_api.patch(f"/api/v1/products/{product.pk}/", {"name": "y"}).status_code == 403
    assert rep_api.delete(f"/api/v1/products/{product.pk}/").status_code == 403


def test_another_workspace_is_out_of_reach(api_a, tenant_a, tenant_b):
    with inside(tenant_b):
        bob = User.objects.select_related("role").get(email=BOB_EMAIL)
    counter = iter(range(100))
    pk = only_in_b(
        tenant_a, tenant_b, lambda: product_create(actor=bob, sku=f"G-{next(counter)}", name="Globex", price="1")
    )
    assert api_a.get(f"/api/v1/products/{pk}/").status_code == 404
    assert api_a.patch(f"/api/v1/products/{pk}/", {"name": "x"}).status_code == 404
    assert api_a.delete(f"/api/v1/products/{pk}/").status_code == 404
    api_a.defaults["HTTP_HOST"] = "globex.localhost:8000"
    assert api_a.get("/api/v1/products/").status_code == 401


def test_the_list_costs_the_same_for_5_and_15_products(api_a, tenant_a, django_assert_max_num_queries):
    me = alice(tenant_a)
    for index in range(5):
        a_product(tenant_a, me, sku=f"QC-{index}")
    five = queries_of(api_a, "/api/v1/products/")
    for index in range(5, 15):
        a_product(tenant_a, me, sku=f"QC-{index}")
    with django_assert_max_num_queries(five):
        assert len(api_a.get("/api/v1/products/").json()["results"]) >= 15

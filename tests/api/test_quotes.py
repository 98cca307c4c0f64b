"""Proposals over the API: header, lines and totals, the sales cycle, the PDF."""

from __future__ import annotations

import pytest

from accounts import roles
from accounts.models import User
from crm.catalog.models import Quote, QuoteLine
from crm.catalog.services import product_create, quote_create, quote_line_add
from crm.clients.services import contact_create
from tests.api.colleagues import alice, colleague, only_in_b, queries_of
from tests.conftest import BOB_EMAIL, inside


def a_quote(tenant, actor, title="Website", lines=1, **kwargs):
    with inside(tenant):
        quote = quote_create(actor=actor, title=title, currency="USD", **kwargs)
        for index in range(lines):
            quote_line_add(actor=actor, quote=quote, name=f"Item {index}", quantity="2", unit_price="10.00")
    return quote


@pytest.fixture
def product(tenant_a):
    me = alice(tenant_a)
    with inside(tenant_a):
        return product_create(actor=me, sku="SRV-1", name="Setup", price="100.00", currency="USD", tax_rate="20")


def test_a_quote_is_built_line_by_line_with_totals(api_a, product):
    created = api_a.post("/api/v1/quotes/", {"title": "Shop redesign", "currency": "USD"})
    assert created.status_code == 201, created.content
    quote = created.json()
    assert quote["status"] == "draft" and quote["number"].startswith("Q-") and quote["lines"] == []
    etag = created["ETag"]

    added = api_a.post(
        f"/api/v1/quotes/{quote['id']}/lines/", {"product": product.pk, "quantity": "3"}, HTTP_IF_MATCH=etag
    )
    assert added.status_code == 201, added.content
    body = added.json()
    assert [(line["name"], line["total_amount"]) for line in body["lines"]] == [("Setup", "360.00")]
    assert (body["subtotal"], body["tax_total"], body["total"]) == ("300.00", "60.00", "360.00")
    assert added["ETag"] != etag

    second = api_a.post(
        f"/api/v1/quotes/{quote['id']}/lines/",
        {"name": "Hosting", "quantity": "12", "unit_price": "5.00", "discount_percent": "10"},
    ).json()
    hosting = second["lines"][1]["id"]
    assert second["total"] == "414.00"

    changed = api_a.patch(f"/api/v1/quotes/{quote['id']}/lines/{hosting}/", {"quantity": "24"})
    assert changed.status_code == 200 and changed.json()["total"] == "468.00"
    reordered = api_a.post(
        f"/api/v1/quotes/{quote['id']}/lines/reorder/", {"line_ids": [hosting, second["lines"][0]["id"]]}
    )
    assert [line["name"] for line in reordered.json()["lines"]] == ["Hosting", "Setup"]
    removed = api_a.delete(f"/api/v1/quotes/{quote['id']}/lines/{hosting}/")
    assert removed.status_code == 200
    assert [line["position"] for line in removed.json()["lines"]] == [1]
    assert removed.json()["total"] == "360.00"


def test_bad_lines_and_headers_are_field_errors_and_write_nothing(api_a, tenant_a):
    quote = a_quote(tenant_a, alice(tenant_a), lines=1)
    cases = [
        ("post", f"/api/v1/quotes/{quote.pk}/lines/", {"name": "x", "quantity": "0", "unit_price": "1"}, "quantity"),
        ("post", f"/api/v1/quotes/{quote.pk}/lines/", {"name": "x", "quantity": "1"}, "unit_price"),
        ("post", f"/api/v1/quotes/{quote.pk}/lines/", {"quantity": "1", "unit_price": "1e20"}, "unit_price"),
        ("post", f"/api/v1/quotes/{quote.pk}/lines/", {"quantity": "1", "product": 2**62}, "product"),
        ("post", f"/api/v1/quotes/{quote.pk}/lines/reorder/", {"line_ids": [1, 2, 3]}, "line_ids"),
        ("patch", f"/api/v1/quotes/{quote.pk}/", {"valid_until": "2001-01-01"}, "valid_until"),
        ("patch", f"/api/v1/quotes/{quote.pk}/", {"currency": "EUR"}, "currency"),
        ("post", "/api/v1/quotes/", {"title": "", "currency": "XXX"}, "title"),
    ]
    with inside(tenant_a):
        lines_before, quotes_before = QuoteLine.objects.count(), Quote.all_objects.count()
    for method, path, body, field in cases:
        response = getattr(api_a, method)(path, body)
        assert response.status_code == 400, (path, body, response.content)
        assert field in response.json()["errors"], (body, response.json())
    with inside(tenant_a):
        assert (QuoteLine.objects.count(), Quote.all_objects.count()) == (lines_before, quotes_before)


def test_patch_with_a_stale_if_match_is_refused(api_a, tenant_a):
    quote = a_quote(tenant_a, alice(tenant_a))
    etag = api_a.get(f"/api/v1/quotes/{quote.pk}/")["ETag"]
    first = api_a.patch(f"/api/v1/quotes/{quote.pk}/", {"title": "Mine"}, HTTP_IF_MATCH=etag)
    assert first.status_code == 200 and first.json()["title"] == "Mine"
    second = api_a.patch(f"/api/v1/quotes/{quote.pk}/", {"title": "Theirs"}, HTTP_IF_MATCH=etag)
    assert (second.status_code, second.json()["code"]) == (412, "edit_conflict")
    line = first.json()["lines"][0]["id"]
    assert api_a.delete(f"/api/v1/quotes/{quote.pk}/lines/{line}/", HTTP_IF_MATCH=etag).status_code == 412
    with inside(tenant_a):
        assert Quote.objects.get(pk=quote.pk).title == "Mine"
        assert QuoteLine.objects.filter(pk=line).exists()


def test_the_sales_cycle_sent_accepted_and_revised_by_duplicate(api_a, tenant_a):
    quote = a_quote(tenant_a, alice(tenant_a))
    assert api_a.post(f"/api/v1/quotes/{quote.pk}/accept/").json()["code"] == "quote_not_sent"
    sent = api_a.post(f"/api/v1/quotes/{quote.pk}/mark-sent/")
    assert sent.status_code == 200 and sent.json()["status"] == "sent"
    # A sent quote can't change any more
    locked = api_a.patch(f"/api/v1/quotes/{quote.pk}/", {"title": "Late change"})
    assert (locked.status_code, locked.json()["code"]) == (409, "quote_not_draft")
    assert api_a.post(f"/api/v1/quotes/{quote.pk}/accept/").json()["status"] == "accepted"
    copy = api_a.post(f"/api/v1/quotes/{quote.pk}/duplicate/")
    assert copy.status_code == 201
    assert copy.json()["status"] == "draft" and copy.json()["number"] != sent.json()["number"]
    assert len(copy.json()["lines"]) == 1
    rejected_quote = a_quote(tenant_a, alice(tenant_a), title="Other")
    api_a.post(f"/api/v1/quotes/{rejected_quote.pk}/mark-sent/")
    assert api_a.post(f"/api/v1/quotes/{rejected_quote.pk}/reject/").json()["status"] == "rejected"
    assert api_a.get("/api/v1/quotes/", {"status": "rejected"}).json()["results"][0]["id"] == rejected_quote.pk


def test_an_empty_quote_cannot_be_sent(api_a, tenant_a):
    quote = a_quote(tenant_a, alice(tenant_a), lines=0)
    response = api_a.post(f"/api/v1/quotes/{quote.pk}/mark-sent/")
    assert (response.status_code, response.json()["code"]) == (400, "quote_empty")


def test_the_pdf_is_a_pdf(api_a, tenant_a):
    quote = a_quote(tenant_a, alice(tenant_a))
    response = api_a.get(f"/api/v1/quotes/{quote.pk}/pdf/", {"language": "ar"}, HTTP_ACCEPT="application/pdf")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    assert quote.number in response["Content-Disposition"]
    assert api_a.get(f"/api/v1/quotes/{quote.pk}/pdf/", {"language": "xx"}).status_code == 400


def test_delete_moves_a_quote_to_the_trash(api_a, tenant_a):
    quote = a_quote(tenant_a, alice(tenant_a))
    assert api_a.delete(f"/api/v1/quotes/{quote.pk}/").status_code == 204
    assert api_a.get(f"/api/v1/quotes/{quote.pk}/").status_code == 404


def test_list_filters_by_contact_owner_and_dates(api_a, tenant_a):
    me = alice(tenant_a)
    with inside(tenant_a):
        contact = contact_create(actor=me, first_name="Quinn")
    linked = a_quote(tenant_a, me, contact=contact)
    a_quote(tenant_a, me, title="Loose")

    def ids(**params):
        response = api_a.get("/api/v1/quotes/", params)
        assert response.status_code == 200, response.content
        return [row["id"] for row in response.json()["results"]]

    assert ids(contact=contact.pk) == [linked.pk]
    assert linked.pk in ids(owner=me.pk, created_from="2000-01-01")
    assert ids(created_to="2000-01-01") == []
    assert api_a.get("/api/v1/quotes/", {"status": "won", "ordering": "x"}).status_code == 400


def test_a_rep_works_on_their_own_quotes_only(api_a, tenant_a):
    rep_api, rep = colleague(tenant_a, "rita@acme.example", roles.SALES_REP)
    theirs = a_quote(tenant_a, rep, title="Rita's")
    alices = a_quote(tenant_a, alice(tenant_a), title="Alice's")
    listed = [row["id"] for row in rep_api.get("/api/v1/quotes/").json()["results"]]
    assert theirs.pk in listed and alices.pk not in listed
    for method, suffix in (("get", ""), ("get", "pdf/"), ("post", "mark-sent/"), ("post", "duplicate/")):
        assert getattr(rep_api, method)(f"/api/v1/quotes/{alices.pk}/{suffix}").status_code == 404
    assert rep_api.patch(f"/api/v1/quotes/{theirs.pk}/", {"title": "Mine"}).status_code == 200


def test_read_only_role_cannot_write(tenant_a):
    reader_api, _reader = colleague(tenant_a, "olga@acme.example", roles.READ_ONLY)
    quote = a_quote(tenant_a, alice(tenant_a))
    assert reader_api.get(f"/api/v1/quotes/{quote.pk}/pdf/").status_code == 200
    assert reader_api.post("/api/v1/quotes/", {"title": "x"}).status_code == 403
    assert reader_api.patch(f"/api/v1/quotes/{quote.pk}/", {"title": "x"}).status_code == 403
    assert reader_api.post(f"/api/v1/quotes/{quote.pk}/lines/", {"quantity": "1"}).status_code == 403
    assert reader_api.post(f"/api/v1/quotes/{quote.pk}/duplicate/").status_code == 403
    assert reader_api.delete(f"/api/v1/quotes/{quote.pk}/").status_code == 403


def test_another_workspace_is_out_of_reach(api_a, tenant_a, tenant_b):
    with inside(tenant_b):
        bob = User.objects.select_related("role").get(email=BOB_EMAIL)
    pk = only_in_b(tenant_a, tenant_b, lambda: quote_create(actor=bob, title="Globex", currency="USD"))
    for method, suffix in (("get", ""), ("get", "pdf/"), ("patch", ""), ("delete", ""), ("post", "lines/")):
        response = getattr(api_a, method)(f"/api/v1/quotes/{pk}/{suffix}")
        assert response.status_code == 404, (suffix, response.content)
    api_a.defaults["HTTP_HOST"] = "globex.localhost:8000"
    assert api_a.get(f"/api/v1/quotes/{pk}/").status_code == 401


def test_the_list_costs_the_same_for_5_and_15_quotes(api_a, tenant_a, django_assert_max_num_queries):
    me = alice(tenant_a)
    with inside(tenant_a):
        contact = contact_create(actor=me, first_name="Counted")
    for index in range(5):
        a_quote(tenant_a, me, title=f"Q{index}", contact=contact, lines=0)
    five = queries_of(api_a, "/api/v1/quotes/")
    detail = queries_of(api_a, f"/api/v1/quotes/{a_quote(tenant_a, me, lines=3).pk}/")
    for index in range(10):
        a_quote(tenant_a, me, title=f"More {index}", contact=contact, lines=0)
    with django_assert_max_num_queries(five):
        assert len(api_a.get("/api/v1/quotes/").json()["results"]) >= 15
    longer = a_quote(tenant_a, me, lines=10)
    with django_assert_max_num_queries(detail):
        assert len(api_a.get(f"/api/v1/quotes/{longer.pk}/").json()["lines"]) == 10

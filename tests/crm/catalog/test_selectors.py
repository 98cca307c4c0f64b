"""Catalogue and proposal reads: filters, prefetching, and what other workspaces cannot see."""

from __future__ import annotations

import pytest

from accounts.models import User
from crm.catalog.models import Product, Quote, QuoteStatus
from crm.catalog.selectors import product_get, product_list, quote_get, quote_list
from crm.catalog.services import (
    product_create,
    product_deactivate,
    product_update,
    quote_create,
    quote_line_add,
    quote_mark_sent,
)
from crm.errors import RecordNotFound
from tests.conftest import BOB_EMAIL, inside


@pytest.fixture
def catalogue(alice, consulting) -> list[Product]:
    web = product_create(actor=alice, sku="WEB-1", name="Landing page", price="1200")
    old = product_create(actor=alice, sku="OLD-1", name="Fax setup", price="50")
    product_deactivate(actor=alice, product=old)
    return [consulting, web, old]


def test_product_list_shows_products_on_sale_by_name(alice, catalogue):
    assert [p.sku for p in product_list(actor=alice)] == ["CONS-1", "WEB-1"]


def test_product_list_can_show_products_off_sale_or_all(alice, catalogue):
    assert [p.sku for p in product_list(actor=alice, active=False)] == ["OLD-1"]
    assert len(product_list(actor=alice, active=None)) == 3


def test_product_list_is_one_query(alice, catalogue, django_assert_max_num_queries):
    with django_assert_max_num_queries(1):
        assert len([(p.sku, p.name, p.price, p.currency) for p in product_list(actor=alice, active=None)]) == 3


def test_product_search_matches_part_of_sku_or_name(alice, catalogue):
    assert [p.sku for p in product_list(actor=alice, search="web")] == ["WEB-1"]
    assert [p.sku for p in product_list(actor=alice, search="consult")] == ["CONS-1"]


def test_trashed_product_is_not_listed_or_found(alice, consulting):
    Product.all_objects.filter(pk=consulting.pk).update(deleted_at=consulting.created_at)

    assert list(product_list(actor=alice)) == []
    with pytest.raises(RecordNotFound):
        product_get(actor=alice, product_id=consulting.pk)


def test_quote_list_filters_by_status_deal_and_contact(alice, deal, contact):
    for_deal = quote_create(actor=alice, title="For the deal", deal=deal)
    quote_line_add(actor=alice, quote=for_deal, name="A", quantity=1, unit_price=10)
    quote_mark_sent(actor=alice, quote=for_deal)
    loose = quote_create(actor=alice, title="Loose")

    assert list(quote_list(actor=alice, status=QuoteStatus.SENT)) == [for_deal]
    assert list(quote_list(actor=alice, status=QuoteStatus.DRAFT)) == [loose]
    assert list(quote_list(actor=alice, deal=deal)) == [for_deal]
    assert list(quote_list(actor=alice, contact=contact.pk)) == [for_deal]
    assert list(quote_list(actor=alice)) == [loose, for_deal]


def test_quote_list_has_a_fixed_query_count(alice, deal, django_assert_max_num_queries):
    for index in range(5):
        quote_create(actor=alice, title=f"Q{index}", deal=deal)

    with django_assert_max_num_queries(1):
        rows = [
            (q.number, q.deal.title, q.contact.full_name, q.company.name, q.owner.email)
            for q in quote_list(actor=alice)
        ]

    assert len(rows) == 5


def test_quote_get_loads_lines_and_links_in_two_queries(alice, quote, consulting, django_assert_max_num_queries):
    for index in range(10):
        quote_line_add(actor=alice, quote=quote, product=consulting, quantity=index + 1)

    with django_assert_max_num_queries(2):
        loaded = quote_get(actor=alice, quote_id=quote.pk)
        lines = [(line.position, line.name, line.total_amount) for line in loaded.lines.all()]
        links = (loaded.deal.title, loaded.contact.full_name, loaded.company.name, loaded.owner.email)

    assert [position for position, _, _ in lines] == list(range(1, 11))
    assert links[0] == "TPS reports automation"


def test_quote_get_refuses_what_is_not_an_id(alice):
    with pytest.raises(RecordNotFound):
        quote_get(actor=alice, quote_id="1; DROP TABLE")


def test_trashed_quote_is_not_found(alice, quote):
    Quote.all_objects.filter(pk=quote.pk).update(deleted_at=quote.created_at)

    with pytest.raises(RecordNotFound):
        quote_get(actor=alice, quote_id=quote.pk)


def test_switched_off_user_sees_no_quotes(alice, quote):
    alice.is_active = False

    assert list(quote_list(actor=alice)) == []
    with pytest.raises(RecordNotFound):
        quote_get(actor=alice, quote_id=quote.pk)


def test_other_workspace_cannot_get_list_or_edit_a_quote(tenant_a, tenant_b, alice, quote, consulting):
    quote_id, product_id = quote.pk, consulting.pk
    with inside(tenant_b):
        bob = User.objects.get(email=BOB_EMAIL)
        with pytest.raises(RecordNotFound):
            quote_get(actor=bob, quote_id=quote_id)
        with pytest.raises(RecordNotFound):
            product_get(actor=bob, product_id=product_id)
        with pytest.raises(RecordNotFound):
            quote_line_add(actor=bob, quote=quote, name="Sneaky", quantity=1, unit_price=1)
        with pytest.raises(RecordNotFound):
            quote_mark_sent(actor=bob, quote=quote)
        with pytest.raises(RecordNotFound):
            product_update(actor=bob, product=consulting, price="0")
        assert list(quote_list(actor=bob)) == []
        assert list(product_list(actor=bob, active=None)) == []

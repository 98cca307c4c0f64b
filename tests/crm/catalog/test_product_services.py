"""Product catalogue writes: SKU uniqueness, prices, currencies, tax rates, going off sale."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from crm.catalog.models import Product
from crm.catalog.services import product_create, product_deactivate, product_update


def codes(error: ValidationError) -> dict[str, list[str]]:
    return {field: [item.code for item in items] for field, items in error.error_dict.items()}


def test_product_is_created_in_the_workspace_base_currency_by_default(alice):
    product = product_create(actor=alice, sku="WEB-1", name="Landing page", price="1200")

    assert product.currency == "USD"
    assert product.price == Decimal("1200.00")
    assert product.is_active


def test_sku_is_unique_whatever_the_case(alice, consulting):
    with pytest.raises(ValidationError) as error:
        product_create(actor=alice, sku="cons-1", name="Other", price="1")

    assert codes(error.value) == {"sku": ["sku_taken"]}


def test_sku_of_a_trashed_product_can_be_reused(alice, consulting):
    Product.all_objects.filter(pk=consulting.pk).update(deleted_at=consulting.created_at)

    product = product_create(actor=alice, sku="CONS-1", name="Consulting, new", price="40")

    assert product.pk != consulting.pk


def test_renaming_to_another_products_sku_is_refused(alice, consulting):
    other = product_create(actor=alice, sku="WEB-1", name="Landing page", price="1200")

    with pytest.raises(ValidationError) as error:
        product_update(actor=alice, product=other, sku="Cons-1")

    assert codes(error.value) == {"sku": ["sku_taken"]}


def test_keeping_its_own_sku_is_not_a_clash(alice, consulting):
    product = product_update(actor=alice, product=consulting, sku="cons-1", price="35")

    assert (product.sku, product.price) == ("cons-1", Decimal("35.00"))


def test_every_bad_field_is_reported_at_once(alice):
    with pytest.raises(ValidationError) as error:
        product_create(actor=alice, sku=" ", name="", price="-1", currency="XXX", tax_rate="101", unit="barrel")

    assert codes(error.value) == {
        "sku": ["required"],
        "name": ["required"],
        "price": ["min_value"],
        "currency": ["invalid_currency"],
        "unit": ["invalid_choice"],
        "tax_rate": ["max_value"],
    }


def test_price_with_fractions_of_a_cent_is_refused(alice):
    with pytest.raises(ValidationError) as error:
        product_create(actor=alice, sku="X", name="X", price="1.005")

    assert codes(error.value) == {"price": ["max_decimal_places"]}


def test_absurdly_large_price_is_a_field_error_not_a_crash(alice):
    with pytest.raises(ValidationError) as error:
        product_create(actor=alice, sku="X", name="X", price="1E+30")

    assert codes(error.value) == {"price": ["max_value"]}


def test_price_that_is_not_a_number_is_a_field_error(alice):
    with pytest.raises(ValidationError) as error:
        product_create(actor=alice, sku="X", name="X", price="twelve", tax_rate="NaN")

    assert codes(error.value) == {"price": ["invalid"], "tax_rate": ["invalid"]}


def test_deactivated_product_is_off_sale(alice, consulting):
    product = product_deactivate(actor=alice, product=consulting)

    assert not product.is_active
    assert not Product.objects.get(pk=consulting.pk).is_active

"""Acting inside Acme (tenant A) as Alice, with a customer, a deal and a small catalogue."""

from __future__ import annotations

from decimal import Decimal

import pytest

from crm.catalog.models import Product, Quote
from crm.catalog.services import product_create, quote_create
from crm.clients.models import Company, Contact
from crm.clients.services import company_create, contact_create
from crm.deals.models import Deal
from crm.deals.services import deal_create


@pytest.fixture
def company(alice) -> Company:
    return company_create(actor=alice, name="Initech", city="Austin", address="4120 Freidrich Lane")


@pytest.fixture
def contact(alice, company) -> Contact:
    return contact_create(
        actor=alice, first_name="Peter", last_name="Gibbons", company=company, emails=["peter@initech.example"]
    )


@pytest.fixture
def deal(alice, contact, company) -> Deal:
    return deal_create(
        actor=alice,
        title="TPS reports automation",
        amount=Decimal("5000"),
        currency="USD",
        contact=contact,
        company=company,
    )


@pytest.fixture
def consulting(alice) -> Product:
    return product_create(
        actor=alice,
        sku="CONS-1",
        name="Consulting hour",
        price=Decimal("33.33"),
        currency="USD",
        unit="hour",
        tax_rate=20,
    )


@pytest.fixture
def quote(alice, deal) -> Quote:
    return quote_create(actor=alice, title="Automation proposal", deal=deal)

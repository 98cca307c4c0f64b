from __future__ import annotations

import pytest

from accounts.models import Role, User
from crm.clients.services import company_create, contact_create
from tests.conftest import BOB_EMAIL, PASSWORD, inside


@pytest.fixture
def rita(acme) -> User:
    """A sales rep at Acme who reads Spanish."""
    return User.objects.create_user(
        email="rita@acme.example",
        password=PASSWORD,
        full_name="Rita Rep",
        language="es",
        role=Role.objects.filter(code="sales_rep").first(),
    )


@pytest.fixture
def bob(tenant_b) -> User:
    with inside(tenant_b):
        return User.objects.get(email=BOB_EMAIL)


@pytest.fixture
def company(alice):
    return company_create(actor=alice, name="Initech")


@pytest.fixture
def contact(alice, company):
    return contact_create(actor=alice, first_name="Peter", last_name="Gibbons", company=company)

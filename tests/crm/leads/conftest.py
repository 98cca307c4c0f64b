from __future__ import annotations

import pytest
from django.test import Client
from django_tenants.utils import tenant_context

from accounts.models import Role, User
from crm.leads.services import lead_form_create
from tests.conftest import BOB_EMAIL, PASSWORD

ACME_HOST = "acme.localhost:8000"
GLOBEX_HOST = "globex.localhost:8000"
SITE = "https://www.acme-landing.example"


def make_rep(email: str, full_name: str, *, language: str = "en", active: bool = True) -> User:
    return User.objects.create_user(
        email=email,
        password=PASSWORD,
        full_name=full_name,
        language=language,
        is_active=active,
        role=Role.objects.get(code="sales_rep"),
    )


@pytest.fixture
def rita(acme) -> User:
    """A sales rep at Acme."""
    return make_rep("rita@acme.example", "Rita Rep")


@pytest.fixture
def sam(acme) -> User:
    """Another sales rep at Acme."""
    return make_rep("sam@acme.example", "Sam Seller")


@pytest.fixture
def bob(tenant_b) -> User:
    """Globex's administrator (read without leaving the schema the test is in)."""
    with tenant_context(tenant_b):
        return User.objects.get(email=BOB_EMAIL)


@pytest.fixture
def lead_form(alice, rita):
    """Acme's landing-page form: leads go to Rita; posts accepted from SITE only."""
    return lead_form_create(
        actor=alice,
        name="Landing page",
        allowed_origins=[SITE],
        owner=rita,
        thank_you_text="Thanks! We will call you soon.",
    )


@pytest.fixture
def web(acme) -> Client:
    """A browser on the internet talking to Acme's host (no login)."""
    return Client(HTTP_HOST=ACME_HOST)


@pytest.fixture
def web_b(tenant_b) -> Client:
    return Client(HTTP_HOST=GLOBEX_HOST)

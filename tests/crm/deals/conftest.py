from __future__ import annotations

import pytest

from accounts.models import User
from crm.deals.models import Pipeline
from tests.conftest import ALICE_EMAIL, inside
from tests.crm.deals.factories import stages_of, user_with_role


@pytest.fixture
def acme(tenant_a):
    """Run the test inside Acme's schema."""
    with inside(tenant_a):
        yield tenant_a


@pytest.fixture
def alice(acme) -> User:
    # Loaded with her role, as the authentication backend loads every signed-in user.
    return User.objects.select_related("role").get(email=ALICE_EMAIL)


@pytest.fixture
def rep(acme) -> User:
    return user_with_role("rita@acme.example", "sales_rep", name="Rita Rep")


@pytest.fixture
def pipeline(acme) -> Pipeline:
    return Pipeline.objects.get(is_default=True)


@pytest.fixture
def stages(pipeline):
    """New, Needs discovery, Proposal preparation, Proposal negotiation, Service delivery, Won, Lost."""
    return stages_of(pipeline)

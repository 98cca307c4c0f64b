from __future__ import annotations

import pytest

from accounts.models import User
from crm.deals.models import Pipeline
from tests.crm.deals.factories import stages_of, user_with_role


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

from __future__ import annotations

import pytest

from accounts.models import User
from crm.deals.models import Pipeline
from tests.crm.deals.factories import stages_of


@pytest.fixture
def pipeline(acme) -> Pipeline:
    return Pipeline.objects.get(is_default=True)


@pytest.fixture
def stages(pipeline):
    """s0..s4 open (10, 20, 40, 60, 80 %), s5 won, s6 lost."""
    return stages_of(pipeline)


@pytest.fixture
def switched_off(acme) -> User:
    from tests.crm.deals.factories import user_with_role

    user = user_with_role("gone@acme.example", "admin")
    user.is_active = False
    user.save()
    return user

from __future__ import annotations

import pytest

from accounts.models import User
from tests.crm.deals.factories import user_with_role


@pytest.fixture
def rex(acme) -> User:
    return User.objects.select_related("role").get(pk=user_with_role("rex@acme.example", "sales_rep").pk)

"""Acting inside Acme (tenant A): Alice the administrator, Rex a sales representative."""

from __future__ import annotations

import pytest

from accounts import roles
from accounts.models import Role, User
from accounts.services import user_create


@pytest.fixture
def rex(acme) -> User:
    user = user_create(
        email="rex@acme.example", full_name="Rex Rep", password=None, role=Role.objects.get(code=roles.SALES_REP)
    )
    return User.objects.select_related("role").get(pk=user.pk)

"""Acting inside Acme (tenant A): Alice the administrator, Rex a sales representative."""

from __future__ import annotations

import pytest

from accounts import roles
from accounts.models import Role, User
from accounts.services import user_create
from crm.models import WorkspaceSettings


@pytest.fixture
def rex(acme) -> User:
    return user_create(
        email="rex@acme.example",
        full_name="Rex Rep",
        password=None,
        role=Role.objects.get(code=roles.SALES_REP),
    )


@pytest.fixture
def region_ru(acme) -> WorkspaceSettings:
    settings, _ = WorkspaceSettings.objects.update_or_create(pk=1, defaults={"default_phone_region": "RU"})
    return settings

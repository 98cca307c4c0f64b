"""Acting inside Acme (tenant A): Alice the administrator, Rex a sales representative."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from accounts import roles
from accounts.models import Role, User
from accounts.services import user_create
from crm.models import WorkspaceSettings
from tests.conftest import ALICE_EMAIL, inside


@pytest.fixture
def acme(tenant_a) -> Iterator:
    """The test runs inside tenant A's schema (rolled back with the `db` transaction)."""
    with inside(tenant_a):
        yield tenant_a


@pytest.fixture
def alice(acme) -> User:
    # Loaded with her role, as the authentication backend loads every signed-in user.
    return User.objects.select_related("role").get(email=ALICE_EMAIL)


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

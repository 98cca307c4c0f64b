"""What every test of the CRM domain may ask for: Acme's schema and its administrator."""

from __future__ import annotations

import pytest

from accounts.models import User
from tests.conftest import ALICE_EMAIL, inside


@pytest.fixture
def acme(tenant_a):
    """Run the test inside Acme's schema."""
    with inside(tenant_a):
        yield tenant_a


@pytest.fixture
def alice(acme) -> User:
    # Loaded with her role, as the authentication backend loads every signed-in user.
    return User.objects.select_related("role").get(email=ALICE_EMAIL)

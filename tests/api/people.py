"""Colleagues of Alice at Acme, signed in over the API with their own role's token."""

from __future__ import annotations

from accounts.models import Role, SeatType, User
from accounts.services import user_create
from tests.api.conftest import ApiClient, sign_in
from tests.conftest import ALICE_EMAIL, PASSWORD, inside

ACME_HOST = "acme.localhost:8000"
GLOBEX_HOST = "globex.localhost:8000"


def colleague(tenant, email: str, role: str) -> tuple[User, ApiClient]:
    """A new person of `tenant` with `role` and a shared-pool seat, and their API client."""
    with inside(tenant):
        user = user_create(
            email=email,
            full_name=email.split("@")[0].title(),
            password=PASSWORD,
            role=Role.objects.get(code=role),
            seat_type=SeatType.CONCURRENT,
        )
    return user, sign_in(ACME_HOST, email)


def alice() -> User:
    """Alice, loaded with her role (call inside Acme's schema)."""
    return User.objects.select_related("role").get(email=ALICE_EMAIL)

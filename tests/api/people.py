"""People of the session workspaces for API tests, made through accounts' services."""

from __future__ import annotations

from accounts.models import Role, SeatType, User
from accounts.services import user_create
from tests.api.conftest import ApiClient, sign_in
from tests.conftest import ALICE_EMAIL, PASSWORD, inside

ACME = ACME_HOST = "acme.localhost:8000"
GLOBEX = GLOBEX_HOST = "globex.localhost:8000"
PEOPLE_PASSWORD = "people-test-password-31"


def person(tenant, email: str, role: str = "sales_rep", seat_type: str = SeatType.CONCURRENT) -> User:
    with inside(tenant):
        return user_create(
            email=email,
            full_name=email.split("@")[0].replace(".", " ").title(),
            password=PEOPLE_PASSWORD,
            role=Role.objects.get(code=role),
            seat_type=seat_type,
        )


def signed_in(tenant, email: str, role: str = "sales_rep", seat_type: str = SeatType.CONCURRENT) -> ApiClient:
    person(tenant, email, role, seat_type)
    return sign_in(ACME if tenant.slug == "acme" else GLOBEX, email, PEOPLE_PASSWORD)


def role_id(tenant, code: str) -> int:
    with inside(tenant):
        return Role.objects.get(code=code).pk


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

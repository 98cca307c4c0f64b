"""People of the session workspaces for admin API tests, made through accounts' services."""

from __future__ import annotations

from accounts.models import Role, SeatType, User
from accounts.services import user_create
from tests.api.conftest import ApiClient, sign_in
from tests.conftest import inside

ACME = "acme.localhost:8000"
GLOBEX = "globex.localhost:8000"
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

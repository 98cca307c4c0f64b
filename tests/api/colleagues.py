"""Colleagues with other roles signed in over the API, and ids that exist only in globex.

Plain helpers, not fixtures, so each test says who acts.
"""

from __future__ import annotations

from collections.abc import Callable

from django.db import connection
from django.db.models import Model
from django.test.utils import CaptureQueriesContext

from accounts.models import Role, SeatType, User
from accounts.services import user_create
from tests.api.conftest import ApiClient, sign_in
from tests.conftest import ALICE_EMAIL, PASSWORD, inside

ACME_HOST = "acme.localhost:8000"


def alice(tenant) -> User:
    """Acme's administrator, role loaded (call it outside `inside()`: it leaves for public)."""
    with inside(tenant):
        return User.objects.select_related("role").get(email=ALICE_EMAIL)


def colleague(tenant, email: str, role: str) -> tuple[ApiClient, User]:
    """A new member of acme with `role` and a shared seat, signed in over the API."""
    with inside(tenant):
        user = user_create(
            email=email,
            full_name=email.split("@")[0].title(),
            password=PASSWORD,
            role=Role.objects.get(code=role),
            seat_type=SeatType.CONCURRENT,
        )
    return sign_in(ACME_HOST, email), user


def only_in_b(tenant_a, tenant_b, create: Callable[[], Model]) -> int:
    """The id of a record created in globex by `create`, chosen so acme has no row with that id."""
    for _attempt in range(5):
        with inside(tenant_b):
            record = create()
        with inside(tenant_a):
            if not type(record)._base_manager.filter(pk=record.pk).exists():
                return record.pk
    raise AssertionError("acme and globex kept sharing ids")


def queries_of(client: ApiClient, path: str, params: dict | None = None) -> int:
    """How many SQL queries one GET takes (authentication, seat and rate limit included)."""
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path, params)
    assert response.status_code == 200, response.content
    return len(captured)

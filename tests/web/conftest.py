"""Signed-in browsers (Django test clients) for the web UI, inside Acme (tenant A).

Alice is the administrator; Rex a sales representative (sees his own records); Fay an
outside freelancer (sees only what is shared with her). Each signs in through the real
login page, so each holds a seat lease like a person would. Data is rolled back with
the `db` transaction.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.test import Client

from accounts import roles
from accounts.models import Role, SeatType, User
from accounts.services import user_create
from tests.conftest import ALICE_EMAIL, PASSWORD, inside

ACME_HOST = "acme.localhost:8000"
GLOBEX_HOST = "globex.localhost:8000"


def sign_in(client: Client, email: str, password: str = PASSWORD) -> Client:
    response = client.post("/login/", {"username": email, "password": password})
    assert response.status_code == 302, response.content.decode()[:2000]
    return client


@pytest.fixture
def acme(tenant_a) -> Iterator:
    with inside(tenant_a):
        yield tenant_a


@pytest.fixture
def alice(acme) -> User:
    return User.objects.select_related("role").get(email=ALICE_EMAIL)


def _member(email: str, name: str, role_code: str) -> User:
    return user_create(
        email=email,
        full_name=name,
        password=PASSWORD,
        role=Role.objects.get(code=role_code),
        seat_type=SeatType.CONCURRENT,
    )


@pytest.fixture
def rex(acme) -> User:
    return _member("rex@acme.example", "Rex Rep", roles.SALES_REP)


@pytest.fixture
def fay(acme) -> User:
    return _member("fay@acme.example", "Fay Freelance", roles.FREELANCER)


@pytest.fixture
def web_alice(alice) -> Client:
    return sign_in(Client(HTTP_HOST=ACME_HOST), alice.email)


@pytest.fixture
def web_rex(rex) -> Client:
    return sign_in(Client(HTTP_HOST=ACME_HOST), rex.email)


@pytest.fixture
def web_fay(fay) -> Client:
    return sign_in(Client(HTTP_HOST=ACME_HOST), fay.email)


@pytest.fixture
def web_bob(tenant_b) -> Client:
    from tests.conftest import BOB_EMAIL

    return sign_in(Client(HTTP_HOST=GLOBEX_HOST), BOB_EMAIL)

"""Clients that speak to a tenant's API with a real token, as an integration would."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.conftest import ALICE_EMAIL, BOB_EMAIL, PASSWORD


class ApiClient(Client):
    """A test client bound to one tenant host, sending JSON and a bearer token."""

    def __init__(self, host: str, token: str | None = None):
        super().__init__(HTTP_HOST=host)
        self.token = token

    def _headers(self, extra: dict) -> dict:
        headers = dict(extra)
        if self.token:
            headers.setdefault("HTTP_AUTHORIZATION", f"Bearer {self.token}")
        return headers

    def get(self, path, data=None, **extra):
        return super().get(path, data, **self._headers(extra))

    def post(self, path, data=None, **extra):
        return super().post(path, data or {}, content_type="application/json", **self._headers(extra))

    def patch(self, path, data=None, **extra):
        return super().patch(path, data or {}, content_type="application/json", **self._headers(extra))

    def delete(self, path, data=None, **extra):
        return super().delete(path, data, **self._headers(extra))


def sign_in(host: str, email: str, password: str = PASSWORD) -> ApiClient:
    client = ApiClient(host)
    response = client.post("/api/v1/auth/token/", {"email": email, "password": password})
    assert response.status_code == 200, response.content
    client.token = response.json()["token"]
    return client


@pytest.fixture
def api_a(tenant_a) -> ApiClient:
    """Alice (admin of acme) signed in over the API."""
    return sign_in("acme.localhost:8000", ALICE_EMAIL)


@pytest.fixture
def api_b(tenant_b) -> ApiClient:
    """Bob (admin of globex) signed in over the API."""
    return sign_in("globex.localhost:8000", BOB_EMAIL)

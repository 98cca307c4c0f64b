"""Shared fixtures: two workspaces built once per session, like healthchecks' Alice and Bob.

Tenant schemas are created for real (committed, through the signup service) before any
test runs; tests then use the `db` fixture, whose transaction is rolled back, inside one
of them. Tests that need committed data (threads, a real Celery worker) use
`committed_db` and clean up after themselves.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.utils import translation

from config.celery import app as celery_app

ALICE_EMAIL = "alice@acme.example"
BOB_EMAIL = "bob@globex.example"
PASSWORD = "correct-horse-battery-9"


def broker_url_for(database_name: str) -> str:
    params = connection.settings_dict
    password = f":{params['PASSWORD']}" if params.get("PASSWORD") else ""
    return (
        f"sqla+postgresql+psycopg://{params.get('USER') or ''}{password}@{params.get('HOST') or '127.0.0.1'}:"
        f"{params.get('PORT') or 5432}/{database_name}"
    )


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """Template, public host and the two session workspaces, committed once."""
    from django.conf import settings
    from django.contrib.auth.hashers import get_hashers, get_hashers_by_algorithm

    from tenants.services import SignupRequest, tenant_signup

    # Hashing strength is not under test; Argon2 would make every user cost ~100 ms.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    get_hashers.cache_clear()
    get_hashers_by_algorithm.cache_clear()

    # pytest-django only creates the test database when a collected test asks for `db`;
    # a run of only `committed_db` tests must never touch the real database.
    created_here = None
    if not connection.settings_dict["NAME"].startswith("test_"):
        from django.test.utils import setup_databases

        with django_db_blocker.unblock():
            created_here = setup_databases(verbosity=0, interactive=False, aliases={"default"})

    # The broker lives in the test database too, so nothing leaks into a dev queue.
    celery_app.conf.broker_url = broker_url_for(connection.settings_dict["NAME"])
    with django_db_blocker.unblock():
        call_command("platform_setup", verbosity=0)
        tenant_signup(
            request=SignupRequest(
                company_name="Acme Corp",
                slug="acme",
                admin_name="Alice Adams",
                admin_email=ALICE_EMAIL,
                admin_password=PASSWORD,
                plan="team",
            )
        )
        tenant_signup(
            request=SignupRequest(
                company_name="Globex",
                slug="globex",
                admin_name="Bob Brown",
                admin_email=BOB_EMAIL,
                admin_password=PASSWORD,
                plan="business",
                language="ru",
            )
        )
        connection.set_schema_to_public()
    yield
    _close_broker_connections()
    if created_here is not None:
        from django.test.utils import teardown_databases

        with django_db_blocker.unblock():
            teardown_databases(created_here, verbosity=0)


def _close_broker_connections() -> None:
    """Kombu's SQLAlchemy transport pools connections; the test database can't be dropped under them."""
    from kombu.transport.sqlalchemy import Channel

    celery_app.pool.force_close_all()
    for engine, _session in Channel._engines.values():
        engine.dispose()


@pytest.fixture(autouse=True)
def back_to_public() -> Iterator[None]:
    """Requests and tests switch schemas; every test starts and ends on public."""
    connection.set_schema_to_public()
    yield
    connection.set_schema_to_public()


@pytest.fixture(autouse=True)
def back_to_english() -> Iterator[None]:
    """A request leaves its language active in the thread (the locale middlewares never
    deactivate it): the next test would otherwise speak Arabic because this one did."""
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture
def tenant_a(db):
    from tenants.models import Tenant

    return Tenant.objects.get(slug="acme")


@pytest.fixture
def tenant_b(db):
    from tenants.models import Tenant

    return Tenant.objects.get(slug="globex")


@contextlib.contextmanager
def inside(tenant) -> Iterator[None]:
    connection.set_tenant(tenant)
    try:
        yield
    finally:
        connection.set_schema_to_public()


@pytest.fixture
def client_a(tenant_a) -> Client:
    return Client(HTTP_HOST="acme.localhost:8000")


@pytest.fixture
def client_b(tenant_b) -> Client:
    return Client(HTTP_HOST="globex.localhost:8000")


@pytest.fixture
def public_client(db) -> Client:
    return Client(HTTP_HOST="localhost:8000")


@pytest.fixture
def committed_db(django_db_setup, django_db_blocker) -> Iterator[None]:
    """Real transactions (autocommit), for threads and other processes. Clean up yourself."""
    with django_db_blocker.unblock():
        connection.set_schema_to_public()
        yield
        connection.set_schema_to_public()

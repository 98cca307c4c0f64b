"""Charlie should have no access to Alice's stuff: tenants never see each other."""

from __future__ import annotations

import json
import logging

from django.core.cache import cache
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection

from accounts.models import SeatType, User
from accounts.services import user_create
from config.log_format import JsonFormatter
from config.request_context import RequestContextFilter, bind_request_id
from tests.conftest import ALICE_EMAIL, BOB_EMAIL, PASSWORD, inside


def test_orm_sees_only_the_active_tenants_rows(tenant_a, tenant_b):
    with inside(tenant_a):
        emails_a = list(User.objects.values_list("email", flat=True))
    with inside(tenant_b):
        emails_b = list(User.objects.values_list("email", flat=True))

    assert emails_a == [ALICE_EMAIL]
    assert emails_b == [BOB_EMAIL]


def test_public_host_never_serves_tenant_pages(public_client):
    assert public_client.get("/login/").status_code == 404
    assert public_client.get("/password-reset/").status_code == 404


def test_tenant_host_never_serves_public_pages(client_a):
    assert client_a.get("/signup/").status_code == 404
    assert client_a.get("/admin/").status_code == 404
    assert client_a.get("/api/v1/signup/").status_code == 404


def test_unknown_host_is_404_and_says_nothing_about_the_host(db):
    from django.test import Client

    first = Client(HTTP_HOST="nosuchcompany.localhost:8000").get("/login/")
    second = Client(HTTP_HOST="acme-typo.localhost:8000").get("/")

    assert first.status_code == second.status_code == 404
    assert first.content == second.content
    assert b"nosuchcompany" not in first.content


def test_each_tenant_host_shows_its_own_workspace(client_a, client_b):
    assert "Acme Corp" in client_a.get("/login/").content.decode()
    page_b = client_b.get("/login/").content.decode()
    assert "Globex" in page_b
    assert "Acme" not in page_b


def test_session_cookie_from_tenant_a_is_not_a_login_on_tenant_b(client_a, client_b):
    response = client_a.post("/login/", {"username": ALICE_EMAIL, "password": PASSWORD})
    assert response.status_code == 302
    assert client_a.get("/").status_code == 200

    client_b.cookies = client_a.cookies
    response = client_b.get("/")

    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_same_email_in_two_tenants_is_two_separate_accounts(tenant_b, client_a, client_b):
    with inside(tenant_b):
        user_create(
            email=ALICE_EMAIL,
            password="another-secret-pass-77",
            full_name="Alice at Globex",
            role=None,
            seat_type=SeatType.NAMED,
        )

    assert client_b.post("/login/", {"username": ALICE_EMAIL, "password": PASSWORD}).status_code == 200
    assert client_a.post("/login/", {"username": ALICE_EMAIL, "password": "another-secret-pass-77"}).status_code == 200
    assert client_b.post("/login/", {"username": ALICE_EMAIL, "password": "another-secret-pass-77"}).status_code == 302
    with inside(tenant_b):
        assert User.objects.get(email=ALICE_EMAIL).full_name == "Alice at Globex"


def test_a_cached_value_written_in_a_is_not_read_in_b(tenant_a, tenant_b):
    with inside(tenant_a):
        cache.set("dashboard", "acme figures", 60)
    with inside(tenant_b):
        assert cache.get("dashboard") is None
    with inside(tenant_a):
        assert cache.get("dashboard") == "acme figures"
        cache.delete("dashboard")


def test_uploaded_files_live_under_the_tenants_own_folder(tenant_a, tenant_b, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    with inside(tenant_a):
        name = default_storage.save("contracts/offer.txt", ContentFile(b"acme only"))
        path_a = default_storage.path(name)
    with inside(tenant_b):
        assert not default_storage.exists(name)

    assert path_a.startswith(str(tmp_path / "t_acme"))


def test_log_lines_carry_the_tenant_and_the_request_id(tenant_a):
    record = logging.LogRecord("crm", logging.INFO, __file__, 1, "deal moved", None, None)
    bind_request_id("req-123")
    with inside(tenant_a):
        connection.ensure_connection()
        RequestContextFilter().filter(record)

    line = json.loads(JsonFormatter().format(record))
    assert line["tenant"] == "t_acme"
    assert line["request_id"] == "req-123"
    assert line["message"] == "deal moved"


def test_responses_echo_a_request_id(client_a):
    response = client_a.get("/login/", HTTP_X_REQUEST_ID="abc-123")
    assert response["X-Request-ID"] == "abc-123"

    generated = client_a.get("/login/", HTTP_X_REQUEST_ID="bad id with spaces")["X-Request-ID"]
    assert generated != "bad id with spaces"
    assert len(generated) == 32

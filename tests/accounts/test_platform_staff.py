"""Platform staff sign in on the public host's admin and have no account inside tenants."""

from __future__ import annotations

import pytest

from accounts.models import User

STAFF_EMAIL = "ops@platform.example"
STAFF_PASSWORD = "staff-secret-pass-31"


@pytest.fixture
def staff(db):
    return User.objects.create_superuser(STAFF_EMAIL, STAFF_PASSWORD, full_name="Platform Ops")


def test_staff_can_open_the_platform_admin_and_see_workspaces(staff, public_client):
    response = public_client.post(
        "/admin/login/?next=/admin/", {"username": STAFF_EMAIL, "password": STAFF_PASSWORD}, follow=True
    )
    assert response.status_code == 200

    listing = public_client.get("/admin/tenants/tenant/")
    assert listing.status_code == 200
    assert "acme" in listing.content.decode()


def test_staff_have_no_account_inside_a_tenant(staff, client_a):
    response = client_a.post("/login/", {"username": STAFF_EMAIL, "password": STAFF_PASSWORD})

    assert response.status_code == 200
    assert client_a.get("/").status_code == 302


def test_tenant_admins_cannot_open_the_platform_admin(public_client):
    from tests.conftest import ALICE_EMAIL, PASSWORD

    response = public_client.post("/admin/login/?next=/admin/", {"username": ALICE_EMAIL, "password": PASSWORD})

    assert response.status_code == 200
    assert public_client.get("/admin/").status_code == 302

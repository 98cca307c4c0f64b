"""GET /api/v1/billing/ and the read-only workspace over the real token-authenticated API."""

from __future__ import annotations

from accounts.models import Role, SeatType, User
from tenants.models import Tenant, TenantStatus
from tests.api.conftest import ApiClient, sign_in
from tests.conftest import PASSWORD, inside


def test_billing_summary_names_plan_status_seats_and_trial_end(api_a, tenant_a, django_assert_max_num_queries):
    with django_assert_max_num_queries(15):
        response = api_a.get("/api/v1/billing/")

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["plan"] == {"code": "team", "name": "Team"}
    assert body["status"] == "trialing"
    assert body["seats"] == {"paid": tenant_a.named_seats, "used": 1}
    assert body["trial_ends_at"] and body["subscription"] is None


def test_billing_summary_is_for_billing_administrators_only(tenant_a):
    with inside(tenant_a):
        User.objects.create_user(
            email="rep.api@acme.example", password=PASSWORD, full_name="Rep", seat_type=SeatType.NAMED,
            role=Role.objects.get(code="sales_rep"),
        )  # fmt: skip
    rep = sign_in("acme.localhost:8000", "rep.api@acme.example")

    response = rep.get("/api/v1/billing/")

    assert response.status_code == 403 and response.json()["code"] == "permission_denied"


def test_one_workspaces_token_means_nothing_on_another(api_a, tenant_b):
    intruder = ApiClient("globex.localhost:8000", token=api_a.token)

    response = intruder.get("/api/v1/billing/")

    assert response.status_code == 401


def test_a_read_only_workspace_refuses_api_writes_and_keeps_reads(api_a, tenant_a):
    Tenant.objects.filter(pk=tenant_a.pk).update(status=TenantStatus.READ_ONLY)

    created = api_a.post("/api/v1/contacts/", {"first_name": "Ivan"})
    listed = api_a.get("/api/v1/contacts/")
    summary = api_a.get("/api/v1/billing/")

    assert (created.status_code, created.json()["code"]) == (403, "tenant_read_only")
    assert listed.status_code == 200
    assert summary.json()["status"] == "read_only"

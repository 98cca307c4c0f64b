"""Roles over the API: built-in ones as shipped, custom ones from permissions and powers."""

from __future__ import annotations

from accounts.models import AuditEntry, Role
from tests.api.people import person, role_id, signed_in
from tests.conftest import inside

PERMISSIONS = {"deal": {"view": "team", "edit": "own"}, "contact": {"view": "all"}}


def test_roles_are_listed_with_their_permissions_and_holders(api_a):
    rows = {row["code"]: row for row in api_a.get("/api/v1/roles/").json()["results"]}

    assert {"admin", "manager", "sales_rep", "support", "marketing", "read_only", "freelancer"} <= set(rows)
    assert rows["admin"]["is_system"] is True
    assert rows["admin"]["user_count"] >= 1
    assert rows["sales_rep"]["permissions"]["deal"]["view"] == "own"
    assert rows["admin"]["capabilities"] == ["users", "seats", "billing", "backups", "settings"]


def test_admin_creates_a_custom_role_and_people_who_hold_it_get_its_rights(api_a, tenant_a):
    response = api_a.post(
        "/api/v1/roles/", {"name": "Key accounts", "permissions": PERMISSIONS, "capabilities": ["seats"]}
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["code"] == "key-accounts"
    assert body["is_system"] is False
    assert body["permissions"]["deal"] == {
        "view": "team",
        "create": "none",
        "edit": "own",
        "delete": "none",
        "export": "none",
    }
    assert body["capabilities"] == ["seats"]
    with inside(tenant_a):
        assert AuditEntry.objects.filter(action="role.create", target_id=body["id"]).exists()
    holder = signed_in(tenant_a, "kim@acme.example", role="key-accounts")
    assert holder.get("/api/v1/seats/").status_code == 200
    assert holder.get("/api/v1/users/").status_code == 403


def test_a_custom_role_is_changed_and_deleted_when_nobody_holds_it(api_a):
    created = api_a.post("/api/v1/roles/", {"name": "Temp", "permissions": PERMISSIONS}).json()

    changed = api_a.patch(
        f"/api/v1/roles/{created['id']}/", {"name": "Temporary", "permissions": {"deal": {"view": "all"}}}
    )
    deleted = api_a.delete(f"/api/v1/roles/{created['id']}/")

    assert changed.status_code == 200
    assert changed.json()["name"] == "Temporary"
    assert changed.json()["permissions"]["deal"]["view"] == "all"
    assert changed.json()["permissions"]["contact"]["view"] == "none"  # replaced, not merged
    assert deleted.status_code == 204
    assert api_a.get(f"/api/v1/roles/{created['id']}/").status_code == 404


def test_built_in_roles_cannot_be_changed_or_deleted(api_a, tenant_a):
    rep = role_id(tenant_a, "sales_rep")

    changed = api_a.patch(f"/api/v1/roles/{rep}/", {"capabilities": ["users"]})
    deleted = api_a.delete(f"/api/v1/roles/{rep}/")

    assert changed.status_code == 400 and changed.json()["code"] == "role_builtin"
    assert deleted.status_code == 409 and deleted.json()["code"] == "role_builtin"
    with inside(tenant_a):
        assert Role.objects.get(pk=rep).capabilities == []


def test_a_role_someone_holds_cannot_be_deleted(api_a, tenant_a):
    created = api_a.post("/api/v1/roles/", {"name": "Held"}).json()
    person(tenant_a, "holder@acme.example", role="held")

    response = api_a.delete(f"/api/v1/roles/{created['id']}/")

    assert response.status_code == 409
    assert response.json()["code"] == "role_in_use"


def test_bad_role_input_is_field_errors(api_a):
    before = len(api_a.get("/api/v1/roles/").json()["results"])

    responses = [
        api_a.post("/api/v1/roles/", {"name": ""}),
        api_a.post("/api/v1/roles/", {"name": "X", "permissions": {"deal": {"view": "galaxy"}}}),
        api_a.post("/api/v1/roles/", {"name": "X", "permissions": {"spaceship": {"view": "all"}}}),
        api_a.post("/api/v1/roles/", {"name": "X", "permissions": {"deal": {"fly": "all"}}}),
        api_a.post("/api/v1/roles/", {"name": "X", "capabilities": ["god_mode"]}),
        api_a.post("/api/v1/roles/", {"name": "X", "permissions": ["not", "a", "dict"]}),
        api_a.post("/api/v1/roles/", {"name": "x" * 1000}),
    ]

    for response in responses:
        assert response.status_code == 400, response.content
        assert response.json()["code"] == "validation_error"
    assert len(api_a.get("/api/v1/roles/").json()["results"]) == before


def test_a_sales_rep_cannot_read_or_create_roles(tenant_a):
    rep = signed_in(tenant_a, "rita@acme.example")

    assert rep.get("/api/v1/roles/").status_code == 403
    assert rep.post("/api/v1/roles/", {"name": "Mine", "capabilities": ["users"]}).status_code == 403


def test_role_list_queries_are_bounded(api_a, django_assert_max_num_queries):
    with django_assert_max_num_queries(12) as few:
        api_a.get("/api/v1/roles/")
    few_queries = len(few.captured_queries)
    for i in range(10):
        api_a.post("/api/v1/roles/", {"name": f"Extra {i}"})
    with django_assert_max_num_queries(few_queries):
        assert len(api_a.get("/api/v1/roles/").json()["results"]) >= 17


def test_another_workspaces_roles_are_not_found(api_a, api_b):
    created = api_b.post("/api/v1/roles/", {"name": "Globex only " + "z" * 20}).json()

    response = api_a.get(f"/api/v1/roles/{created['id']}/")

    assert response.status_code == 404 or response.json()["name"] != created["name"]
    assert api_a.get("/api/v1/roles/999999/").status_code == 404
    assert api_a.__class__("globex.localhost:8000", api_a.token).get("/api/v1/roles/").status_code == 401

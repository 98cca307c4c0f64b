"""`/api/v1/audit-log/`: the access audit log for user administrators."""

from __future__ import annotations

from accounts.models import AuditEntry, User
from tests.api.people import signed_in
from tests.conftest import inside


def test_an_admin_reads_the_log_newest_first_with_actions_in_words(api_a, tenant_a):
    with inside(tenant_a):
        AuditEntry.objects.create(actor=None, actor_label="system", action="backup.restored", target_label="Acme")

    response = api_a.get("/api/v1/audit-log/")

    rows = response.json()["results"]
    assert response.status_code == 200
    assert rows[0]["action"] == "backup.restored" and rows[0]["action_label"] == "Backup restored"
    assert rows[0]["actor"] is None and rows[0]["actor_label"] == "system"
    assert [row["id"] for row in rows] == sorted((row["id"] for row in rows), reverse=True)


def test_filters_by_person_group_and_dates(api_a, tenant_a):
    with inside(tenant_a):
        alice = User.objects.get(email="alice@acme.example")
        AuditEntry.objects.create(actor=alice, actor_label=alice.email, action="team.create", target_label="Blue")
        AuditEntry.objects.create(actor=None, actor_label="system", action="seat.assign", target_label="Seat")

    teams = api_a.get("/api/v1/audit-log/", {"group": "team", "person_id": alice.pk}).json()["results"]
    nothing = api_a.get("/api/v1/audit-log/", {"date_to": "2000-01-01"}).json()["results"]

    assert {row["target_label"] for row in teams} == {"Blue"}
    assert nothing == []


def test_bad_filters_are_field_errors(api_a):
    response = api_a.get("/api/v1/audit-log/", {"group": "nope", "date_from": "2026-02-02", "date_to": "2026-02-01"})

    body = response.json()
    assert response.status_code == 400
    assert body["code"] == "validation_error"
    assert "group" in body["errors"]


def test_a_sales_rep_is_refused(tenant_a):
    response = signed_in(tenant_a, "nosy@acme.example").get("/api/v1/audit-log/")

    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"


def test_another_workspaces_entry_is_not_found(api_a, tenant_b):
    with inside(tenant_b):
        entry = AuditEntry.objects.create(pk=10**12, actor_label="bob", action="role.delete", target_label="Secret")

    response = api_a.get(f"/api/v1/audit-log/{entry.pk}/")

    assert response.status_code == 404
    assert "Secret" not in response.content.decode()

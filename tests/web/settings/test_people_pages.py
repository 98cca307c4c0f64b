"""Settings → Users and invitations, Roles, Teams: thin pages over the accounts services."""

from __future__ import annotations

import pytest
from django.core import mail

from accounts import roles
from accounts.models import AuditEntry, Invitation, Role, SeatType, Team, User
from tests.conftest import inside

ADMIN_PAGES = ["/settings/users/", "/settings/roles/", "/settings/roles/new/", "/settings/teams/"]


@pytest.mark.parametrize("path", ADMIN_PAGES)
def test_admin_pages_render_within_a_query_bound(web_alice, rex, path, django_assert_max_num_queries):
    with django_assert_max_num_queries(16):
        response = web_alice.get(path)
    assert response.status_code == 200


@pytest.mark.parametrize("path", [*ADMIN_PAGES, "/settings/workspace/", "/settings/pipelines/", "/settings/"])
def test_a_sales_rep_is_refused_every_settings_page(web_rex, path):
    assert web_rex.get(path).status_code == 403


def test_signed_out_settings_go_to_sign_in(client_a):
    response = client_a.get("/settings/users/")
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_settings_index_opens_the_first_section_the_admin_may_use(web_alice):
    assert web_alice.get("/settings/")["Location"] == "/settings/seats/"


def test_invite_creates_an_invitation_and_lists_it(web_alice):
    role = Role.objects.get(code=roles.SALES_REP)
    response = web_alice.post(
        "/settings/users/",
        {"email": "new.rep@acme.example", "full_name": "New Rep", "role": role.pk, "seat_type": SeatType.CONCURRENT},
    )
    assert response.status_code == 302
    invitation = Invitation.objects.get(email="new.rep@acme.example")
    assert invitation.role == role and invitation.seat_type == SeatType.CONCURRENT
    assert "new.rep@acme.example" in web_alice.get("/settings/users/").content.decode()


def test_inviting_a_taken_email_is_a_field_error_and_writes_nothing(web_alice, rex):
    role = Role.objects.get(code=roles.SALES_REP)
    before = Invitation.objects.count()
    response = web_alice.post(
        "/settings/users/", {"email": rex.email, "full_name": "Again", "role": role.pk, "seat_type": "none"}
    )
    assert response.status_code == 400
    assert "Someone in this workspace already uses this email." in response.content.decode()
    assert Invitation.objects.count() == before and not mail.outbox


def test_a_broken_invitation_form_explains_each_field(web_alice):
    response = web_alice.post("/settings/users/", {"email": "not-an-email", "role": "999999", "seat_type": "gold"})
    body = response.content.decode()
    assert response.status_code == 400
    assert body.count('class="error"') >= 3


def test_revoking_an_invitation(web_alice):
    role = Role.objects.get(code=roles.SALES_REP)
    web_alice.post(
        "/settings/users/", {"email": "x@acme.example", "full_name": "X", "role": role.pk, "seat_type": "none"}
    )
    invitation = Invitation.objects.get(email="x@acme.example")
    web_alice.post(f"/settings/invitations/{invitation.pk}/revoke/")
    invitation.refresh_from_db()
    assert invitation.revoked_at is not None


def test_changing_role_and_seat_goes_through_the_services_and_is_audited(web_alice, rex):
    manager = Role.objects.get(code=roles.MANAGER)
    response = web_alice.post(
        f"/settings/users/{rex.pk}/", {"role": manager.pk, "seat_type": SeatType.NONE, "is_active": "on"}
    )
    assert response.status_code == 302
    rex.refresh_from_db()
    assert rex.role == manager and rex.seat_type == SeatType.NONE
    assert AuditEntry.objects.filter(action="user.role", target_id=rex.pk).exists()
    assert AuditEntry.objects.filter(action="seat.assign", target_id=rex.pk).exists()


def test_switching_someone_off(web_alice, rex):
    web_alice.post(f"/settings/users/{rex.pk}/", {"role": rex.role_id, "seat_type": rex.seat_type})
    rex.refresh_from_db()
    assert not rex.is_active


def test_a_refused_change_writes_nothing_at_all(web_alice, alice, rex):
    # given a change of Rex's role that is fine and a change of Alice's own role that is not
    response = web_alice.post(
        f"/settings/users/{alice.pk}/",
        {"role": Role.objects.get(code=roles.SALES_REP).pk, "seat_type": SeatType.NONE, "is_active": "on"},
        follow=True,
    )
    alice.refresh_from_db()
    assert alice.role.code == roles.ADMIN and alice.seat_type != SeatType.NONE
    assert "You can&#x27;t change your own role." in response.content.decode()


FAR_ID = 10**12  # an id only the other workspace has (ids are per schema)


def test_another_workspaces_person_is_not_found(tenant_b, web_alice):
    with inside(tenant_b):
        other = User.objects.create(pk=FAR_ID, email="far@globex.example", full_name="Far Away")
    response = web_alice.post(f"/settings/users/{other.pk}/", {"role": "1", "seat_type": "none"})
    assert response.status_code == 404
    with inside(tenant_b):
        assert User.objects.get(pk=FAR_ID).is_active


def test_a_rep_cannot_change_his_own_role(web_rex, rex):
    admin = Role.objects.get(code=roles.ADMIN)
    response = web_rex.post(
        f"/settings/users/{rex.pk}/", {"role": admin.pk, "seat_type": rex.seat_type, "is_active": "on"}
    )
    assert response.status_code == 403
    rex.refresh_from_db()
    assert rex.role.code == roles.SALES_REP


def _matrix(scope: str = "none") -> dict[str, str]:
    return {f"perm_{record}_{action}": scope for record in roles.RECORD_TYPES for action in roles.ACTIONS}


def test_creating_a_custom_role_from_the_matrix(web_alice):
    data = {**_matrix(), "name": "Lead hunter", "description": "Leads only", "capabilities": ["seats"]}
    data["perm_lead_view"] = "team"
    data["perm_lead_create"] = "all"
    response = web_alice.post("/settings/roles/new/", data)
    assert response.status_code == 302
    role = Role.objects.get(name="Lead hunter")
    assert role.permissions["lead"]["view"] == "team" and role.permissions["deal"]["view"] == "none"
    assert role.capabilities == ["seats"] and not role.is_system


def test_a_role_form_with_a_made_up_scope_writes_nothing(web_alice):
    data = {**_matrix(), "name": "Odd", "perm_lead_view": "galaxy"}
    response = web_alice.post("/settings/roles/new/", data)
    assert response.status_code == 400 and not Role.objects.filter(name="Odd").exists()


def test_editing_a_custom_role_and_copying_a_built_in_one(web_alice):
    manager = Role.objects.get(code=roles.MANAGER)
    copy_page = web_alice.get(f"/settings/roles/new/?from={manager.pk}").content.decode()
    assert "Copy of Sales manager" in copy_page
    web_alice.post("/settings/roles/new/", {**_matrix("own"), "name": "Mine"})
    role = Role.objects.get(name="Mine")
    web_alice.post(f"/settings/roles/{role.pk}/", {**_matrix("all"), "name": "Mine, renamed"})
    role.refresh_from_db()
    assert role.name == "Mine, renamed" and role.permissions["quote"]["export"] == "all"


def test_built_in_roles_stay_as_shipped(web_alice):
    rep = Role.objects.get(code=roles.SALES_REP)
    before = rep.permissions
    response = web_alice.post(f"/settings/roles/{rep.pk}/", {**_matrix("all"), "name": "Hacked"}, follow=True)
    rep.refresh_from_db()
    assert rep.permissions == before and rep.name != "Hacked"
    assert "Built-in roles can&#x27;t be changed." in response.content.decode()
    assert "disabled" in web_alice.get(f"/settings/roles/{rep.pk}/").content.decode()


def test_a_role_nobody_holds_can_be_deleted(web_alice):
    web_alice.post("/settings/roles/new/", {**_matrix(), "name": "Temporary"})
    role = Role.objects.get(name="Temporary")
    web_alice.post(f"/settings/roles/{role.pk}/delete/")
    assert not Role.objects.filter(pk=role.pk).exists()


def test_another_workspaces_role_is_not_found(tenant_b, web_alice):
    with inside(tenant_b):
        Role.objects.create(pk=FAR_ID, code="far", name="Far role")
    assert web_alice.get(f"/settings/roles/{FAR_ID}/").status_code == 404
    assert web_alice.post(f"/settings/roles/{FAR_ID}/delete/").status_code == 404
    with inside(tenant_b):
        assert Role.objects.filter(pk=FAR_ID).exists()


def test_teams_create_edit_delete(web_alice, alice, rex):
    response = web_alice.post("/settings/teams/", {"name": "North", "manager": alice.pk, "members": [rex.pk]})
    assert response.status_code == 302
    team = Team.objects.get(name="North")
    assert list(team.members.all()) == [rex] and team.manager == alice
    web_alice.post(f"/settings/teams/{team.pk}/", {"name": "North-East", "manager": "", "members": []})
    team.refresh_from_db()
    assert team.name == "North-East" and team.manager is None and not team.members.exists()
    web_alice.post(f"/settings/teams/{team.pk}/delete/")
    assert not Team.objects.filter(pk=team.pk).exists()


def test_a_team_without_a_name_is_a_field_error(web_alice):
    response = web_alice.post("/settings/teams/", {"name": "  ", "members": []})
    assert response.status_code == 400 and not Team.objects.exists()


def test_another_workspaces_team_is_not_found(tenant_b, web_alice):
    with inside(tenant_b):
        Team.objects.create(pk=FAR_ID, name="Far team")
    assert web_alice.get(f"/settings/teams/{FAR_ID}/").status_code == 404
    assert web_alice.post(f"/settings/teams/{FAR_ID}/delete/").status_code == 404
    with inside(tenant_b):
        assert Team.objects.filter(pk=FAR_ID).exists()


def people_rows(response) -> str:
    body = response.content.decode()
    return body.split('id="people"')[1].split("</table>")[0] if 'id="people"' in body else ""


def test_people_are_found_by_name_role_and_status(web_alice, rex):
    by_name = web_alice.get("/settings/users/", {"search": "REX"})
    by_role = web_alice.get("/settings/users/", {"role": Role.objects.get(code=roles.ADMIN).pk})
    switched_off = web_alice.get("/settings/users/", {"active": "no"})

    assert "rex@" in people_rows(by_name) and "alice@" not in people_rows(by_name)
    assert "alice@" in people_rows(by_role) and "rex@" not in people_rows(by_role)
    assert people_rows(switched_off) == ""
    assert "Nobody matches these filters." in switched_off.content.decode()


def test_many_people_come_in_pages_within_a_query_bound(web_alice, django_assert_max_num_queries):
    rep = Role.objects.get(code=roles.SALES_REP)
    User.objects.bulk_create(
        User(email=f"p{i:03}@acme.example", full_name=f"Person {i:03}", role=rep, seat_type=SeatType.NONE)
        for i in range(70)
    )

    with django_assert_max_num_queries(16):
        first = web_alice.get("/settings/users/")
    second = web_alice.get("/settings/users/", {"page": 2})

    assert people_rows(first).count('id="person-') == 50
    assert "Page 1 of 2" in first.content.decode()
    assert 0 < people_rows(second).count('id="person-') <= 50
    assert "Person 000" in people_rows(first) and "Person 069" in people_rows(second)


def test_a_filter_naming_an_unknown_role_is_a_field_error_not_a_500(web_alice):
    response = web_alice.get("/settings/users/", {"role": 10**12, "seat_type": "gold"})

    assert response.status_code == 200
    assert response.content.decode().count("Select a valid choice.") == 2

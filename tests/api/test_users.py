"""People administration over the API: lists, adding and inviting, roles, seats, and the guards."""

from __future__ import annotations

import pytest

from accounts.models import AuditEntry, Invitation, SeatType, User
from accounts.services import role_create
from tests.api.people import PEOPLE_PASSWORD, person, role_id, signed_in
from tests.conftest import ALICE_EMAIL, inside


def user_id(tenant, email: str) -> int:
    with inside(tenant):
        return User.objects.get(email=email).pk


def test_admin_lists_people_with_filters_and_integrations_are_left_out(api_a, tenant_a):
    # given a rep, a manager without a seat, a switched-off person and an integration's stand-in
    person(tenant_a, "rita@acme.example")
    person(tenant_a, "manny@acme.example", role="manager", seat_type=SeatType.NONE)
    gone = person(tenant_a, "gone@acme.example")
    with inside(tenant_a):
        User.objects.filter(pk=gone.pk).update(is_active=False)
    created = api_a.post("/api/v1/integration-tokens/", {"name": "ERP", "role": role_id(tenant_a, "read_only")})
    assert created.status_code == 201, created.content

    # when Alice lists
    everyone = api_a.get("/api/v1/users/").json()["results"]
    reps = api_a.get("/api/v1/users/", {"role": role_id(tenant_a, "sales_rep")}).json()["results"]
    no_seat = api_a.get("/api/v1/users/", {"seat_type": "none"}).json()["results"]
    inactive = api_a.get("/api/v1/users/", {"active": "false"}).json()["results"]
    found = api_a.get("/api/v1/users/", {"search": "MANNY"}).json()["results"]

    # then
    emails = {row["email"] for row in everyone}
    assert {"alice@acme.example", "rita@acme.example", "manny@acme.example", "gone@acme.example"} <= emails
    assert not any("integrations.invalid" in email for email in emails)
    assert {row["email"] for row in reps} == {"rita@acme.example", "gone@acme.example"}
    assert [row["email"] for row in no_seat] == ["manny@acme.example"]
    assert [row["email"] for row in inactive] == ["gone@acme.example"]
    assert [row["email"] for row in found] == ["manny@acme.example"]
    assert found[0]["role"]["code"] == "manager"


def test_bad_filters_are_field_errors(api_a):
    response = api_a.get("/api/v1/users/", {"role": "abc", "seat_type": "gold", "ordering": "salary"})

    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"role", "seat_type", "ordering"}


def test_user_list_queries_do_not_grow_with_people(api_a, tenant_a, django_assert_max_num_queries):
    for i in range(5):
        person(tenant_a, f"few{i}@acme.example", seat_type=SeatType.NONE)
    with django_assert_max_num_queries(12) as few:
        assert api_a.get("/api/v1/users/").status_code == 200
    few_queries = len(few.captured_queries)
    for i in range(10):
        person(tenant_a, f"many{i}@acme.example", seat_type=SeatType.NONE)
    with django_assert_max_num_queries(few_queries):
        assert len(api_a.get("/api/v1/users/").json()["results"]) >= 16


def test_admin_adds_a_person_with_a_password_who_can_then_sign_in(api_a, tenant_a):
    response = api_a.post(
        "/api/v1/users/",
        {
            "email": "Nora@Acme.example",
            "name": "Nora New",
            "role": role_id(tenant_a, "support"),
            "password": PEOPLE_PASSWORD,
            "seat_type": "concurrent",
        },
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["email"], body["role"]["code"], body["seat_type"]) == ("nora@acme.example", "support", "concurrent")
    signed = api_a.__class__("acme.localhost:8000").post(
        "/api/v1/auth/token/", {"email": "nora@acme.example", "password": PEOPLE_PASSWORD}
    )
    assert signed.status_code == 200
    with inside(tenant_a):
        assert AuditEntry.objects.filter(action="user.create", target_id=body["id"], actor_label=ALICE_EMAIL).exists()


def test_without_a_password_an_invitation_is_emailed(api_a, tenant_a, mailoutbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = api_a.post(
            "/api/v1/users/", {"email": "ivy@acme.example", "name": "Ivy", "role": role_id(tenant_a, "marketing")}
        )

    assert response.status_code == 202, response.content
    assert response.json()["status"] == "open"
    assert response.json()["role"]["code"] == "marketing"
    assert [message.to for message in mailoutbox] == [["ivy@acme.example"]]
    assert "/invitations/" in mailoutbox[0].body
    with inside(tenant_a):
        assert not User.objects.filter(email="ivy@acme.example").exists()
        assert Invitation.objects.filter(email="ivy@acme.example").count() == 1


def test_bad_input_is_field_errors_and_writes_nothing(api_a, tenant_a):
    before = api_a.get("/api/v1/users/").json()["results"]

    missing = api_a.post("/api/v1/users/", {})
    bad = api_a.post(
        "/api/v1/users/",
        {"email": "not-an-email", "name": "X", "role": role_id(tenant_a, "support"), "password": "123"},
    )
    taken = api_a.post(
        "/api/v1/users/",
        {"email": ALICE_EMAIL.upper(), "name": "Alice 2", "role": 999999, "password": PEOPLE_PASSWORD},
    )
    huge = api_a.post("/api/v1/users/", {"email": "a" * 5000, "name": ["x"], "role": 2**70})

    assert missing.status_code == 400
    assert set(missing.json()["errors"]) == {"email", "name", "role"}
    assert bad.status_code == 400
    assert set(bad.json()["errors"]) == {"email", "password"}
    assert taken.status_code == 400 and set(taken.json()["errors"]) == {"role"}
    assert huge.status_code == 400 and set(huge.json()["errors"]) == {"email", "name", "role"}
    assert api_a.get("/api/v1/users/").json()["results"] == before


def test_admin_changes_role_seat_and_active_with_audit(api_a, tenant_a):
    rita = person(tenant_a, "rita@acme.example", seat_type=SeatType.NONE)

    role = api_a.patch(f"/api/v1/users/{rita.pk}/", {"role": role_id(tenant_a, "manager")})
    seat = api_a.patch(f"/api/v1/users/{rita.pk}/", {"seat_type": "named"})
    off = api_a.patch(f"/api/v1/users/{rita.pk}/", {"is_active": False})

    assert role.status_code == 200 and role.json()["role"]["code"] == "manager"
    assert seat.status_code == 200 and seat.json()["seat_type"] == "named"
    assert off.status_code == 200 and off.json()["is_active"] is False
    with inside(tenant_a):
        actions = set(AuditEntry.objects.filter(target_id=rita.pk).values_list("action", flat=True))
    assert {"user.role", "seat.assign", "user.deactivate"} <= actions


def test_a_stale_if_match_is_refused(api_a, tenant_a):
    rita = person(tenant_a, "rita@acme.example")
    etag = api_a.get(f"/api/v1/users/{rita.pk}/")["ETag"]
    assert api_a.patch(f"/api/v1/users/{rita.pk}/", {"seat_type": "none"}).status_code == 200

    stale = api_a.patch(f"/api/v1/users/{rita.pk}/", {"role": role_id(tenant_a, "manager")}, HTTP_IF_MATCH=etag)

    assert stale.status_code == 412
    assert stale.json()["code"] == "edit_conflict"


def test_a_sales_rep_cannot_read_people_change_their_role_or_assign_seats(tenant_a):
    rep = signed_in(tenant_a, "rita@acme.example")
    rita_id = user_id(tenant_a, "rita@acme.example")

    listed = rep.get("/api/v1/users/")
    own_role = rep.patch(f"/api/v1/users/{rita_id}/", {"role": role_id(tenant_a, "admin")})
    seat = rep.patch(f"/api/v1/users/{rita_id}/", {"seat_type": "named"})
    invite = rep.post("/api/v1/users/", {"email": "x@acme.example", "name": "X", "role": role_id(tenant_a, "admin")})

    for response in (listed, own_role, seat, invite):
        assert response.status_code == 403
        assert response.json()["code"] == "permission_denied"
    with inside(tenant_a):
        rita = User.objects.select_related("role").get(pk=rita_id)
    assert (rita.role.code, rita.seat_type) == ("sales_rep", "concurrent")


def test_an_admin_cannot_change_their_own_role(api_a, tenant_a):
    alice = user_id(tenant_a, ALICE_EMAIL)

    response = api_a.patch(f"/api/v1/users/{alice}/", {"role": role_id(tenant_a, "sales_rep")})

    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"


@pytest.fixture
def hr_api(tenant_a):
    """Harriet from HR: her custom role manages people, but not billing or seats."""
    with inside(tenant_a):
        alice = User.objects.select_related("role").get(email=ALICE_EMAIL)
        hr = role_create(actor=alice, name="HR", permissions={}, capabilities=["users"])
    return signed_in(tenant_a, "harriet@acme.example", role=hr.code)


def test_the_last_admin_cannot_be_demoted(hr_api, tenant_a):
    alice = user_id(tenant_a, ALICE_EMAIL)

    response = hr_api.patch(f"/api/v1/users/{alice}/", {"role": role_id(tenant_a, "manager")})

    assert response.status_code == 400
    assert response.json()["code"] == "last_admin"
    with inside(tenant_a):
        assert User.objects.get(pk=alice).role.code == "admin"


def test_no_one_hands_out_powers_they_lack(hr_api, tenant_a):
    victim = person(tenant_a, "victim@acme.example")

    to_admin = hr_api.patch(f"/api/v1/users/{victim.pk}/", {"role": role_id(tenant_a, "admin")})
    new_role = hr_api.post("/api/v1/roles/", {"name": "Boss", "capabilities": ["billing"]})
    seat = hr_api.patch(f"/api/v1/users/{victim.pk}/", {"seat_type": "named"})

    assert to_admin.status_code == 403
    assert new_role.status_code == 403
    assert seat.status_code == 403
    with inside(tenant_a):
        victim = User.objects.select_related("role").get(pk=victim.pk)
    assert (victim.role.code, victim.seat_type) == ("sales_rep", "concurrent")


def test_another_workspaces_people_are_not_found_and_its_token_is_not_accepted(api_a, api_b, tenant_b):
    bob = user_id(tenant_b, "bob@globex.example")

    # ids are per workspace: the same number may be someone of acme, never Bob
    same_id = api_a.get(f"/api/v1/users/{bob}/")
    assert same_id.status_code == 404 or same_id.json()["email"] != "bob@globex.example"
    assert api_a.get("/api/v1/users/999999/").status_code == 404
    assert api_a.patch("/api/v1/users/999999/", {"is_active": False}).status_code == 404
    foreign = api_a.__class__("globex.localhost:8000", api_a.token)
    assert foreign.get("/api/v1/users/").status_code == 401
    assert foreign.get(f"/api/v1/users/{bob}/").status_code == 401


def test_invitations_are_listed_and_a_revoked_link_stops_working(api_a, tenant_a):
    invited = api_a.post(
        "/api/v1/users/", {"email": "ivy@acme.example", "name": "Ivy", "role": role_id(tenant_a, "support")}
    )
    with inside(tenant_a):
        from accounts.services import invitation_create

        alice = User.objects.select_related("role").get(email=ALICE_EMAIL)
        _other, token = invitation_create(actor=alice, email="olga@acme.example", full_name="Olga", role=alice.role)

    listed = api_a.get("/api/v1/invitations/", {"open": "true"}).json()["results"]
    [olga] = [row for row in listed if row["email"] == "olga@acme.example"]
    revoked = api_a.post(f"/api/v1/invitations/{olga['id']}/revoke/")

    assert invited.json()["id"] in {row["id"] for row in listed}
    assert revoked.status_code == 200 and revoked.json()["status"] == "revoked"
    assert olga["id"] not in {
        row["id"] for row in api_a.get("/api/v1/invitations/", {"open": "true"}).json()["results"]
    }
    page = api_a.__class__("acme.localhost:8000").get(f"/invitations/{token}/")
    assert "no longer valid" in page.content.decode()
    assert api_a.post("/api/v1/invitations/999999/revoke/").status_code == 404
    assert signed_in(tenant_a, "rita@acme.example").get("/api/v1/invitations/").status_code == 403

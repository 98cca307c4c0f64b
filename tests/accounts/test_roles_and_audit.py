"""Roles, administrative powers, escalation attempts and the access audit log."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from accounts import roles
from accounts.errors import AccountsError, PermissionRefused
from accounts.models import AuditEntry, Role, SeatType, User
from accounts.policy import scope_for
from accounts.seats import seat_assign
from accounts.services import role_create, role_update, user_create, user_set_active, user_set_role
from tests.conftest import ALICE_EMAIL, inside


@pytest.fixture
def alice(tenant_a):
    with inside(tenant_a):
        return User.objects.select_related("role").get(email=ALICE_EMAIL)


@pytest.fixture
def rep(tenant_a):
    with inside(tenant_a):
        return user_create(
            email="rep@acme.example",
            full_name="Rita Rep",
            password=None,
            role=Role.objects.get(code=roles.SALES_REP),
            seat_type=SeatType.CONCURRENT,
        )


def test_new_workspaces_get_the_seven_builtin_roles_with_their_scopes(tenant_a):
    with inside(tenant_a):
        by_code = {role.code: role for role in Role.objects.all()}
        rep = User(role=by_code[roles.SALES_REP], is_active=True)
        manager = User(role=by_code[roles.MANAGER], is_active=True)
        freelancer = User(role=by_code[roles.FREELANCER], is_active=True)

    assert set(by_code) == {"admin", "manager", "sales_rep", "support", "marketing", "read_only", "freelancer"}
    assert scope_for(rep, "deal", "view") == "own"
    assert scope_for(manager, "deal", "view") == "team"
    assert scope_for(freelancer, "contact", "view") == "none"
    assert by_code[roles.ADMIN].capabilities == roles.CAPABILITIES


def test_a_rep_cannot_change_their_own_role(tenant_a, rep):
    with inside(tenant_a), pytest.raises(PermissionRefused):
        user_set_role(actor=rep, user=rep, role=Role.objects.get(code=roles.ADMIN))
    with inside(tenant_a):
        assert User.objects.get(pk=rep.pk).role.code == roles.SALES_REP


def test_even_an_admin_cannot_change_their_own_role(tenant_a, alice):
    with inside(tenant_a), pytest.raises(PermissionRefused):
        user_set_role(actor=alice, user=alice, role=Role.objects.get(code=roles.SALES_REP))


def test_a_rep_cannot_assign_seats_or_create_users(tenant_a, rep):
    with inside(tenant_a):
        with pytest.raises(PermissionRefused):
            seat_assign(actor=rep, user=rep, seat_type=SeatType.NAMED)
        with pytest.raises(PermissionRefused):
            user_create(email="friend@acme.example", full_name="Friend", password=None, role=None, actor=rep)
        assert not User.objects.filter(email="friend@acme.example").exists()


def test_the_last_administrator_cannot_be_demoted_or_switched_off(tenant_a, alice):
    with inside(tenant_a):
        people_role = role_create(actor=alice, name="People team", permissions={}, capabilities=["users"])
        hr = user_create(email="hr@acme.example", full_name="Hanna HR", password=None, role=people_role)
        with pytest.raises(AccountsError) as demoting:
            user_set_role(actor=hr, user=alice, role=Role.objects.get(code=roles.SALES_REP))
        with pytest.raises(AccountsError) as switching_off:
            user_set_active(actor=hr, user=alice, active=False)
        assert User.objects.get(pk=alice.pk).role.code == roles.ADMIN

    assert demoting.value.code == switching_off.value.code == "last_admin"


def test_admin_creates_a_custom_role_and_only_known_scopes_are_kept(tenant_a, alice):
    with inside(tenant_a):
        role = role_create(
            actor=alice,
            name="Key accounts",
            capabilities=["seats"],
            permissions={"deal": {"view": "all", "edit": "team", "fly": "all"}, "contact": {"view": "galaxy"}},
        )

    assert role.code == "key-accounts"
    assert role.permissions["deal"] == {
        "view": "all",
        "create": "none",
        "edit": "team",
        "delete": "none",
        "export": "none",
    }
    assert role.permissions["contact"]["view"] == "none"
    assert role.capabilities == ["seats"]


def test_custom_role_needs_a_name_and_known_powers(tenant_a, alice):
    with inside(tenant_a), pytest.raises(ValidationError) as refused:
        role_create(actor=alice, name="Ops", permissions={}, capabilities=["launch_rockets"])

    assert refused.value.error_dict["capabilities"][0].code == "invalid"


def test_builtin_roles_cannot_be_edited(tenant_a, alice):
    with inside(tenant_a), pytest.raises(AccountsError) as refused:
        role_update(actor=alice, role=Role.objects.get(code=roles.SALES_REP), permissions={}, capabilities=[])

    assert refused.value.code == "role_builtin"


def test_every_change_of_role_seat_and_user_is_audited_with_who_and_what(tenant_a, alice, rep):
    with inside(tenant_a):
        user_set_role(actor=alice, user=rep, role=Role.objects.get(code=roles.MANAGER))
        seat_assign(actor=alice, user=rep, seat_type=SeatType.NAMED)
        entries = list(AuditEntry.objects.filter(target_id=rep.pk, target_type="user").order_by("id"))

    actions = [entry.action for entry in entries]
    assert actions[-2:] == ["user.role", "seat.assign"]
    assert entries[-2].changes == {"role": ["sales_rep", "manager"]}
    assert entries[-1].changes == {"seat": ["concurrent", "named"]}
    assert entries[-1].actor_label == ALICE_EMAIL


def test_user_create_reports_field_errors_together(tenant_a, alice):
    with inside(tenant_a), pytest.raises(ValidationError) as refused:
        user_create(email=ALICE_EMAIL.upper(), full_name=" ", password="123", role=None, actor=alice)

    assert set(refused.value.error_dict) == {"email", "full_name", "password"}
    assert refused.value.error_dict["email"][0].code == "taken"

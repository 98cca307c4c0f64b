"""Inviting a colleague by email: the link sets a password inside that workspace, once."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from accounts import roles
from accounts.models import AuditEntry, Invitation, Role, SeatType, User
from accounts.services import invitation_create
from tests.conftest import ALICE_EMAIL, inside


@pytest.fixture
def invite(tenant_a, mailoutbox, django_capture_on_commit_callbacks):
    def send(email: str = "new.hire@acme.example", seat_type: str = SeatType.NAMED) -> str:
        with inside(tenant_a), django_capture_on_commit_callbacks(execute=True):
            alice = User.objects.get(email=ALICE_EMAIL)
            invitation_create(
                actor=alice,
                email=email,
                full_name="New Hire",
                role=Role.objects.get(code=roles.SALES_REP),
                seat_type=seat_type,
            )
        link = re.search(r"http://acme\.localhost:8000(/invitations/[^\s]+/)", mailoutbox[-1].body).group(1)
        return link

    return send


def test_the_invitation_email_links_to_the_workspace_host(invite, mailoutbox):
    invite()

    assert mailoutbox[-1].to == ["new.hire@acme.example"]
    assert "Alice Adams invites you" in mailoutbox[-1].body


def test_accepting_sets_the_password_signs_in_and_spends_the_link(invite, client_a, tenant_a):
    link = invite()

    response = client_a.post(
        link, {"full_name": "Nina Hire", "password1": "nina-strong-pass-42", "password2": "nina-strong-pass-42"}
    )

    assert response.status_code == 302
    assert client_a.get("/").status_code == 200
    with inside(tenant_a):
        user = User.objects.get(email="new.hire@acme.example")
        assert user.full_name == "Nina Hire"
        assert user.role.code == roles.SALES_REP
        assert AuditEntry.objects.filter(action="invitation.accept").exists()
    assert client_a.get(link).status_code == 410


def test_an_expired_invitation_is_refused(invite, client_a, tenant_a):
    link = invite()
    with inside(tenant_a):
        Invitation.objects.update(expires_at=timezone.now() - timedelta(minutes=1))

    response = client_a.get(link)

    assert response.status_code == 410
    assert "This invitation has expired." in response.content.decode()


def test_an_invitation_link_means_nothing_on_another_workspace(invite, client_b):
    link = invite()

    assert client_b.get(link).status_code == 410


def test_a_weak_password_is_refused_and_the_link_still_works(invite, client_a):
    link = invite()

    response = client_a.post(link, {"full_name": "Nina", "password1": "12345", "password2": "12345"})

    assert response.status_code == 200
    assert "too short" in response.content.decode()
    assert client_a.get(link).status_code == 200


def test_inviting_an_existing_member_is_a_field_error(tenant_a):
    from django.core.exceptions import ValidationError

    with inside(tenant_a), pytest.raises(ValidationError) as refused:
        invitation_create(
            actor=User.objects.get(email=ALICE_EMAIL),
            email=ALICE_EMAIL,
            full_name="Alice again",
            role=Role.objects.get(code=roles.ADMIN),
        )
    assert refused.value.error_dict["email"][0].code == "taken"

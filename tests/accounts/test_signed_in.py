"""The signed-in person of a request (by session or by API token) is loaded with their
role in one fixed statement, and is exactly what the ORM would have loaded."""

from __future__ import annotations

import pytest
from django.db.models.functions import Now

from accounts.backends import EmailBackend
from accounts.models import ApiToken, Role, User
from accounts.tokens import TokenInvalid, api_token_authenticate, api_token_issue
from tests.accounts.test_seats import make_user, sign_in
from tests.conftest import inside


def field_values(instance) -> dict:
    return {field.attname: getattr(instance, field.attname) for field in type(instance)._meta.concrete_fields}


def test_the_user_and_role_read_exactly_as_the_orm_reads_them(tenant_a, django_assert_num_queries):
    made = make_user(tenant_a, "exact@acme.example")
    with inside(tenant_a):
        expected = User.objects.select_related("role").get(pk=made.pk)

        with django_assert_num_queries(1):
            loaded = EmailBackend().get_user(made.pk)
            role = loaded.role  # already there: no second query

    assert field_values(loaded) == field_values(expected)
    assert isinstance(role, Role)
    assert field_values(role) == field_values(expected.role)
    assert role.permissions == expected.role.permissions  # JSON decoded, not text


def test_a_user_without_a_role_loads_with_none_and_no_extra_query(tenant_a, django_assert_num_queries):
    made = make_user(tenant_a, "roleless@acme.example")
    with inside(tenant_a):
        User.objects.filter(pk=made.pk).update(role=None)

        with django_assert_num_queries(1):
            assert EmailBackend().get_user(made.pk).role is None


def test_a_switched_off_user_is_not_signed_in(tenant_a):
    made = make_user(tenant_a, "off@acme.example")
    with inside(tenant_a):
        User.objects.filter(pk=made.pk).update(is_active=False)

        assert EmailBackend().get_user(made.pk) is None


@pytest.mark.parametrize("user_id", [987_654_321, "not-a-number", None])
def test_an_unknown_or_malformed_id_finds_nobody(tenant_a, user_id):
    with inside(tenant_a):
        assert EmailBackend().get_user(user_id) is None


def test_each_workspace_finds_only_its_own_people(tenant_a, tenant_b):
    made = make_user(tenant_a, "only-acme@acme.example")
    with inside(tenant_b):
        found = EmailBackend().get_user(made.pk)
        same_id_in_globex = User.objects.filter(pk=made.pk, is_active=True).first()

    # Globex's own person with that id, if it has one; never Acme's.
    assert getattr(found, "email", None) == getattr(same_id_in_globex, "email", None)
    assert getattr(found, "email", None) != made.email


def test_a_signed_in_page_knows_its_user(tenant_a):
    made = make_user(tenant_a, "page@acme.example")
    client, response = sign_in(made.email)
    assert response.status_code == 302

    page = client.get("/")

    assert page.status_code == 200
    assert page.wsgi_request.user.pk == made.pk
    assert page.wsgi_request.user.role.code == made.role.code


def test_a_token_brings_its_person_and_role_exactly_as_the_orm_reads_them(tenant_a, django_assert_max_num_queries):
    made = make_user(tenant_a, "token-reader@acme.example")
    with inside(tenant_a):
        issued = api_token_issue(user=made)
        expected = ApiToken.objects.select_related("user__role").get(pk=issued.token.pk)

        token = api_token_authenticate(secret=issued.secret)
        with django_assert_max_num_queries(0):
            user, role = token.user, token.user.role

    assert field_values(token) == field_values(expected)
    assert field_values(user) == field_values(expected.user)
    assert field_values(role) == field_values(expected.user.role)


def test_a_revoked_token_is_not_found_by_its_secret(tenant_a):
    made = make_user(tenant_a, "token-revoked@acme.example")
    with inside(tenant_a):
        issued = api_token_issue(user=made)
        ApiToken.objects.filter(pk=issued.token.pk).update(revoked_at=Now())

        with pytest.raises(TokenInvalid):
            api_token_authenticate(secret=issued.secret)

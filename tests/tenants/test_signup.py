"""Signing up: a workspace with its schema, host, admin, roles and pipeline, or field errors."""

from __future__ import annotations

import pytest
from django.db import connection
from django_tenants.utils import schema_exists

from accounts.models import Role, User
from crm.deals.models import Pipeline, StageKind
from tenants.errors import SignupRejected
from tenants.models import Domain, Tenant, TenantStatus
from tenants.services import SignupRequest, tenant_signup
from tests.conftest import PASSWORD, inside

VALID = {
    "company_name": "Initech",
    "slug": "initech",
    "admin_name": "Peter Gibbons",
    "admin_email": "Peter@Initech.example",
    "admin_password": PASSWORD,
    "plan": "team",
}


def signup(**overrides) -> Tenant:
    return tenant_signup(request=SignupRequest(**{**VALID, **overrides}))


def errors_of(**overrides) -> dict[str, list[str]]:
    with pytest.raises(SignupRejected) as rejected:
        signup(**overrides)
    return {field: [code for _message, code in items] for field, items in rejected.value.errors.items()}


def test_signup_creates_schema_domain_and_trial(db):
    tenant = signup()

    assert schema_exists("t_initech")
    assert tenant.schema_name == "t_initech"
    assert tenant.status == TenantStatus.TRIALING
    assert tenant.trial_ends_at is not None
    assert Domain.objects.get(tenant=tenant).domain == "initech.localhost"


def test_signup_creates_the_admin_roles_and_default_pipeline_inside_the_schema(db):
    tenant = signup()

    with inside(tenant):
        admin = User.objects.get()
        assert admin.email == "peter@initech.example"
        assert admin.check_password(PASSWORD)
        assert admin.role.code == "admin"
        assert Role.objects.filter(is_system=True).count() == 7
        pipeline = Pipeline.objects.get(is_default=True)
        stages = list(pipeline.stages.values_list("name", "kind"))
    assert stages[0] == ("New", StageKind.OPEN)
    assert ("Acts signed & feedback", StageKind.WON) in stages
    assert stages[-1] == ("Lost", StageKind.LOST)
    assert len(stages) == 7


def test_workspace_defaults_speak_the_signup_language(db):
    tenant = signup(language="es")

    with inside(tenant):
        assert Role.objects.get(code="admin").name == "Administrador"
        assert Pipeline.objects.get().stages.first().name == "Nuevo"


@pytest.mark.parametrize("slug", ["ab", "-acme", "acme-", "ac_me", "Acme Co", "a" * 41, "xn--acme", "acmé"])
def test_malformed_slug_is_a_field_error(db, slug):
    assert errors_of(slug=slug) == {"slug": ["invalid"]}


@pytest.mark.parametrize("slug", ["www", "api", "admin", "public", "static", "billing", "mail"])
def test_reserved_slug_is_a_field_error(db, slug):
    assert errors_of(slug=slug) == {"slug": ["reserved"]}


@pytest.mark.parametrize("slug", ["acme", "ACME", " Acme "])
def test_taken_slug_is_a_field_error_whatever_the_case(db, slug):
    assert errors_of(slug=slug) == {"slug": ["taken"]}


def test_weak_password_unknown_plan_and_blank_names_are_field_errors(db):
    errors = errors_of(admin_password="12345", plan="platinum", company_name=" ", admin_name="", admin_email="x@")

    assert set(errors) == {"admin_password", "plan", "company_name", "admin_name", "admin_email"}
    assert "password_too_short" in errors["admin_password"]
    assert errors["plan"] == ["unknown_plan"]


def test_rejected_signup_leaves_nothing_behind(db):
    errors_of(plan="platinum")

    assert not Tenant.objects.filter(slug="initech").exists()
    assert not schema_exists("t_initech")


def test_api_signup_answers_201_with_the_tenant(public_client):
    response = public_client.post("/api/v1/signup/", {**VALID}, content_type="application/json")

    assert response.status_code == 201
    assert response.json() == {
        "tenant": {
            "slug": "initech",
            "url": "http://initech.localhost:8000/login/",
            "plan": "team",
            "status": "trialing",
        }
    }


def test_api_signup_field_errors_have_the_documented_shape(public_client):
    response = public_client.post(
        "/api/v1/signup/", {**VALID, "slug": "www", "plan": "nope"}, content_type="application/json"
    )

    body = response.json()
    assert response.status_code == 400
    assert body["code"] == "validation_error"
    assert set(body["errors"]) == {"slug", "plan"}
    assert body["errors"]["slug"] == ["This address is reserved. Please choose another."]


def test_api_signup_with_missing_fields_is_400_not_500(public_client):
    response = public_client.post("/api/v1/signup/", {"slug": 5}, content_type="application/json")

    assert response.status_code == 400
    assert {"company_name", "admin_email", "plan"} <= set(response.json()["errors"])


def test_api_signup_with_broken_json_is_400(public_client):
    response = public_client.post("/api/v1/signup/", "{not json", content_type="application/json")

    assert response.status_code == 400
    assert response.json()["code"] == "parse_error"


def test_signup_page_creates_workspace_and_sends_to_its_login(public_client):
    page = public_client.get("/signup/?plan=business")
    assert page.status_code == 200
    assert 'value="business" selected' in page.content.decode()

    response = public_client.post("/signup/", VALID)

    assert response.status_code == 302
    assert response["Location"] == "http://initech.localhost:8000/login/?welcome=1"


def test_signup_page_shows_field_errors_and_keeps_the_input(public_client):
    response = public_client.post("/signup/", {**VALID, "slug": "acme"})

    html = response.content.decode()
    assert response.status_code == 200
    assert "This address is already taken." in html
    assert 'value="Initech"' in html


def test_welcome_email_is_sent_after_signup(db, mailoutbox, django_capture_on_commit_callbacks):
    from tenants.tasks import send_welcome_email

    with django_capture_on_commit_callbacks() as callbacks:
        tenant = signup()
    assert len(callbacks) == 1

    send_welcome_email.run(tenant_id=tenant.pk)

    assert mailoutbox[-1].to == ["peter@initech.example"]
    assert "http://initech.localhost:8000/login/" in mailoutbox[-1].body


def test_plans_api_lists_seeded_plans_with_seats_limits_and_price(public_client):
    response = public_client.get("/api/v1/plans/")

    plans = {plan["code"]: plan for plan in response.json()}
    assert response.status_code == 200
    assert list(plans) == ["free", "team", "business"]
    assert plans["team"]["named_seats"] == 10
    assert plans["team"]["concurrent_seats"] == 5
    assert plans["team"]["limits"]["api_requests_per_minute"] == 300
    assert plans["team"]["price"] == {"per_seat_monthly": "25.00", "currency": "USD"}


def test_landing_and_pricing_pages_render_from_the_plan_table(public_client):
    assert public_client.get("/").status_code == 200
    pricing = public_client.get("/pricing/").content.decode()
    assert "Business" in pricing
    assert "/signup/?plan=team" in pricing


def test_connection_is_back_on_public_after_signup(db):
    signup()

    assert connection.schema_name == "public"

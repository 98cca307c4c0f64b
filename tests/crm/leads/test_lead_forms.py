"""Lead form administration and the copy-paste snippet."""

from __future__ import annotations

import re

import pytest
from django.core.exceptions import ValidationError

from crm.errors import AccessDenied, RecordNotFound
from crm.leads.models import LeadAssignment
from crm.leads.origins import origin_normalize
from crm.leads.selectors import lead_form_get, lead_form_get_public, lead_form_list
from crm.leads.services import lead_create, lead_form_create, lead_form_deactivate, lead_form_snippet, lead_form_update
from tests.conftest import inside
from tests.crm.leads.conftest import make_rep


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("https://www.example.com", "https://www.example.com"),
        ("HTTPS://WWW.Example.COM/", "https://www.example.com"),
        ("https://example.com:443", "https://example.com"),
        ("http://localhost:8080", "http://localhost:8080"),
        ("http://[::1]:3000", "http://[::1]:3000"),
    ],
)
def test_origins_are_normalised(given, stored):
    assert origin_normalize(given) == stored


@pytest.mark.parametrize(
    "given",
    [
        "www.example.com",
        "ftp://example.com",
        "https://example.com/contact",
        "https://example.com?x=1",
        "https://example.com#top",
        "https://user@example.com",
        "https://",
        "https://example.com:99999",
        "null",
    ],
)
def test_anything_but_an_origin_is_refused(given):
    with pytest.raises(ValidationError) as caught:
        origin_normalize(given)

    assert caught.value.code == "invalid_origin"


def test_admin_creates_a_form_with_normalised_unique_origins(alice, rita):
    form = lead_form_create(
        actor=alice,
        name="Landing",
        allowed_origins=["https://Example.com/", "https://example.com", "", "https://shop.example.com:443"],
        owner=rita,
    )

    assert form.allowed_origins == ["https://example.com", "https://shop.example.com"]
    assert form.owner == rita
    assert form.created_by == alice
    assert form.is_active
    assert re.fullmatch(r"[A-Za-z0-9_-]{16,32}", form.key)


def test_form_without_owner_sends_leads_to_the_admin_who_made_it(alice):
    form = lead_form_create(actor=alice, name="Landing")

    assert form.owner == alice


def test_bad_form_settings_are_field_errors(alice, rita):
    gone = make_rep("gone@acme.example", "Gone", active=False)

    with pytest.raises(ValidationError) as caught:
        lead_form_create(
            actor=alice,
            name="",
            allowed_origins=["https://example.com/path"],
            assignment=LeadAssignment.ROUND_ROBIN,
            round_robin_users=[gone],
            redirect_url="javascript:alert(1)",
        )

    codes = {field: [item.code for item in items] for field, items in caught.value.error_dict.items()}
    assert codes == {
        "name": ["required"],
        "allowed_origins": ["invalid_origin"],
        "round_robin_users": ["inactive_user"],
        "redirect_url": ["invalid_url"],
    }


def test_round_robin_needs_people(alice):
    with pytest.raises(ValidationError) as caught:
        lead_form_create(actor=alice, name="RR", assignment=LeadAssignment.ROUND_ROBIN)

    assert caught.value.error_dict["round_robin_users"][0].code == "required"


def test_only_admins_configure_forms(rita, lead_form):
    with pytest.raises(AccessDenied):
        lead_form_create(actor=rita, name="Mine")
    with pytest.raises(AccessDenied):
        lead_form_update(actor=rita, form=lead_form, name="Renamed")
    with pytest.raises(AccessDenied):
        lead_form_deactivate(actor=rita, form=lead_form)


def test_update_keeps_the_key_and_changes_the_given_settings(alice, rita, sam, lead_form):
    key = lead_form.key

    form = lead_form_update(
        actor=alice,
        form=lead_form,
        allowed_origins=["https://new.example"],
        assignment=LeadAssignment.ROUND_ROBIN,
        round_robin_users=[rita, sam],
    )

    form.refresh_from_db()
    assert form.key == key
    assert form.name == "Landing page"
    assert form.allowed_origins == ["https://new.example"]
    assert set(form.round_robin_users.all()) == {rita, sam}


def test_deactivated_form_is_no_longer_public_and_can_come_back(alice, lead_form):
    lead_form_deactivate(actor=alice, form=lead_form)
    with pytest.raises(RecordNotFound):
        lead_form_get_public(key=lead_form.key)

    lead_form_update(actor=alice, form=lead_form, is_active=True)

    assert lead_form_get_public(key=lead_form.key) == lead_form


def test_form_list_is_for_admins_and_counts_leads(alice, rita, lead_form, django_assert_max_num_queries):
    lead_create(actor=None, name="A", form=lead_form)
    lead_create(actor=None, name="B", form=lead_form)
    lead_form_create(actor=alice, name="Second", assignment=LeadAssignment.ROUND_ROBIN, round_robin_users=[rita])

    with django_assert_max_num_queries(2):
        forms = list(lead_form_list(actor=alice))
        summary = [
            (form.name, form.lead_count, [user.email for user in form.round_robin_users.all()]) for form in forms
        ]

    assert summary == [("Landing page", 2, []), ("Second", 0, ["rita@acme.example"])]
    assert list(lead_form_list(actor=rita)) == []
    with pytest.raises(RecordNotFound):
        lead_form_get(actor=rita, form_id=lead_form.pk)


def test_another_workspaces_form_is_not_found(tenant_b, lead_form):
    with inside(tenant_b), pytest.raises(RecordNotFound):
        lead_form_get_public(key=lead_form.key)


# --- the snippet ------------------------------------------------------------------------------


@pytest.fixture
def snippet(lead_form):
    return lead_form_snippet(lead_form, "https://acme.crm.example")


def test_snippet_posts_to_the_workspace_form_address(snippet, lead_form):
    assert f'action="https://acme.crm.example/forms/{lead_form.key}/"' in snippet
    assert 'method="post"' in snippet


@pytest.mark.parametrize("field", ["name", "phone", "email", "company", "message"])
def test_snippet_has_the_visible_fields(snippet, field):
    assert re.search(rf'<(input|textarea)[^>]*name="{field}"', snippet)


@pytest.mark.parametrize(
    "field", ["utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content", "source_url", "referrer"]
)
def test_snippet_has_the_hidden_source_fields(snippet, field):
    assert f'<input type="hidden" name="{field}">' in snippet


def test_snippet_hides_the_honeypot_from_people(snippet):
    trap = re.search(r'<div aria-hidden="true" style="([^"]*)">.*?name="website" tabindex="-1"', snippet, re.S)

    assert trap is not None
    assert "left:-10000px" in trap.group(1)


def test_snippet_script_fills_source_fields_and_sends_for_json(snippet):
    script = snippet[snippet.index("<script>") :]

    assert "window.location.search" in script
    assert "document.referrer" in script
    assert '"Accept": "application/json"' in script
    assert "form.submit()" in script  # falls back to an ordinary post


def test_snippet_escapes_the_form_name(alice):
    form = lead_form_create(actor=alice, name="<script>alert(1)</script> -->")

    snippet = lead_form_snippet(form, "https://acme.crm.example/")

    assert "<script>alert(1)" not in snippet
    assert f"https://acme.crm.example/forms/{form.key}/" in snippet

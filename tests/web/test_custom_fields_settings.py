# ruff: noqa: RUF001 - Russian labels are the point of these tests
"""Settings → Custom fields: tabs per record type, add and edit with translations and
choices, reorder (HTMX and without JavaScript), remove and restore; administrators only."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import formats, timezone

from crm.clients.services import contact_create
from crm.custom_fields.models import CustomField
from crm.custom_fields.selectors import custom_fields_for
from crm.custom_fields.services import custom_field_create, custom_field_remove
from tests.conftest import inside

PAGE = "/settings/custom-fields/"
HTMX = {"HTTP_HX_REQUEST": "true"}


def _new(client, entity: str = "contact", **data):
    form = {
        "entity": entity,
        "label": "",
        "kind": "text",
        "choices-TOTAL_FORMS": "0",
        "choices-INITIAL_FORMS": "0",
        **data,
    }
    return client.post(f"{PAGE}new/?entity={entity}", form)


def _choices(*rows: dict) -> dict:
    data = {"choices-TOTAL_FORMS": str(len(rows)), "choices-INITIAL_FORMS": "0"}
    for index, row in enumerate(rows):
        for name, value in row.items():
            data[f"choices-{index}-{name}"] = value
    return data


@pytest.fixture
def tier(alice):
    return custom_field_create(
        actor=alice, entity="contact", label="Tier", kind="choice", choices=["Gold", "Silver"], filterable=True
    )


def test_an_administrator_sees_the_tabs_and_an_empty_state(web_alice):
    body = web_alice.get(PAGE).content.decode()

    assert '<a href="/settings/custom-fields/"' in body  # the settings navigation entry
    for label in ("Contacts", "Companies", "Leads", "Deals"):
        assert f">{label}</a>" in body
    assert "No custom fields here yet." in body
    assert 'href="/settings/custom-fields/new/?entity=contact"' in body


def test_others_get_the_forbidden_page(web_rex, tier):
    for path in (PAGE, f"{PAGE}new/", f"{PAGE}{tier.pk}/", f"{PAGE}{tier.pk}/remove/"):
        response = web_rex.get(path)
        assert response.status_code == 403, path
        assert "Ask a workspace administrator" in response.content.decode()
    assert web_rex.post(f"{PAGE}{tier.pk}/restore/").status_code == 403


def test_adding_a_choice_field_with_translations(web_alice):
    response = _new(
        web_alice,
        label="Уровень",
        kind="choice",
        label_en="Tier",
        help_text="Pricing tier",
        filterable="on",
        **_choices({"label": "Золото", "label_en": "Gold"}, {"label": "Серебро"}, {"label": ""}),
    )

    assert response.status_code == 302, response.content.decode()[:3000]
    field = CustomField.objects.get(entity="contact")
    assert (field.key, field.label, field.label_translations, field.filterable) == (
        "uroven",
        "Уровень",
        {"en": "Tier"},
        True,
    )
    assert field.choices == [
        {"value": "zoloto", "label": "Золото", "labels": {"en": "Gold"}},
        {"value": "serebro", "label": "Серебро", "labels": {}},
    ]
    listed = web_alice.get(PAGE).content.decode()
    assert "Tier" in listed and "Filterable" in listed and "Pricing tier" in listed


def test_a_money_field_takes_its_currency(web_alice):
    assert _new(web_alice, entity="deal", label="Budget", kind="money", currency="EUR").status_code == 302

    assert CustomField.objects.get(entity="deal").currency == "EUR"


def test_problems_are_shown_on_the_form_and_nothing_is_added(web_alice, tier):
    taken = _new(web_alice, label="Other", key="tier")
    searchable_number = _new(web_alice, label="Score", kind="number", searchable="on")
    no_choices = _new(web_alice, label="Size", kind="choice")

    assert taken.status_code == 400 and "Another field already uses the key" in taken.content.decode()
    assert "Quick search finds text" in searchable_number.content.decode()
    assert "Add at least one choice." in no_choices.content.decode()
    assert CustomField.objects.count() == 1


def test_more_choice_rows_keeps_what_was_typed(web_alice):
    response = _new(web_alice, label="Size", kind="choice", more_choices="1", **_choices({"label": "Small"}))

    body = response.content.decode()
    assert response.status_code == 200
    assert 'value="Small"' in body and 'name="choices-3-label"' in body  # Small, then three empty rows
    assert not CustomField.objects.exists()


def test_editing_renames_a_choice_and_keeps_the_records_values(web_alice, alice, tier):
    contact = contact_create(actor=alice, last_name="Gold", custom_fields={"tier": "gold"})
    data = {
        "label": "Level",
        "label_ru": "Уровень",
        **_choices({"value": "gold", "label": "Golden"}, {"value": "silver", "label": "Silver"}),
    }

    response = web_alice.post(f"{PAGE}{tier.pk}/", data)

    assert response.status_code == 302
    field = CustomField.objects.get(pk=tier.pk)
    assert field.label == "Level" and field.label_translations == {"ru": "Уровень"}
    assert field.choice_label("gold") == "Golden"
    contact.refresh_from_db()
    assert contact.custom_fields == {"tier": "gold"}


def test_dropping_a_choice_in_use_is_refused_on_the_form(web_alice, alice, tier):
    contact_create(actor=alice, last_name="Silver", custom_fields={"tier": "silver"})

    response = web_alice.post(f"{PAGE}{tier.pk}/", {"label": "Tier", **_choices({"value": "gold", "label": "Gold"})})

    assert response.status_code == 400
    assert "still in use" in response.content.decode()
    assert len(CustomField.objects.get(pk=tier.pk).choices) == 2


def test_the_edit_form_cannot_change_kind_or_key(web_alice, tier):
    body = web_alice.get(f"{PAGE}{tier.pk}/").content.decode()

    assert 'name="kind"' not in body and 'name="key"' not in body
    assert "The kind and the key cannot change" in body
    assert 'value="Gold"' in body and 'name="choices-2-label"' in body


def test_reordering_without_javascript_and_with_htmx(web_alice, alice, tier):
    signed = custom_field_create(actor=alice, entity="contact", label="Signed on", kind="date")

    plain = web_alice.post(f"{PAGE}move/", {"entity": "contact", "field": signed.pk, "direction": "up"})
    assert plain.status_code == 302 and plain["Location"] == f"{PAGE}?entity=contact"
    assert [field.key for field in custom_fields_for("contact")] == ["signed_on", "tier"]

    fragment = web_alice.post(f"{PAGE}move/", {"entity": "contact", "field": signed.pk, "direction": "down"}, **HTMX)
    body = fragment.content.decode()
    assert body.startswith('<section id="custom-field-list"') and "Order saved." in body
    assert f'id="cf-down-{signed.pk}" aria-disabled="true"' in body  # now last: the arrow stays, focusable
    assert [field.key for field in custom_fields_for("contact")] == ["tier", "signed_on"]


def test_moving_past_the_end_changes_nothing(web_alice, tier):
    web_alice.post(f"{PAGE}move/", {"entity": "contact", "field": tier.pk, "direction": "up"})

    assert [field.key for field in custom_fields_for("contact")] == ["tier"]


def test_removing_asks_first_then_lists_the_field_as_restorable_until_a_date(web_alice, alice, tier):
    confirm = web_alice.get(f"{PAGE}{tier.pk}/remove/").content.decode()
    assert "Remove the field “Tier”?" in confirm and "30 days" in confirm

    web_alice.post(f"{PAGE}{tier.pk}/remove/")

    body = web_alice.get(PAGE).content.decode()
    assert "Removed (restorable for 30 days)" in body
    until = formats.date_format(timezone.localtime() + timedelta(days=30), "DATE_FORMAT")
    assert f"restorable until {until}" in body
    assert custom_fields_for("contact") == []


def test_restoring_brings_the_field_back(web_alice, alice, tier):
    custom_field_remove(actor=alice, field=tier)

    response = web_alice.post(f"{PAGE}{tier.pk}/restore/")

    assert response.status_code == 302
    assert [field.key for field in custom_fields_for("contact")] == ["tier"]


def test_another_workspaces_field_is_not_found(tenant_a, alice, tier, web_bob):
    for response in (
        web_bob.get(f"{PAGE}{tier.pk}/"),
        web_bob.post(f"{PAGE}{tier.pk}/", {"label": "Mine"}),
        web_bob.post(f"{PAGE}{tier.pk}/remove/"),
        web_bob.post(f"{PAGE}{tier.pk}/restore/"),
    ):
        assert response.status_code == 404
    with inside(tenant_a):
        assert CustomField.objects.get(pk=tier.pk).label == "Tier"


def test_the_page_stays_within_a_query_bound(web_alice, alice, django_assert_max_num_queries):
    for number in range(10):
        custom_field_create(actor=alice, entity="contact", label=f"Field {number}", kind="text")
    removed = custom_field_create(actor=alice, entity="contact", label="Gone", kind="text")
    custom_field_remove(actor=alice, field=removed)

    with django_assert_max_num_queries(12):
        assert web_alice.get(PAGE).status_code == 200

# ruff: noqa: RUF001 - Russian, Spanish and Arabic words are the point of these tests
"""Custom field values: every kind cleaned from API types and from text, and shown to
people (crm.custom_fields.values)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from crm.custom_fields.models import CustomField
from crm.custom_fields.values import value_clean, value_display, value_typed, values_clean
from crm.validation import FieldErrors

TIERS = [
    {"value": "gold", "label": "Gold", "labels": {"ru": "Золото", "es": "Oro", "ar": "ذهبي"}},
    {"value": "silver", "label": "Silver", "labels": {"ru": "Серебро"}},
    {"value": "small_medium", "label": "Small, medium", "labels": {}},
]


def field(kind: str, key: str = "f", **values) -> CustomField:
    return CustomField(entity="contact", key=key, label=values.pop("label", key.title()), kind=kind, **values)


def refused(kind: str, raw, **values) -> str:
    with pytest.raises(ValidationError) as error:
        value_clean(field(kind, **values), raw, region="RU")
    return error.value.code


# --- every kind ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "stored"),
    [("  Acme   Corp ", "Acme Corp"), (42, "42"), ("Line\nbreak", "Line break"), ("nul\x00byte", "nulbyte")],
)
def test_text_is_one_line_of_trimmed_text(raw, stored):
    assert value_clean(field("text"), raw) == stored


def test_long_text_keeps_its_lines():
    assert value_clean(field("long_text"), "  First line\nSecond line  ") == "First line\nSecond line"


def test_text_too_long_or_not_text_is_refused():
    assert refused("text", "x" * 256) == "max_length"
    assert refused("long_text", "x" * 10_001) == "max_length"
    assert refused("text", True) == "invalid"
    assert refused("text", {"a": 1}) == "invalid"


@pytest.mark.parametrize(
    ("raw", "stored"),
    [(12, 12), (12.5, 12.5), ("1 234,50", 1234.5), ("1,234.5", 1234.5), (Decimal("3.0"), 3), ("-7", -7)],
)
def test_numbers_are_stored_as_json_numbers(raw, stored):
    value = value_clean(field("number"), raw)
    assert value == stored and type(value) is type(stored)


def test_money_is_rounded_to_cents():
    assert value_clean(field("money", currency="EUR"), "10.005") == 10.01
    assert value_clean(field("money", currency="EUR"), "2,5") == 2.5
    assert value_clean(field("money", currency="EUR"), 99.999) == 100


@pytest.mark.parametrize(
    ("raw", "code"),
    [("twelve", "invalid"), (True, "invalid"), ("1e20", "max_value"), (10**15, "max_value"), ("NaN", "invalid")],
)
def test_numbers_out_of_reach_are_refused(raw, code):
    assert refused("number", raw) == code
    assert refused("money", raw) == code


def test_a_number_with_too_many_digits_is_refused():
    assert refused("number", "0.1234567890123456") == "max_digits"


@pytest.mark.parametrize(
    ("raw", "stored"),
    [
        ("2024-12-31", "2024-12-31"),
        ("31.12.2024", "2024-12-31"),
        (date(2024, 2, 29), "2024-02-29"),
        (datetime(2024, 2, 29, 23, 0, tzinfo=UTC), "2024-02-29"),
    ],
)
def test_dates_are_stored_in_iso(raw, stored):
    assert value_clean(field("date"), raw) == stored


def test_an_ambiguous_date_uses_the_given_order():
    assert value_clean(field("date"), "01.02.2024", date_order="dmy") == "2024-02-01"
    assert refused("date", "01.02.2024") == "invalid"
    assert refused("date", 20240101) == "invalid"


@pytest.mark.parametrize(("raw", "stored"), [(True, True), (0, False), ("да", True), ("No", False), ("sí", True)])
def test_yes_no_from_booleans_and_words(raw, stored):
    assert value_clean(field("boolean"), raw) is stored


def test_yes_no_refuses_other_answers():
    assert refused("boolean", "maybe") == "invalid"
    assert refused("boolean", 2) == "invalid"


@pytest.mark.parametrize("raw", ["gold", "GOLD", "Gold", " золото ", "Oro", "ذهبي"])
def test_a_choice_is_found_by_key_or_label_in_any_language(raw):
    assert value_clean(field("choice", choices=TIERS), raw) == "gold"


def test_a_choice_that_is_not_listed_is_refused_naming_the_choices():
    with pytest.raises(ValidationError) as error:
        value_clean(field("choice", choices=TIERS), "Platinum")
    assert error.value.code == "invalid_choice"
    assert "Gold, Silver" in error.value.messages[0]


@pytest.mark.parametrize(
    ("raw", "stored"),
    [
        ("Silver; gold", ["gold", "silver"]),  # in the field's order, from "a; b"
        ("gold|silver", ["gold", "silver"]),
        ("золото, серебро", ["gold", "silver"]),
        ("Small, medium", ["small_medium"]),  # one label with a comma in it
        ("Small, medium; Gold", ["gold", "small_medium"]),
        (["silver", "Gold", "gold"], ["gold", "silver"]),  # duplicates once
    ],
)
def test_a_multiple_choice_from_lists_and_text(raw, stored):
    assert value_clean(field("multi_choice", choices=TIERS), raw) == stored


def test_a_multiple_choice_refuses_unknown_values():
    assert refused("multi_choice", "gold; platinum", choices=TIERS) == "invalid_choice"
    assert refused("multi_choice", 5, choices=TIERS) == "invalid_choice"


def test_an_empty_multiple_choice_is_no_value():
    assert value_clean(field("multi_choice", choices=TIERS), []) is None
    assert value_clean(field("multi_choice", choices=TIERS), " ; ") is None


@pytest.mark.parametrize(
    ("raw", "stored"),
    [("acme.example", "https://acme.example"), ("http://acme.example/a?b=1", "http://acme.example/a?b=1")],
)
def test_links_are_web_addresses(raw, stored):
    assert value_clean(field("link"), raw) == stored


@pytest.mark.parametrize("raw", ["javascript:alert(1)", "ftp://acme.example", "not a link"])
def test_links_that_are_not_web_addresses_are_refused(raw):
    assert refused("link", raw) == "invalid_url"


def test_emails_are_lowercased_and_checked():
    assert value_clean(field("email"), " Anna@Acme.Example ") == "anna@acme.example"
    assert refused("email", "anna@") == "invalid_email"


def test_phones_are_stored_in_e164_read_in_the_workspaces_region():
    assert value_clean(field("phone"), "8 (912) 345-67-89", region="RU") == "+79123456789"
    assert refused("phone", "12") == "invalid_phone"


@pytest.mark.parametrize("raw", [None, "", "   ", []])
def test_empty_is_no_value_for_every_kind(raw):
    for kind in ("text", "number", "date", "boolean", "choice", "link", "email", "phone"):
        assert value_clean(field(kind, choices=TIERS), raw) is None


# --- a record's values ---------------------------------------------------------------------


FIELDS = [
    field("text", key="code", required=True, label="Code"),
    field("number", key="score"),
    field("choice", key="tier", choices=TIERS),
]


def clean(given, *, current=None, creating=False, fields=FIELDS):
    errors = FieldErrors()
    result = values_clean(fields=fields, given=given, current=current, creating=creating, errors=errors)
    return result, {name: [error.code for error in problems] for name, problems in errors.errors.items()}


def test_given_values_are_applied_on_top_of_the_current_ones():
    result, errors = clean({"score": "7", "tier": "Gold"}, current={"code": "A", "score": 1})

    assert errors == {}
    assert result == {"code": "A", "score": 7, "tier": "gold"}


def test_an_empty_value_clears_its_key():
    result, errors = clean({"score": "", "tier": None}, current={"code": "A", "score": 1, "tier": "gold"})

    assert errors == {} and result == {"code": "A"}


def test_on_create_every_required_field_needs_a_value():
    _result, errors = clean({}, creating=True)

    assert errors == {"custom_fields.code": ["required"]}


def test_on_update_a_required_field_may_stay_empty_but_not_be_cleared():
    _result, untouched = clean({"score": 3}, current={})
    _result, cleared = clean({"code": " "}, current={"code": "A"})

    assert untouched == {}
    assert cleared == {"custom_fields.code": ["required"]}


def test_a_refused_required_value_is_reported_once():
    _result, errors = clean({"code": "x" * 300}, creating=True)

    assert errors == {"custom_fields.code": ["max_length"]}


def test_unknown_keys_are_refused_naming_the_known_ones():
    errors = FieldErrors()
    values_clean(fields=FIELDS, given={"nope": 1}, creating=False, errors=errors)

    (problem,) = errors.errors["custom_fields.nope"]
    assert problem.code == "unknown_field"
    assert "code, score, tier" in problem.messages[0]


def test_a_removed_fields_value_stays_but_cannot_be_set():
    from django.utils import timezone

    removed = field("text", key="old", removed_at=timezone.now())

    kept, _errors = clean({"score": 1}, current={"old": "keep me"}, fields=[*FIELDS, removed])
    _result, refused_errors = clean({"old": "new"}, current={"old": "keep me"}, fields=[*FIELDS, removed])

    assert kept == {"old": "keep me", "score": 1}
    assert refused_errors == {"custom_fields.old": ["unknown_field"]}


def test_values_that_are_not_an_object_are_one_error():
    _result, errors = clean(["code", "A"])

    assert errors == {"custom_fields": ["invalid"]}


def test_every_problem_is_reported_at_once():
    _result, errors = clean({"score": "many", "tier": "Platinum"}, creating=True)

    assert errors == {
        "custom_fields.score": ["invalid"],
        "custom_fields.tier": ["invalid_choice"],
        "custom_fields.code": ["required"],
    }


# --- shown to people -----------------------------------------------------------------------


def test_values_are_shown_in_the_readers_language():
    with translation.override("ru"):
        assert value_display(field("choice", choices=TIERS), "gold") == "Золото"
        assert value_display(field("multi_choice", choices=TIERS), ["gold", "silver"]) == "Золото, Серебро"
        assert value_display(field("boolean"), True) == "Да"
        assert value_display(field("number"), 1234.5) == "1\xa0234,5"
        assert value_display(field("money", currency="RUB"), 1234.5) == "1\xa0234,50 RUB"
        assert value_display(field("date"), "2024-12-31") == "31.12.2024"
    with translation.override("en"):
        assert value_display(field("choice", choices=TIERS), "gold") == "Gold"
        assert value_display(field("date"), "2024-12-31") == "12/31/2024"
        assert value_display(field("money", currency="USD"), 1234.5) == "1,234.50 USD"


def test_phones_are_shown_nationally_in_the_workspaces_country():
    assert value_display(field("phone"), "+79123456789", region="RU") == "8 (912) 345-67-89"
    assert value_display(field("phone"), "+14155550100", region="RU") == "+1 415-555-0100"


def test_no_value_shows_nothing():
    for value in (None, "", []):
        assert value_display(field("text"), value) == ""


def test_typed_values_for_code():
    assert value_typed(field("number"), 12.5) == Decimal("12.5")
    assert value_typed(field("money"), 100) == Decimal(100)
    assert value_typed(field("date"), "2024-12-31") == date(2024, 12, 31)
    assert value_typed(field("date"), "broken") is None
    assert value_typed(field("choice", choices=TIERS), "gold") == "gold"

# ruff: noqa: RUF001 - Russian, Spanish and Arabic words are the point of these tests
"""Reading numbers, dates and yes/no from what people type or files hold (crm.text_values)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from crm.text_values import boolean_from_text, date_from_text, decimal_from_text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1 234,50", "1234.50"),  # Moscow
        ("1\u00a0234,50", "1234.50"),  # a no-break space, as spreadsheets export
        ("1\u202f234,5", "1234.5"),  # a narrow no-break space (French, Russian typography)
        ("1,234.50", "1234.50"),  # New York
        ("1.234,50", "1234.50"),  # Madrid
        ("1'234.50", "1234.50"),  # Zurich
        ("1,234,567", "1234567"),
        ("1.234.567", "1234567"),
        ("1,234", "1234"),  # a lone comma grouping thousands
        ("12,5", "12.5"),  # a decimal comma
        ("0,125", "0.125"),  # a leading zero never groups thousands
        ("1.5", "1.5"),
        ("-3", "-3"),
        ("(1 234,50)", "-1234.50"),  # accounting negatives
        ("€12", "12"),
        ("12 €", "12"),
        ("USD 1,200.00", "1200.00"),
        ("100 usd", "100"),
        ("1 200 руб.", "1200"),
        ("99 р.", "99"),
        ("₽ 5 000", "5000"),
    ],
)
def test_numbers_are_read_in_every_writers_habits(text, expected):
    assert decimal_from_text(text) == Decimal(expected)


@pytest.mark.parametrize("text", ["", "   ", "abc", "1,2,3", "NaN", "Infinity", "12-3", "€"])
def test_what_is_no_number_is_refused(text):
    with pytest.raises(ValueError):
        decimal_from_text(text)


@pytest.mark.parametrize(
    ("text", "order", "expected"),
    [
        ("2024-12-31", "auto", date(2024, 12, 31)),
        ("2024-12-31T23:30:00+03:00", "auto", date(2024, 12, 31)),  # a timestamp's own date
        ("2024-12-31 10:00", "auto", date(2024, 12, 31)),
        ("20241231", "auto", date(2024, 12, 31)),
        ("31.12.2024", "auto", date(2024, 12, 31)),  # the day can't be a month
        ("12/31/2024", "auto", date(2024, 12, 31)),  # the month comes first then
        ("05.05.2024", "auto", date(2024, 5, 5)),  # the same either way
        ("01.02.2024", "dmy", date(2024, 2, 1)),
        ("01.02.2024", "mdy", date(2024, 1, 2)),
        ("2024/02/01", "mdy", date(2024, 2, 1)),  # a four-digit first part is the year
        ("1.2.24", "dmy", date(2024, 2, 1)),
        ("1.2.99", "dmy", date(1999, 2, 1)),
        ("45291", "auto", date(2023, 12, 31)),  # an Excel day number
    ],
)
def test_dates_are_read_in_iso_local_orders_and_excel_numbers(text, order, expected):
    assert date_from_text(text, order=order) == expected


@pytest.mark.parametrize(
    ("text", "order"),
    [
        ("01.02.2024", "auto"),  # 1 February or 2 January: the file must say
        ("31.02.2024", "dmy"),
        ("2024-13-01", "auto"),
        ("2024-12-31garbage", "auto"),
        ("1.2.2024.5", "dmy"),
        ("1.2.024", "dmy"),  # a three-digit year
        ("tomorrow", "auto"),
        ("", "auto"),
    ],
)
def test_ambiguous_or_impossible_dates_are_refused(text, order):
    with pytest.raises(ValueError):
        date_from_text(text, order=order)


def test_an_unknown_date_order_is_a_programming_error():
    with pytest.raises(ValueError, match="order"):
        date_from_text("2024-01-01", order="dym")


@pytest.mark.parametrize("text", ["yes", "Y", "true", "1", "x", "✓", "да", "Да", "sí", "SI", "verdadero", "نعم"])
def test_yes_in_our_four_languages(text):
    assert boolean_from_text(text) is True


@pytest.mark.parametrize("text", ["no", "N", "false", "0", "нет", "Нет", "falso", "لا", "-", "off"])
def test_no_in_our_four_languages(text):
    assert boolean_from_text(text) is False


@pytest.mark.parametrize("text", ["maybe", "", "2", "oui"])
def test_anything_else_is_neither(text):
    with pytest.raises(ValueError):
        boolean_from_text(text)

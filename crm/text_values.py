"""Numbers, dates and yes/no read from what people type or what a file holds.

Forms and the API hand over typed values, but an imported spreadsheet, a CSV from
another CRM or a custom field typed by hand gives text in the writer's own habits:
`1 234,50` in Moscow, `1,234.50` in New York, `31.12.2024`, `12/31/2024`, `да`. Each
reader here returns the value or raises ValueError with nothing guessed silently: an
ambiguous date needs the file's date order.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation

# Spaces people put between thousands (plain, no-break, narrow no-break, thin) and
# apostrophes (Swiss style); currency signs around an amount.
_GROUPING = re.compile(r"[\s\u00a0\u202f\u2009'\u2019]")
# Currency signs and codes around an amount (`€12`, `12 USD`), and the Russian rouble's
# abbreviations after one.
_CURRENCY_SIGNS = re.compile(r"[$€£¥₽₹₺₴₸﷼]|[A-Z]{3}$|^[A-Z]{3}", re.IGNORECASE)
_ROUBLES = re.compile("(\u0440\u0443\u0431\\.?|\u0440\\.)$", re.IGNORECASE)  # the short forms of "rouble"
# Thousands grouped with commas or dots: the first group never starts with 0 (`0,125` is
# a decimal comma, not 125).
_THOUSANDS_COMMAS = re.compile(r"^[+-]?[1-9]\d{0,2}(,\d{3})+$")
_THOUSANDS_DOTS = re.compile(r"^[+-]?[1-9]\d{0,2}(\.\d{3}){2,}$")
# Accounting style negatives: `(1 234,50)`.
_PARENTHESISED = re.compile(r"^\((.*)\)$")

TRUE_WORDS = frozenset(
    {"1", "true", "yes", "y", "x", "✓", "✔", "on", "да", "д", "истина", "sí", "si", "s", "verdadero", "نعم", "صح"}
)
FALSE_WORDS = frozenset({"0", "false", "no", "n", "off", "нет", "н", "ложь", "falso", "لا", "خطأ", "-", "✗", "✘"})

DATE_ORDERS = ("auto", "dmy", "mdy", "ymd")
_DATE_PARTS = re.compile(r"^(\d{1,4})[./\-\s](\d{1,2})[./\-\s](\d{1,4})$")
# Excel counts days from 1899-12-30 (its 1900 leap-year bug folded in).
_EXCEL_EPOCH = date(1899, 12, 30)


def decimal_from_text(text: str) -> Decimal:
    """`1 234,50`, `1,234.50`, `1.234.567`, `€12`, `-3` → Decimal; ValueError otherwise.

    With both separators the last one is the decimal point; a lone comma is a decimal
    comma unless it groups thousands (`1,234,567`).
    """
    cleaned = _GROUPING.sub("", (text or "").strip())
    cleaned = _CURRENCY_SIGNS.sub("", _ROUBLES.sub("", cleaned)).strip()
    negative = _PARENTHESISED.match(cleaned)
    if negative:
        cleaned = f"-{negative.group(1)}"
    if not cleaned:
        raise ValueError("empty")
    if "," in cleaned and "." in cleaned:
        if cleaned.rfind(",") > cleaned.rfind("."):
            cleaned = cleaned.replace(".", "").replace(",", ".")
        else:
            cleaned = cleaned.replace(",", "")
    elif "," in cleaned:
        cleaned = cleaned.replace(",", "") if _THOUSANDS_COMMAS.match(cleaned) else cleaned.replace(",", ".")
    elif _THOUSANDS_DOTS.match(cleaned):
        cleaned = cleaned.replace(".", "")
    try:
        value = Decimal(cleaned)
    except InvalidOperation as error:
        raise ValueError(text) from error
    if not value.is_finite():
        raise ValueError(text)
    return value


def date_from_text(text: str, *, order: str = "auto") -> date:
    """A calendar date from ISO text, `31.12.2024`-style text in `order` (`dmy`, `mdy`,
    `ymd`; a four-digit first part is always the year; `auto` otherwise takes the day
    first only when the first part can't be a month), an ISO timestamp or an Excel day
    number. Years have two digits (1970-2069) or four.

    ValueError when the text is no date, or when `auto` can't tell day from month.
    """
    if order not in DATE_ORDERS:
        raise ValueError(f"unknown date order {order!r}")
    value = (text or "").strip()
    if not value:
        raise ValueError("empty")
    if value.isdigit() and 20_000 <= int(value) <= 80_000:
        return _EXCEL_EPOCH + timedelta(days=int(value))
    # An ISO date, alone or starting a timestamp (`2024-12-31T10:00:00+03:00`: its date).
    if len(value) >= 10 and value[4] == "-" and (len(value) == 10 or value[10] in "T "):
        try:
            return date.fromisoformat(value[:10])
        except ValueError:
            pass
    try:
        return date.fromisoformat(value)
    except ValueError:
        pass
    try:
        return datetime.fromisoformat(value).date()
    except ValueError:
        pass
    match = _DATE_PARTS.match(value)
    if match is None:
        raise ValueError(text)
    first, second, third = match.groups()
    if len(first) == 4:
        order = "ymd"
    elif len(first) == 3:
        raise ValueError(text)
    if order == "auto":
        if int(first) > 12 >= int(second):
            order = "dmy"
        elif int(second) > 12 >= int(first):
            order = "mdy"
        elif first == second:
            order = "dmy"
        else:
            raise ValueError(f"ambiguous: {text}")
    if order == "ymd":
        year, month, day = first, second, third
    elif order == "dmy":
        day, month, year = first, second, third
    else:
        month, day, year = first, second, third
    if len(year) not in (2, 4) or len(day) > 2:
        raise ValueError(text)
    year_number = int(year)
    if len(year) == 2:
        year_number += 2000 if year_number < 70 else 1900
    return date(year_number, int(month), int(day))


def boolean_from_text(text: str) -> bool:
    """Yes/no in the four languages we speak (and 1/0, x, ✓); ValueError otherwise."""
    word = (text or "").strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ValueError(text)

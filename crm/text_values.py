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
_CURRENCY_SIGNS = re.compile(r"[$€£¥₽₹₺₴₸﷼]|[A-Z]{3}$|^[A-Z]{3}")
_THOUSANDS_COMMAS = re.compile(r"^[+-]?\d{1,3}(,\d{3})+$")
_THOUSANDS_DOTS = re.compile(r"^[+-]?\d{1,3}(\.\d{3}){2,}$")

TRUE_WORDS = frozenset({"1", "true", "yes", "y", "x", "✓", "✔", "on", "да", "д", "sí", "si", "s", "نعم", "صح"})
FALSE_WORDS = frozenset({"0", "false", "no", "n", "off", "нет", "н", "لا", "خطأ", "-"})

DATE_ORDERS = ("auto", "dmy", "mdy", "ymd")
_DATE_PARTS = re.compile(r"^(\d{1,4})[./\-\s](\d{1,2})[./\-\s](\d{1,4})$")
# Excel counts days from 1899-12-30 (its 1900 leap-year bug folded in).
_EXCEL_EPOCH = date(1899, 12, 30)


def decimal_from_text(text: str) -> Decimal:
    """`1 234,50`, `1,234.50`, `1.234.567`, `€12`, `-3` → Decimal; ValueError otherwise.

    With both separators the last one is the decimal point; a lone comma is a decimal
    comma unless it groups thousands (`1,234,567`).
    """
    cleaned = _CURRENCY_SIGNS.sub("", _GROUPING.sub("", (text or "").strip())).strip()
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
    `ymd`; `auto` takes a four-digit first part as the year, otherwise day first only
    when the first part can't be a month), an ISO timestamp or an Excel day number.

    ValueError when the text is no date, or when `auto` can't tell day from month.
    """
    value = (text or "").strip()
    if not value:
        raise ValueError("empty")
    if value.isdigit() and 20_000 <= int(value) <= 80_000:
        return _EXCEL_EPOCH + timedelta(days=int(value))
    try:
        return date.fromisoformat(value[:10]) if len(value) >= 10 and value[4] == "-" else date.fromisoformat(value)
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
    if order == "auto":
        if len(first) == 4:
            order = "ymd"
        elif int(first) > 12 >= int(second):
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

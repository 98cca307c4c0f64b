"""Input cleaning shared by the CRM services: emails, phones, currencies, field errors."""

from __future__ import annotations

from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext as _

from crm.phones import phone_normalize

# ISO 4217 codes accepted for amounts and prices.
CURRENCIES = frozenset(
    {
        "AED",
        "ARS",
        "AUD",
        "BRL",
        "BYN",
        "CAD",
        "CHF",
        "CLP",
        "CNY",
        "COP",
        "CZK",
        "DKK",
        "EGP",
        "EUR",
        "GBP",
        "HKD",
        "HUF",
        "IDR",
        "ILS",
        "INR",
        "JPY",
        "KRW",
        "KZT",
        "MAD",
        "MXN",
        "NOK",
        "NZD",
        "PEN",
        "PHP",
        "PLN",
        "QAR",
        "RON",
        "RUB",
        "SAR",
        "SEK",
        "SGD",
        "THB",
        "TRY",
        "UAH",
        "USD",
        "UZS",
        "VND",
        "ZAR",
    }
)


class FieldErrors:
    """Collects field errors and raises them together, so a form shows every problem at once."""

    def __init__(self) -> None:
        self.errors: dict[str, list[ValidationError]] = {}

    def add(self, field: str, message: str, code: str = "invalid") -> None:
        self.errors.setdefault(field, []).append(ValidationError(message, code=code))

    def capture(self, field: str, error: ValidationError) -> None:
        self.errors.setdefault(field, []).extend(error.error_list)

    def raise_if_any(self) -> None:
        if self.errors:
            raise ValidationError(self.errors)


def clean_emails(values: Iterable[str], *, field: str, errors: FieldErrors) -> list[str]:
    cleaned: list[str] = []
    for value in values:
        email = (value or "").strip().lower()
        if not email:
            continue
        try:
            validate_email(email)
        except ValidationError:
            errors.add(field, _("“%(email)s” is not a valid email address.") % {"email": email}, "invalid_email")
            continue
        if email not in cleaned:
            cleaned.append(email)
    return cleaned


def clean_phones(values: Iterable[str], *, region: str, field: str, errors: FieldErrors) -> list[str]:
    cleaned: list[str] = []
    for value in values:
        if not (value or "").strip():
            continue
        try:
            phone = phone_normalize(value, region=region)
        except ValidationError as error:
            errors.capture(field, error)
            continue
        if phone not in cleaned:
            cleaned.append(phone)
    return cleaned


def clean_currency(value: str, *, field: str, errors: FieldErrors) -> str:
    currency = (value or "").strip().upper()
    if currency not in CURRENCIES:
        errors.add(field, _("Use a three-letter currency code such as USD, EUR or RUB."), "invalid_currency")
    return currency

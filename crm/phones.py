"""Phone numbers: stored as E.164, understood in any local format of the workspace's region."""

from __future__ import annotations

import phonenumbers
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _


def phone_normalize(raw: str, *, region: str) -> str:
    """`+7 (912) 345-67-89` or `89123456789` (region RU) → `+79123456789`.

    Raises ValidationError (code `invalid_phone`) for what cannot be a phone number.
    """
    text = (raw or "").strip()
    try:
        number = phonenumbers.parse(text, region.upper() or None)
    except phonenumbers.NumberParseException as error:
        raise ValidationError(
            _("“%(phone)s” is not a phone number we understand.") % {"phone": text}, code="invalid_phone"
        ) from error
    if not phonenumbers.is_possible_number(number):
        raise ValidationError(
            _("“%(phone)s” is not a phone number we understand.") % {"phone": text}, code="invalid_phone"
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def phone_normalize_or_none(raw: str, *, region: str) -> str | None:
    """Best effort, for search input: the E.164 form, or None when it isn't a phone number."""
    try:
        return phone_normalize(raw, region=region)
    except ValidationError:
        return None


def phone_display(e164: str, *, region: str) -> str:
    """National format for numbers of the workspace's country, international otherwise."""
    if not e164:
        return ""
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    same_country = phonenumbers.region_code_for_number(number) == region.upper()
    style = phonenumbers.PhoneNumberFormat.NATIONAL if same_country else phonenumbers.PhoneNumberFormat.INTERNATIONAL
    return phonenumbers.format_number(number, style)

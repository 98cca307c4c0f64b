"""Custom field values: cleaned into their stored form, and shown to people.

Stored forms (JSON, inside the record's `custom_fields`), chosen so that PostgreSQL
compares them the way people expect: text, long text, link, email and phone as strings
(phones in E.164); number and money as JSON numbers; dates as ISO strings (which sort
like dates); yes/no as booleans; a choice as its value's key, a multiple choice as a
list of keys in the order the field lists them. An empty value is no key at all, so
"has a value" is `custom_fields ? key`.

Every cleaner accepts what the API sends (numbers, booleans, lists) and what a form or
a file gives (text), and names the problem on `custom_fields.<key>`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator, validate_email
from django.utils import formats
from django.utils.translation import gettext as _

from crm.custom_fields.models import CustomField, FieldKind
from crm.phones import phone_display, phone_normalize
from crm.text_values import boolean_from_text, date_from_text, decimal_from_text
from crm.validation import FieldErrors

TEXT_MAX = 255
LONG_TEXT_MAX = 10_000
LINK_MAX = 2000
EMAIL_MAX = 254
# JSON numbers travel through float on their way in and out of Python; 15 significant
# digits always come back exactly, and so does any number below 10^15 in magnitude.
NUMBER_DIGITS = 15
NUMBER_LIMIT = Decimal(10) ** 15
CENT = Decimal("0.01")
# How a file or a form lists several choices, strongest first: "Gold; Silver" is split
# on ";" only, so a label with a comma in it ("Small, medium") survives.
_MULTI_SEPARATORS = (";", "|", "\n", ",")

_url_validator = URLValidator(schemes=["http", "https"])


class _Refused(Exception):
    def __init__(self, message: str, code: str = "invalid") -> None:
        super().__init__(message)
        self.message = message
        self.code = code


def is_empty(raw: Any) -> bool:
    return raw is None or (isinstance(raw, str) and not raw.strip()) or (isinstance(raw, list | tuple) and not raw)


def _text(raw: Any, limit: int, *, multiline: bool = False) -> str:
    if not isinstance(raw, str | int | float | Decimal) or isinstance(raw, bool):
        raise _Refused(_("Enter text."))
    # PostgreSQL's JSON cannot hold a NUL character; nobody means one.
    text = str(raw).replace("\x00", "")
    text = text.strip() if multiline else " ".join(text.split())
    if len(text) > limit:
        raise _Refused(_("Use at most %(limit)d characters.") % {"limit": limit}, "max_length")
    return text


def _decimal(raw: Any) -> Decimal:
    if isinstance(raw, bool):
        raise _Refused(_("Enter a number."))
    if isinstance(raw, int | Decimal):
        value = Decimal(raw)
    elif isinstance(raw, float):
        value = Decimal(repr(raw))
    elif isinstance(raw, str):
        try:
            value = decimal_from_text(raw)
        except ValueError as error:
            raise _Refused(_("“%(value)s” is not a number.") % {"value": raw[:50]}) from error
    else:
        raise _Refused(_("Enter a number."))
    if not value.is_finite():
        raise _Refused(_("Enter a number."))
    if abs(value) >= NUMBER_LIMIT:
        raise _Refused(_("Use a number below a million billion (10^15)."), "max_value")
    return value


def _json_number(value: Decimal) -> int | float:
    if len(value.normalize().as_tuple().digits) > NUMBER_DIGITS:
        raise _Refused(_("Use at most %(digits)d significant digits.") % {"digits": NUMBER_DIGITS}, "max_digits")
    return int(value) if value == value.to_integral_value() else float(value)


def _date(raw: Any, date_order: str) -> str:
    if isinstance(raw, datetime):
        return raw.date().isoformat()
    if isinstance(raw, date):
        return raw.isoformat()
    if not isinstance(raw, str):
        raise _Refused(_("Enter a date."))
    try:
        return date_from_text(raw, order=date_order).isoformat()
    except ValueError as error:
        raise _Refused(_("“%(value)s” is not a date we understand; use YYYY-MM-DD.") % {"value": raw[:50]}) from error


def _boolean(raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, int) and raw in (0, 1):
        return bool(raw)
    if isinstance(raw, str):
        try:
            return boolean_from_text(raw)
        except ValueError as error:
            raise _Refused(_("Answer yes or no.")) from error
    raise _Refused(_("Answer yes or no."))


def _choice_key(field: CustomField, raw: Any) -> str:
    text = str(raw).strip() if isinstance(raw, str | int) and not isinstance(raw, bool) else None
    if text is None:
        raise _Refused(_("Choose one of the listed values."), "invalid_choice")
    folded = text.casefold()
    for choice in field.choices or []:
        names = {choice.get("value", ""), choice.get("label", ""), *(choice.get("labels") or {}).values()}
        if folded in {name.casefold() for name in names if name}:
            return choice["value"]
    listed = ", ".join(choice.get("label") or choice.get("value", "") for choice in field.choices or [])
    raise _Refused(
        _("“%(value)s” is not one of: %(choices)s.") % {"value": text[:50], "choices": listed}, "invalid_choice"
    )


def _choice_keys(field: CustomField, raw: Any) -> list[str]:
    if isinstance(raw, str):
        try:
            return [_choice_key(field, raw)]  # one choice, even one whose label holds a comma
        except _Refused:
            pass
        separator = next((mark for mark in _MULTI_SEPARATORS if mark in raw), None)
        parts = raw.split(separator) if separator else [raw]
        items: Iterable[Any] = [part for part in parts if part.strip()]
    elif isinstance(raw, list | tuple):
        items = raw
    else:
        raise _Refused(_("Choose from the listed values."), "invalid_choice")
    keys = {_choice_key(field, item) for item in items}
    return [choice["value"] for choice in field.choices or [] if choice["value"] in keys]


def _link(raw: Any) -> str:
    link = _text(raw, LINK_MAX)
    if "://" not in link:
        link = f"https://{link}"
    try:
        _url_validator(link)
    except ValidationError as error:
        raise _Refused(_("“%(url)s” is not a web address.") % {"url": str(raw)[:80]}, "invalid_url") from error
    return link


def _email(raw: Any) -> str:
    email = _text(raw, EMAIL_MAX).lower()
    try:
        validate_email(email)
    except ValidationError as error:
        raise _Refused(
            _("“%(email)s” is not a valid email address.") % {"email": email[:80]}, "invalid_email"
        ) from error
    return email


def _phone(raw: Any, region: str) -> str:
    try:
        return phone_normalize(_text(raw, 40), region=region)
    except ValidationError as error:
        raise _Refused(error.messages[0], "invalid_phone") from error


def value_clean(field: CustomField, raw: Any, *, region: str = "", date_order: str = "auto") -> Any:
    """The stored form of `raw` for `field`; None for an empty value.

    Raises ValidationError (with a code) for a value that doesn't fit the field.
    """
    if is_empty(raw):
        return None
    try:
        kind = field.kind
        if kind == FieldKind.TEXT:
            return _text(raw, TEXT_MAX)
        if kind == FieldKind.LONG_TEXT:
            return _text(raw, LONG_TEXT_MAX, multiline=True)
        if kind == FieldKind.NUMBER:
            return _json_number(_decimal(raw))
        if kind == FieldKind.MONEY:
            return _json_number(_decimal(raw).quantize(CENT, ROUND_HALF_UP))
        if kind == FieldKind.DATE:
            return _date(raw, date_order)
        if kind == FieldKind.BOOLEAN:
            return _boolean(raw)
        if kind == FieldKind.CHOICE:
            return _choice_key(field, raw)
        if kind == FieldKind.MULTI_CHOICE:
            return _choice_keys(field, raw) or None
        if kind == FieldKind.LINK:
            return _link(raw)
        if kind == FieldKind.EMAIL:
            return _email(raw)
        if kind == FieldKind.PHONE:
            return _phone(raw, region)
    except _Refused as refused:
        raise ValidationError(refused.message, code=refused.code) from refused
    raise ValueError(f"unknown custom field kind {field.kind}")


def values_clean(
    *,
    fields: Sequence[CustomField],
    given: Mapping[str, Any] | None,
    current: Mapping[str, Any] | None = None,
    creating: bool,
    errors: FieldErrors,
    region: str = "",
    date_order: str = "auto",
) -> dict[str, Any]:
    """The record's new `custom_fields`: `current` with `given` applied (an empty value
    clears its key; keys not given stay, including those of removed fields, whose values
    are kept for their 30 days).

    Problems go to `errors` under `custom_fields.<key>`: a key no live field has
    (`unknown_field`), a value that doesn't fit, a required field left empty
    (`required`: on create every required field needs a value; on update only a
    required field being cleared is refused, so records made before a field became
    required can still be edited).
    """
    by_key = {field.key: field for field in fields if not field.is_removed}
    result = dict(current or {})
    if given is None:
        given = {}
    if not isinstance(given, Mapping):
        errors.add("custom_fields", _("Send the custom fields as an object of key: value."), "invalid")
        return result
    refused: set[str] = set()
    for key, raw in given.items():
        field = by_key.get(key)
        if field is None:
            known = ", ".join(sorted(by_key)) or _("none yet")
            errors.add(
                f"custom_fields.{key}"[:80],
                _("There is no field “%(key)s” here. Fields: %(known)s.") % {"key": str(key)[:40], "known": known},
                "unknown_field",
            )
            continue
        try:
            value = value_clean(field, raw, region=region, date_order=date_order)
        except ValidationError as error:
            errors.capture(field.path, error)
            refused.add(key)
            continue
        if value is None:
            result.pop(key, None)
        else:
            result[key] = value
    for field in by_key.values():
        if not field.required or field.key in result or field.key in refused:
            continue
        if creating or field.key in given:
            errors.add(field.path, _("“%(label)s” is required.") % {"label": field.label_in()}, "required")
    return result


def value_display(field: CustomField, value: Any, *, region: str = "") -> str:
    """`value` as a person reads it, in the active language; "" for no value."""
    if value is None or value == "" or value == []:
        return ""
    kind = field.kind
    if kind == FieldKind.BOOLEAN:
        return _("Yes") if value else _("No")
    if kind == FieldKind.CHOICE:
        return field.choice_label(str(value))
    if kind == FieldKind.MULTI_CHOICE:
        return ", ".join(field.choice_label(str(item)) for item in value) if isinstance(value, list) else str(value)
    if kind == FieldKind.DATE:
        try:
            return formats.date_format(date.fromisoformat(str(value)), "SHORT_DATE_FORMAT")
        except ValueError:
            return str(value)
    if kind == FieldKind.NUMBER and isinstance(value, int | float):
        return formats.number_format(Decimal(repr(value)), use_l10n=True, force_grouping=True)
    if kind == FieldKind.MONEY and isinstance(value, int | float):
        amount = formats.number_format(Decimal(repr(value)), decimal_pos=2, use_l10n=True, force_grouping=True)
        return f"{amount} {field.currency}".strip()
    if kind == FieldKind.PHONE and region:
        return phone_display(str(value), region=region)
    return str(value)


def value_typed(field: CustomField, value: Any) -> Any:
    """`value` as Python code wants it: Decimal for numbers and money, date for dates."""
    if value is None:
        return None
    if field.kind in (FieldKind.NUMBER, FieldKind.MONEY) and isinstance(value, int | float):
        return Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    if field.kind == FieldKind.DATE and isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            return None
    return value

"""Addresses people type ("Anna <anna@example.com>, bob@example.com; …") read and checked."""

from __future__ import annotations

import re
from collections.abc import Iterable
from email.utils import formataddr, getaddresses

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext as _

from crm.mail.models import ADDRESS_MAX

RECIPIENTS_MAX = 50
_SEPARATORS = re.compile(r"[;\n\r]+")


def addresses_read(text: str | Iterable[str]) -> tuple[list[str], list[str]]:
    """(valid addresses lowercased without repeats, what was typed that isn't an address)."""
    parts = [text] if isinstance(text, str) else list(text)
    joined = ",".join(_SEPARATORS.sub(",", part or "") for part in parts)
    valid: list[str] = []
    invalid: list[str] = []
    for display, address in getaddresses([joined]):
        candidate = (address or display or "").strip()
        if not candidate:
            continue
        candidate = candidate.lower()
        try:
            if len(candidate) > ADDRESS_MAX or "@" not in candidate:
                raise ValidationError("invalid")
            validate_email(candidate)
        except ValidationError:
            shown = (display or address or "").strip()
            if shown and shown not in invalid:
                invalid.append(shown)
            continue
        if candidate not in valid:
            valid.append(candidate)
    # getaddresses drops some malformed pieces silently: anything with an @ that did not
    # come out as an address is named too, so nothing typed disappears without a word.
    for piece in joined.split(","):
        piece = piece.strip()
        if "@" in piece and not any(address in piece.lower() for address in valid) and piece not in invalid:
            invalid.append(piece)
    return valid, invalid


def invalid_message(invalid: list[str]) -> str:
    return _("Not a valid email address: %(addresses)s") % {"addresses": ", ".join(invalid)}


def address_line(name: str, address: str) -> str:
    """`"Name" <address>` with the name encoded as needed."""
    return formataddr((name, address)) if name else address


def domain_of(address: str) -> str:
    return address.rpartition("@")[2]

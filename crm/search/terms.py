"""What a search box's text can mean: a name fragment, an email, a phone number.

Shared by the quick search and the list filters so both read the text the same way.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from crm.phones import phone_normalize_or_none
from crm.selectors import workspace_settings

# Trigram (in-word) matching needs three characters; shorter text matches name starts only.
IN_WORD_MIN_LENGTH = 3
# Characters people type in phone numbers; anything else means the text is not a phone.
_PHONE_CHARACTERS = re.compile(r"^\+?[\d\s().\-/]+$")
_PHONE_MIN_DIGITS = 5


@dataclass(frozen=True)
class SearchTerms:
    """`text` lowercased with whitespace collapsed; `email`/`phone` set when it is one."""

    text: str
    email: str | None = None
    phone: str | None = None

    @property
    def in_word(self) -> bool:
        return len(self.text) >= IN_WORD_MIN_LENGTH

    @property
    def is_empty(self) -> bool:
        return not self.text


def looks_like_phone(text: str) -> bool:
    return bool(_PHONE_CHARACTERS.match(text)) and sum(char.isdigit() for char in text) >= _PHONE_MIN_DIGITS


def search_terms(text: str, *, region: str | None = None) -> SearchTerms:
    """Read `text`; local phone formats become E.164 with `region`, by default the
    workspace's phone region (looked up only when the text looks like a phone number).
    """
    cleaned = " ".join((text or "").split()).lower()
    email = None
    if "@" in cleaned and " " not in cleaned:
        try:
            validate_email(cleaned)
            email = cleaned
        except ValidationError:
            email = None
    phone = None
    if looks_like_phone(cleaned):
        region = region or workspace_settings().default_phone_region
        phone = phone_normalize_or_none(cleaned, region=region)
    return SearchTerms(text=cleaned, email=email, phone=phone)

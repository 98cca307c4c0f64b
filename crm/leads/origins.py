"""Web origins (scheme://host[:port]) a lead form accepts posts from.

Browsers send `Origin` without the default port and with a lowercase host, so both the
admin's input and the header are brought to that form before they are compared.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

DEFAULT_PORTS = {"http": 80, "https": 443}
MAX_ORIGIN_LENGTH = 255


def origin_normalize(value: str) -> str:
    """`HTTPS://WWW.Example.com:443/` → `https://www.example.com`.

    Raises ValidationError (code `invalid_origin`) for anything that is not an http(s)
    origin: a path, query, fragment, user info or a missing host.
    """
    text = (value or "").strip()
    invalid = ValidationError(
        _("“%(origin)s” is not a site address like https://www.example.com (no path).") % {"origin": text[:100]},
        code="invalid_origin",
    )
    if not text or len(text) > MAX_ORIGIN_LENGTH:
        raise invalid
    # One trailing slash is what people paste from the address bar; anything more is a path.
    if text.endswith("/") and not text.endswith("//"):
        text = text[:-1]
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as error:
        raise invalid from error
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if (
        scheme not in DEFAULT_PORTS
        or not host
        or parts.path
        or parts.query
        or parts.fragment
        or "@" in parts.netloc
        or text.endswith("?")
        or text.endswith("#")
    ):
        raise invalid
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    if port is None or port == DEFAULT_PORTS[scheme]:
        return f"{scheme}://{host}"
    return f"{scheme}://{host}:{port}"


def origin_normalize_or_empty(value: str) -> str:
    """The normalised origin of a request header, or "" for a missing or malformed one (`null` too)."""
    try:
        return origin_normalize(value)
    except ValidationError:
        return ""

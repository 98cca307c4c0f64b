"""Where a lead came from: channel, UTM tags, search engine, landing page and referrer.

Source data arrives in hidden form fields filled by a script on someone else's page, so
it is cleaned leniently: a malformed or over-long value is cut or dropped, never a
reason to lose the lead.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from urllib.parse import parse_qs, urlsplit

from crm.leads.search_engines import search_engine_from_landing, search_engine_from_referrer

UTM_FIELDS = ("utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content")
URL_FIELDS = ("source_url", "referrer")
SOURCE_FIELDS = (*UTM_FIELDS, "search_engine", *URL_FIELDS)

# Column sizes of crm.deals.models.SourceData.
UTM_MAX_LENGTH = 255
SEARCH_ENGINE_MAX_LENGTH = 40
URL_MAX_LENGTH = 2000

# NUL cannot be stored by PostgreSQL; other control characters only hide text.
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _text(value: object, max_length: int) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return ""
    return _CONTROL.sub("", str(value)).strip()[:max_length].strip()


def _url(value: object) -> str:
    """An http(s) address, or "" (a `javascript:` referrer must never become a link)."""
    text = _text(value, 100_000)
    if not text:
        return ""
    try:
        parts = urlsplit(text)
    except ValueError:
        return ""
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return ""
    return text


def source_data_clean(source: Mapping[str, object] | None) -> dict[str, str]:
    """Clean source data into the SourceData fields (without `channel`).

    UTM tags not given explicitly are read from the landing page's query string; the
    search engine is taken from the referrer's host (or an ad click id / `utm_source`
    naming an engine), and a keyword the engine put in the referrer fills an empty
    `utm_term`. Values longer than their column are cut.
    """
    source = source or {}
    # Parse the full addresses before cutting them, so tags at the end are not lost.
    full_source_url = _url(source.get("source_url"))
    full_referrer = _url(source.get("referrer"))
    cleaned = {name: _text(source.get(name), UTM_MAX_LENGTH) for name in UTM_FIELDS}
    try:
        landing_query = parse_qs(urlsplit(full_source_url).query)
    except ValueError:
        landing_query = {}
    for name in UTM_FIELDS:
        if not cleaned[name] and landing_query.get(name):
            cleaned[name] = _text(landing_query[name][0], UTM_MAX_LENGTH)

    engine = _text(source.get("search_engine"), SEARCH_ENGINE_MAX_LENGTH).lower()
    keyword = ""
    if not engine:
        engine, keyword = search_engine_from_referrer(full_referrer)
    if not engine:
        engine = search_engine_from_landing(full_source_url, cleaned["utm_source"])
    if not cleaned["utm_term"] and keyword:
        cleaned["utm_term"] = _text(keyword, UTM_MAX_LENGTH)
    cleaned["search_engine"] = engine[:SEARCH_ENGINE_MAX_LENGTH]
    cleaned["source_url"] = full_source_url[:URL_MAX_LENGTH]
    cleaned["referrer"] = full_referrer[:URL_MAX_LENGTH]
    return cleaned

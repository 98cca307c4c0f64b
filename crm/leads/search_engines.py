"""Which search engine sent a visitor, and with which words (seed 001: "search engine and keyword").

The referrer's host names the engine. Engines that still pass the query in the
referrer (Yandex, Bing, Baidu, Yahoo, Mail.ru ...) also give the keyword; Google no
longer does, so for it the keyword comes from `utm_term` set in the ad. When there is
no referrer (browsers and privacy settings often drop it) an ad click id in the
landing page address (`gclid`, `yclid`, `msclkid`) or a `utm_source` naming an engine
still tells where the visitor came from.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

# (engine, host pattern, query parameters that carry the searched words)
_ENGINES: list[tuple[str, re.Pattern[str], tuple[str, ...]]] = [
    ("google", re.compile(r"(^|\.)google(\.[a-z]{2,3}){1,2}$"), ("q",)),
    ("yandex", re.compile(r"(^|\.)(yandex(\.[a-z]{2,3}){1,2}|ya\.ru)$"), ("text",)),
    ("bing", re.compile(r"(^|\.)bing\.com$"), ("q",)),
    ("duckduckgo", re.compile(r"(^|\.)duckduckgo\.com$"), ("q",)),
    ("yahoo", re.compile(r"(^|\.)search\.yahoo(\.[a-z]{2,3}){1,2}$"), ("p",)),
    ("baidu", re.compile(r"(^|\.)baidu\.com$"), ("wd", "word")),
    ("mail.ru", re.compile(r"^go\.mail\.ru$"), ("q",)),
    ("rambler", re.compile(r"(^|\.)rambler\.ru$"), ("query",)),
    ("ecosia", re.compile(r"(^|\.)ecosia\.org$"), ("q",)),
    ("naver", re.compile(r"(^|\.)naver\.com$"), ("query",)),
    ("seznam", re.compile(r"(^|\.)seznam\.cz$"), ("q",)),
    ("brave", re.compile(r"^search\.brave\.com$"), ("q",)),
    ("qwant", re.compile(r"(^|\.)qwant\.com$"), ("q",)),
    ("startpage", re.compile(r"(^|\.)startpage\.com$"), ("query", "q")),
]

# Ad click ids the engines append to the landing page address.
_CLICK_IDS = {"gclid": "google", "gbraid": "google", "wbraid": "google", "yclid": "yandex", "msclkid": "bing"}

# `utm_source` values that name an engine (Yandex Direct puts "yandex", Google Ads "google").
_SOURCE_NAMES = {name: name for name, _pattern, _params in _ENGINES} | {
    "ya": "yandex",
    "yandex.direct": "yandex",
    "yandex_direct": "yandex",
    "adwords": "google",
    "google_ads": "google",
    "googleads": "google",
    "mailru": "mail.ru",
    "duckduckgo.com": "duckduckgo",
}


def _host(url: str) -> str:
    try:
        return (urlsplit(url).hostname or "").lower().rstrip(".")
    except ValueError:
        return ""


def search_engine_from_referrer(referrer: str) -> tuple[str, str]:
    """(engine, keyword) for a referrer address; ("", "") when it is not a known engine."""
    host = _host(referrer)
    if not host:
        return "", ""
    for engine, pattern, params in _ENGINES:
        if pattern.search(host):
            query = parse_qs(urlsplit(referrer).query)
            keyword = next((query[name][0].strip() for name in params if query.get(name)), "")
            return engine, keyword
    return "", ""


def search_engine_from_landing(source_url: str, utm_source: str) -> str:
    """The engine an ad click came from, by click id in the landing address or by utm_source."""
    try:
        query = parse_qs(urlsplit(source_url).query)
    except ValueError:
        query = {}
    for parameter, engine in _CLICK_IDS.items():
        if query.get(parameter):
            return engine
    return _SOURCE_NAMES.get(utm_source.strip().lower(), "")

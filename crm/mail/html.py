"""Received HTML made safe to show: a sanitizer first, then a sandbox.

nh3 (the Ammonia sanitizer) keeps formatting and drops scripts, event handlers, forms,
frames, objects and `javascript:` links. The result is then only ever shown inside an
iframe whose page has `Content-Security-Policy: sandbox` and loads no remote image until
the reader asks ("Show images"): tracking pixels and remote content stay unloaded by
default, whatever slipped through.
"""

from __future__ import annotations

import html
import re

import nh3

TAGS = {
    "a", "abbr", "address", "b", "bdi", "bdo", "blockquote", "br", "caption", "center", "cite", "code", "col",
    "colgroup", "dd", "del", "div", "dl", "dt", "em", "font", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img",
    "ins", "kbd", "li", "mark", "ol", "p", "pre", "q", "s", "small", "span", "strike", "strong", "style", "sub",
    "sup", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "u", "ul",
}  # fmt: skip
COMMON = {"style", "dir", "align", "title", "lang", "class", "width", "height", "bgcolor", "valign"}
ATTRIBUTES = {
    "*": COMMON,
    "a": {"href", "name"},
    "img": {"src", "alt", "border"},
    "font": {"color", "face", "size"},
    "table": {"border", "cellpadding", "cellspacing"},
    "td": {"colspan", "rowspan", "nowrap"},
    "th": {"colspan", "rowspan", "nowrap"},
    "col": {"span"},
    "ol": {"start", "type"},
}
SCHEMES = {"http", "https", "mailto", "tel", "cid", "data"}
REMOTE = re.compile(r"""(?:\bsrc\s*=\s*["']?\s*|url\(\s*["']?\s*)(?:https?:)?//""", re.I)


def html_sanitize(source: str) -> tuple[str, bool]:
    """(safe HTML, whether it refers to remote images or styles)."""
    if not source.strip():
        return "", False
    cleaned = nh3.clean(
        source,
        tags=TAGS,
        clean_content_tags={"script", "noscript", "template", "iframe", "object", "embed", "textarea", "select"},
        attributes=ATTRIBUTES,
        url_schemes=SCHEMES,
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    )
    return cleaned, bool(REMOTE.search(cleaned))


def html_to_text(source: str) -> str:
    """Readable text of an HTML body (for messages that have no text part)."""
    if not source.strip():
        return ""
    source = re.sub(r"(?i)<br\s*/?>|</(?:p|div|tr|li|h[1-6])>", "\n", source)
    text = html.unescape(nh3.clean(source, tags=set(), clean_content_tags={"script", "style", "head", "title"}))
    lines = [" ".join(line.split()) for line in text.splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()

"""A proposal as a printable, self-contained HTML page (template `catalog/quote.html`)."""

from __future__ import annotations

from django.template.loader import render_to_string
from django.utils import translation

from crm.catalog.models import Quote
from crm.catalog.quote_document import quote_document


def render_quote_html(quote: Quote, language: str) -> str:
    """The proposal in `language`: seller, customer, lines, totals, validity and notes, with print CSS.

    Right-to-left (`dir="rtl"`) for right-to-left languages such as Arabic. Pass a quote
    from `crm.catalog.selectors.quote_get` (lines prefetched) to avoid extra queries.
    """
    document = quote_document(quote, language)
    with translation.override(language):
        return render_to_string("catalog/quote.html", {"doc": document})

"""The printable proposal: HTML page and PDF, in left-to-right and right-to-left languages."""

from __future__ import annotations

import logging
import re
from collections import Counter
from datetime import timedelta

import pytest
from django.utils import timezone

from crm.catalog.models import Quote
from crm.catalog.quote_html import render_quote_html
from crm.catalog.quote_pdf import render_quote_pdf
from crm.catalog.selectors import quote_get
from crm.catalog.services import quote_create, quote_line_add, quote_update
from crm.clients.services import company_create, contact_create
from tests.crm.catalog.pdf_text import embedded_glyph_names, pdf_text


def plain_text(pdf: bytes) -> str:
    """The PDF's text with no-break spaces as plain ones (fpdf2 draws them as spaces in wrapped cells)."""
    return pdf_text(pdf).replace("\u00a0", " ")


@pytest.fixture
def priced_quote(alice, quote, consulting) -> Quote:
    quote_line_add(actor=alice, quote=quote, product=consulting, quantity=3, discount_percent=10)
    quote_line_add(
        actor=alice, quote=quote, name="Server setup", description="Two days on site", quantity=2, unit_price="1250.5"
    )
    quote_update(
        actor=alice, quote=quote, valid_until=timezone.localdate() + timedelta(days=30), notes="Payment within 14 days."
    )
    return quote_get(actor=alice, quote_id=quote.pk)


@pytest.fixture
def arabic_quote(alice) -> Quote:
    company = company_create(actor=alice, name="شركة الأفق للتجارة", city="دبي")
    contact = contact_create(actor=alice, first_name="محمد", last_name="العلي", company=company)
    quote = quote_create(actor=alice, title="عرض سعر لخدمات التسويق", contact=contact, currency="AED")
    quote_line_add(actor=alice, quote=quote, name="استشارة تسويقية", quantity=3, unit_price="33.33", tax_rate=5)
    quote_line_add(actor=alice, quote=quote, name="Иван Петров: аудит сайта", quantity=1, unit_price="1000")
    return quote_get(actor=alice, quote_id=quote.pk)


def test_html_shows_seller_customer_lines_totals_validity_and_notes(priced_quote):
    html = render_quote_html(priced_quote, "en")

    assert 'dir="ltr"' in html
    assert "Acme Corp" in html
    assert "Initech" in html and "Peter Gibbons" in html
    assert priced_quote.number in html
    assert "Consulting hour" in html and "Server setup" in html and "Two days on site" in html
    assert "89.99\u00a0USD" in html  # line 1 net: 3 x 33.33 less 10 %
    assert "2,501.00\u00a0USD" in html  # line 2: 2 x 1,250.50, thousands grouped
    assert "2,608.99\u00a0USD" in html  # total: 107.99 + 2,501.00 (no tax on the free line)
    assert "Valid until" in html
    assert "Payment within 14 days." in html
    assert "@media print" in html


def test_html_escapes_what_people_typed(alice, quote):
    quote_line_add(actor=alice, quote=quote, name="<script>alert(1)</script>", quantity=1, unit_price=1)

    html = render_quote_html(quote_get(actor=alice, quote_id=quote.pk), "en")

    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;" in html


def test_html_is_right_to_left_in_arabic(arabic_quote):
    html = render_quote_html(arabic_quote, "ar")

    assert 'dir="rtl"' in html
    assert 'lang="ar"' in html
    assert "استشارة تسويقية" in html
    assert "شركة الأفق للتجارة" in html


def test_html_uses_the_languages_number_format(priced_quote):
    html = render_quote_html(priced_quote, "ru")

    assert 'lang="ru"' in html
    assert "2\u00a0608,99\u00a0USD" in html


def test_html_renders_from_a_prefetched_quote_without_more_queries_per_line(
    priced_quote, django_assert_max_num_queries
):
    with django_assert_max_num_queries(1):  # the workspace settings, for the phone region
        render_quote_html(priced_quote, "en")


def test_pdf_is_a_pdf_with_the_number_and_totals(priced_quote):
    pdf = render_quote_pdf(priced_quote, "en")

    text = plain_text(pdf)
    assert pdf.startswith(b"%PDF-")
    assert pdf.rstrip().endswith(b"%%EOF")
    assert priced_quote.number in text
    assert "2,608.99 USD" in text
    assert "107.99 USD" not in text  # lines show the net amount, 89.99
    assert "89.99 USD" in text
    assert "Server setup" in text and "Initech" in text


def test_pdf_embeds_a_subset_of_the_font_and_stays_small(priced_quote):
    pdf = render_quote_pdf(priced_quote, "en")

    assert b"/FontFile2" in pdf
    assert b"DejaVuSans" in pdf
    assert len(pdf) < 60_000


def test_pdf_renders_cyrillic_and_arabic_with_every_glyph(arabic_quote):
    pdf = render_quote_pdf(arabic_quote, "ar")

    text = plain_text(pdf)
    assert pdf.startswith(b"%PDF-")
    assert "Иван Петров: аудит сайта" in text
    assert arabic_quote.number in text
    assert "1104,99 AED" in text  # 99.99 + 5 % tax 5.00 + 1,000.00 untaxed
    # Shaping drops characters the font lacks without a word; right-to-left runs come
    # out in visual order and joined letters as clusters, so compare letters, not strings.
    drawn = Counter(text)
    for arabic in ("شركة الأفق للتجارة", "محمد العلي", "عرض سعر لخدمات التسويق", "استشارة تسويقية"):
        missing = Counter(arabic.replace(" ", "")) - drawn
        assert not missing, f"not drawn: {''.join(missing.elements())}"


def test_pdf_shapes_arabic_into_joined_letter_forms(arabic_quote):
    glyphs = embedded_glyph_names(render_quote_pdf(arabic_quote, "ar"))

    # "شركة" starts with the initial form of sheen (U+FEB7), not the isolated letter (U+0634);
    # "استشارة" has the medial form (U+FEB8). Without shaping only U+0634 would be embedded.
    assert {"uniFEB7", "uniFEB8"} <= glyphs
    assert "uni0634" not in glyphs


def test_characters_the_font_lacks_are_logged(alice, quote, caplog):
    quote_line_add(actor=alice, quote=quote, name="Tea 茶", quantity=1, unit_price=1)

    with caplog.at_level(logging.WARNING, logger="crm.catalog.quote_pdf"):
        render_quote_pdf(quote_get(actor=alice, quote_id=quote.pk), "en")

    assert any("茶" in record.getMessage() for record in caplog.records)


def test_pdf_in_russian_translates_and_formats(priced_quote):
    text = plain_text(render_quote_pdf(priced_quote, "ru"))

    assert "2 608,99 USD" in text


def test_pdf_of_a_quote_without_lines_renders(alice, quote):
    pdf = render_quote_pdf(quote_get(actor=alice, quote_id=quote.pk), "es")

    assert pdf.startswith(b"%PDF-")
    assert quote.number in plain_text(pdf)


def test_long_quote_flows_onto_more_pages(alice, quote, consulting):
    for index in range(60):
        quote_line_add(actor=alice, quote=quote, product=consulting, quantity=index + 1)

    pdf = render_quote_pdf(quote_get(actor=alice, quote_id=quote.pk), "en")

    pages = int(re.search(rb"/Count (\d+)", pdf).group(1))
    assert pages >= 2
    assert f"Page {pages} of {pages}" in plain_text(pdf)

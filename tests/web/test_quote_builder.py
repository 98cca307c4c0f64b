"""The quote builder: products added, quantities and discounts changed through the
catalogue services with live totals, preview, PDF, "mark as sent" on the timeline."""

from __future__ import annotations

from decimal import Decimal

import pytest

from crm.activities.models import Activity, ActivityKind
from crm.catalog.models import Quote, QuoteLine, QuoteStatus
from crm.catalog.services import product_create, quote_create, quote_line_add
from crm.deals.services import deal_create
from tests.conftest import inside


@pytest.fixture
def deal(alice):
    return deal_create(actor=alice, title="Office chairs", owner=alice)


@pytest.fixture
def chair(alice):
    return product_create(
        actor=alice, sku="CH-1", name="Ergo chair", price=Decimal("200.00"), currency="USD", tax_rate=Decimal("20")
    )


def test_send_proposal_creates_a_draft_for_the_deal_and_opens_the_builder(alice, web_alice, deal):
    response = web_alice.post(f"/deals/{deal.pk}/proposal/")
    quote = Quote.objects.get(deal=deal)
    assert response.status_code == 302 and response["Location"] == f"/quotes/{quote.pk}/"
    assert quote.status == QuoteStatus.DRAFT and quote.title == "Office chairs"


def test_builder_renders_within_a_query_bound(alice, web_alice, deal, chair, django_assert_max_num_queries):
    quote = quote_create(actor=alice, title="Chairs", deal=deal)
    for _number in range(10):
        quote_line_add(actor=alice, quote=quote, product=chair, quantity=1)
    with django_assert_max_num_queries(16):
        response = web_alice.get(f"/quotes/{quote.pk}/", {"q": "chair"})
    body = response.content.decode()
    assert response.status_code == 200 and body.count("data-line=") == 10 and "Add Ergo chair" in body


def test_adding_a_product_and_changing_quantity_and_discount_rerenders_totals(alice, web_alice, deal, chair):
    quote = quote_create(actor=alice, title="Chairs", deal=deal)
    results = web_alice.get(f"/quotes/{quote.pk}/products/", {"q": "ergo"}, HTTP_HX_REQUEST="true").content.decode()
    assert "Ergo chair" in results
    added = web_alice.post(f"/quotes/{quote.pk}/lines/", {"product": chair.pk}, HTTP_HX_REQUEST="true").content.decode()
    assert 'id="quote-total"' in added and "240.00 USD" in added
    line = QuoteLine.objects.get(quote=quote)
    changed = web_alice.post(
        f"/quotes/{quote.pk}/lines/{line.pk}/",
        {
            f"line-{line.pk}-quantity": "3",
            f"line-{line.pk}-unit_price": "200",
            f"line-{line.pk}-discount_percent": "10",
        },
        HTTP_HX_REQUEST="true",
    ).content.decode()
    # 3 x 200 = 600, less 10 % = 540, plus 20 % tax = 648
    assert "648.00 USD" in changed and "<html" not in changed
    quote.refresh_from_db()
    assert (quote.subtotal, quote.discount_total, quote.tax_total, quote.total) == (600, 60, 108, 648)


def test_bad_line_input_is_a_field_error_and_nothing_changes(alice, web_alice, deal, chair):
    quote = quote_create(actor=alice, title="Chairs", deal=deal)
    line = quote_line_add(actor=alice, quote=quote, product=chair, quantity=2)
    for quantity, message in (("two", "Enter a number."), ("-1", "greater than 0"), ("1.23456", "decimal places")):
        body = web_alice.post(
            f"/quotes/{quote.pk}/lines/{line.pk}/",
            {
                f"line-{line.pk}-quantity": quantity,
                f"line-{line.pk}-unit_price": "200",
                f"line-{line.pk}-discount_percent": "150",
            },
            HTTP_HX_REQUEST="true",
        ).content.decode()
        assert message in body and 'class="error"' in body
    line.refresh_from_db()
    assert (line.quantity, line.discount_percent) == (2, 0)


def test_a_custom_item_needs_a_name(alice, web_alice, deal):
    quote = quote_create(actor=alice, title="Services", deal=deal)
    body = web_alice.post(
        f"/quotes/{quote.pk}/lines/", {"custom-name": "", "custom-quantity": "1", "custom-unit_price": "50"}
    ).content.decode()
    assert "Name the item." in body and not QuoteLine.objects.filter(quote=quote).exists()
    web_alice.post(
        f"/quotes/{quote.pk}/lines/", {"custom-name": "Setup", "custom-quantity": "1", "custom-unit_price": "50"}
    )
    assert QuoteLine.objects.get(quote=quote).name == "Setup"


def test_removing_a_line(alice, web_alice, deal, chair):
    quote = quote_create(actor=alice, title="Chairs", deal=deal)
    line = quote_line_add(actor=alice, quote=quote, product=chair, quantity=1)
    web_alice.post(f"/quotes/{quote.pk}/lines/{line.pk}/remove/", HTTP_HX_REQUEST="true")
    assert not QuoteLine.objects.filter(quote=quote).exists()
    assert Quote.objects.get(pk=quote.pk).total == 0


def test_preview_and_pdf(alice, web_alice, deal, chair):
    quote = quote_create(actor=alice, title="Chairs", deal=deal)
    quote_line_add(actor=alice, quote=quote, product=chair, quantity=1)
    preview = web_alice.get(f"/quotes/{quote.pk}/preview/").content.decode()
    assert quote.number in preview and "Ergo chair" in preview
    pdf = web_alice.get(f"/quotes/{quote.pk}/pdf/")
    assert pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    assert f'filename="{quote.number}.pdf"' in pdf["Content-Disposition"]


def test_mark_as_sent_logs_on_the_deals_timeline_and_locks_the_quote(alice, web_alice, deal, chair):
    quote = quote_create(actor=alice, title="Chairs", deal=deal)
    empty = web_alice.post(f"/quotes/{quote.pk}/send/", follow=True).content.decode()
    assert "Add at least one line before sending the proposal." in empty
    quote_line_add(actor=alice, quote=quote, product=chair, quantity=1)
    web_alice.post(f"/quotes/{quote.pk}/send/")
    assert Quote.objects.get(pk=quote.pk).status == QuoteStatus.SENT
    assert Activity.objects.filter(deal=deal, kind=ActivityKind.QUOTE_SENT, quote=quote).exists()
    card = web_alice.get(f"/deals/{deal.pk}/").content.decode()
    assert "Proposal sent" in card and f'href="/quotes/{quote.pk}/"' in card
    builder = web_alice.get(f"/quotes/{quote.pk}/").content.decode()
    assert "Copy to a new draft" in builder and "Mark as sent" not in builder


def test_header_with_a_past_date_is_refused(alice, web_alice, deal):
    quote = quote_create(actor=alice, title="Chairs", deal=deal)
    response = web_alice.post(
        f"/quotes/{quote.pk}/header/",
        {"header-title": "New title", "header-valid_until": "2001-01-01", "header-notes": ""},
    )
    assert response.status_code == 400 and "The validity date is in the past." in response.content.decode()
    assert Quote.objects.get(pk=quote.pk).title == "Chairs"


def test_another_workspaces_quote_is_not_found(alice, tenant_a, web_bob):
    with inside(tenant_a):
        quote = quote_create(actor=alice, title="Acme quote")
    for path in ("", "preview/", "pdf/"):
        assert web_bob.get(f"/quotes/{quote.pk}/{path}").status_code == 404
    assert (
        web_bob.post(
            f"/quotes/{quote.pk}/lines/", {"custom-name": "x", "custom-quantity": "1", "custom-unit_price": "1"}
        ).status_code
        == 404
    )
    assert web_bob.post(f"/quotes/{quote.pk}/send/").status_code == 404


def test_a_rep_cannot_open_a_colleagues_quote(alice, web_rex, deal):
    quote = quote_create(actor=alice, title="Alice's quote", deal=deal)
    assert web_rex.get(f"/quotes/{quote.pk}/").status_code == 404

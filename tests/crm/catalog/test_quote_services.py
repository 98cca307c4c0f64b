"""Proposal writes: lines and totals, currency rules, draft-only editing, the status flow, sending."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from crm.activities.models import Activity, ActivityKind
from crm.catalog.models import Quote, QuoteLine, QuoteStatus
from crm.catalog.services import (
    product_create,
    product_deactivate,
    quote_accept,
    quote_create,
    quote_duplicate,
    quote_line_add,
    quote_line_remove,
    quote_line_update,
    quote_lines_reorder,
    quote_mark_sent,
    quote_reject,
    quote_update,
)
from crm.errors import Conflict, DomainError

D = Decimal


def codes(error: ValidationError) -> dict[str, list[str]]:
    return {field: [item.code for item in items] for field, items in error.error_dict.items()}


def totals(quote: Quote) -> tuple[Decimal, Decimal, Decimal, Decimal]:
    quote.refresh_from_db()
    return quote.subtotal, quote.discount_total, quote.tax_total, quote.total


def test_quote_for_a_deal_takes_its_contact_company_and_currency(alice, deal):
    quote = quote_create(actor=alice, title="Proposal", deal=deal)

    assert (quote.contact, quote.company, quote.currency) == (deal.contact, deal.company, "USD")
    assert quote.status == QuoteStatus.DRAFT
    assert quote.owner == alice


def test_quote_needs_a_title_and_a_known_currency(alice):
    with pytest.raises(ValidationError) as error:
        quote_create(actor=alice, title="  ", currency="ABC")

    assert codes(error.value) == {"title": ["required"], "currency": ["invalid_currency"]}


def test_validity_date_in_the_past_is_refused(alice):
    yesterday = timezone.localdate() - timedelta(days=2)

    with pytest.raises(ValidationError) as error:
        quote_create(actor=alice, title="Proposal", valid_until=yesterday)

    assert codes(error.value) == {"valid_until": ["in_past"]}


def test_line_from_a_product_copies_name_unit_price_and_tax(alice, quote, consulting):
    line = quote_line_add(actor=alice, quote=quote, product=consulting, quantity=3, discount_percent=10)

    assert (line.name, line.unit, line.unit_price, line.tax_rate) == ("Consulting hour", "hour", D("33.33"), D("20"))
    assert (line.net_amount, line.tax_amount, line.total_amount) == (D("89.99"), D("18.00"), D("107.99"))
    assert totals(quote) == (D("99.99"), D("10.00"), D("18.00"), D("107.99"))


def test_line_returned_carries_the_new_quote_totals(alice, quote, consulting):
    line = quote_line_add(actor=alice, quote=quote, product=consulting, quantity=1)

    assert line.quote.total == D("40.00")  # 33.33 + 20 % tax 6.666 -> 6.67


def test_multi_line_totals_are_sums_of_rounded_lines(alice, quote, consulting):
    quote_line_add(actor=alice, quote=quote, product=consulting, quantity=3, discount_percent=10)
    quote_line_add(actor=alice, quote=quote, name="Setup", quantity="2.5", unit_price="80", unit="day")
    quote_line_add(
        actor=alice, quote=quote, name="Licence", quantity=1, unit_price="19.99", discount_percent=15, tax_rate="7.5"
    )

    assert totals(quote) == (D("319.98"), D("13.00"), D("19.27"), D("326.25"))


def test_three_half_cent_taxes_round_per_line(alice, quote):
    for _ in range(3):
        quote_line_add(actor=alice, quote=quote, name="Sticker", quantity=1, unit_price="0.05", tax_rate=10)

    assert totals(quote) == (D("0.15"), D("0.00"), D("0.03"), D("0.18"))


def test_product_in_another_currency_is_refused_without_a_price(alice, quote):
    euro = product_create(actor=alice, sku="EU-1", name="Audit", price="500", currency="EUR")

    with pytest.raises(ValidationError) as error:
        quote_line_add(actor=alice, quote=quote, product=euro, quantity=1)

    assert codes(error.value) == {"product": ["currency_mismatch"]}
    assert "EUR" in error.value.error_dict["product"][0].message
    assert not quote.lines.exists()


def test_product_in_another_currency_is_accepted_with_a_price_in_the_quote_currency(alice, quote):
    euro = product_create(actor=alice, sku="EU-1", name="Audit", price="500", currency="EUR", tax_rate=0)

    line = quote_line_add(actor=alice, quote=quote, product=euro, quantity=1, unit_price="540")

    assert (line.name, line.unit_price) == ("Audit", D("540.00"))


def test_product_off_sale_cannot_be_added(alice, quote, consulting):
    product_deactivate(actor=alice, product=consulting)
    consulting.refresh_from_db()

    with pytest.raises(ValidationError) as error:
        quote_line_add(actor=alice, quote=quote, product=consulting, quantity=1)

    assert codes(error.value) == {"product": ["inactive"]}


def test_free_line_needs_a_name_a_price_and_a_positive_quantity(alice, quote):
    with pytest.raises(ValidationError) as error:
        quote_line_add(actor=alice, quote=quote, quantity=0)

    assert codes(error.value) == {"name": ["required"], "quantity": ["min_value"], "unit_price": ["required"]}


def test_discount_over_100_percent_is_refused(alice, quote):
    with pytest.raises(ValidationError) as error:
        quote_line_add(actor=alice, quote=quote, name="X", quantity=1, unit_price=1, discount_percent=120)

    assert codes(error.value) == {"discount_percent": ["max_value"]}


def test_line_too_large_to_store_is_a_field_error(alice, quote):
    with pytest.raises(ValidationError) as error:
        quote_line_add(actor=alice, quote=quote, name="X", quantity="999999999", unit_price="999999999")

    assert codes(error.value) == {"quantity": ["amount_too_large"]}


def test_quote_total_too_large_to_store_is_refused_and_the_line_not_added(alice, quote):
    big = {"name": "Big", "quantity": "999999999", "unit_price": "99999.99"}
    quote_line_add(actor=alice, quote=quote, **big)

    with pytest.raises(ValidationError) as error:
        quote_line_add(actor=alice, quote=quote, **big)

    assert codes(error.value) == {"lines": ["total_too_large"]}
    assert quote.lines.count() == 1


def test_updating_a_line_recomputes_the_totals(alice, quote, consulting):
    line = quote_line_add(actor=alice, quote=quote, product=consulting, quantity=3)

    updated = quote_line_update(actor=alice, line=line, discount_percent=10)

    assert updated.total_amount == D("107.99")
    assert updated.quote.total == D("107.99")
    assert totals(quote) == (D("99.99"), D("10.00"), D("18.00"), D("107.99"))


def test_removing_a_line_renumbers_and_recomputes(alice, quote):
    first = quote_line_add(actor=alice, quote=quote, name="A", quantity=1, unit_price=10)
    quote_line_add(actor=alice, quote=quote, name="B", quantity=1, unit_price=20)
    quote_line_add(actor=alice, quote=quote, name="C", quantity=1, unit_price=30)

    quote_line_remove(actor=alice, line=first)

    assert list(quote.lines.values_list("name", "position")) == [("B", 1), ("C", 2)]
    assert totals(quote)[3] == D("50.00")


def test_lines_are_reordered_as_listed(alice, quote):
    a = quote_line_add(actor=alice, quote=quote, name="A", quantity=1, unit_price=10)
    b = quote_line_add(actor=alice, quote=quote, name="B", quantity=1, unit_price=20)
    c = quote_line_add(actor=alice, quote=quote, name="C", quantity=1, unit_price=30)

    quote_lines_reorder(actor=alice, quote=quote, line_ids=[c.pk, a.pk, b.pk])

    assert list(quote.lines.values_list("name", flat=True)) == ["C", "A", "B"]


def test_reorder_must_name_every_line_once(alice, quote):
    a = quote_line_add(actor=alice, quote=quote, name="A", quantity=1, unit_price=10)
    quote_line_add(actor=alice, quote=quote, name="B", quantity=1, unit_price=20)

    with pytest.raises(ValidationError) as error:
        quote_lines_reorder(actor=alice, quote=quote, line_ids=[a.pk, a.pk])

    assert codes(error.value) == {"line_ids": ["invalid"]}


def test_currency_cannot_change_once_lines_exist(alice, quote):
    quote_line_add(actor=alice, quote=quote, name="A", quantity=1, unit_price=10)

    with pytest.raises(ValidationError) as error:
        quote_update(actor=alice, quote=quote, currency="EUR")

    assert codes(error.value) == {"currency": ["currency_locked"]}


def test_header_of_a_draft_can_be_changed(alice, quote):
    valid_until = timezone.localdate() + timedelta(days=30)

    updated = quote_update(
        actor=alice, quote=quote, title="Revised", valid_until=valid_until, notes="Net 30", deal=None
    )

    assert (updated.title, updated.valid_until, updated.notes, updated.deal) == ("Revised", valid_until, "Net 30", None)
    assert updated.contact is not None, "links not named stay as they were"


@pytest.fixture
def sent_quote(alice, quote, consulting) -> Quote:
    quote_line_add(actor=alice, quote=quote, product=consulting, quantity=3, discount_percent=10)
    return quote_mark_sent(actor=alice, quote=quote)


def test_sent_quote_lines_cannot_be_added(alice, sent_quote):
    with pytest.raises(Conflict) as error:
        quote_line_add(actor=alice, quote=sent_quote, name="Extra", quantity=1, unit_price=1)

    assert error.value.code == "quote_not_draft"


def test_sent_quote_lines_cannot_be_changed_removed_or_reordered(alice, sent_quote):
    line = sent_quote.lines.get()
    attempts = [
        lambda: quote_line_update(actor=alice, line=line, quantity=5),
        lambda: quote_line_remove(actor=alice, line=line),
        lambda: quote_lines_reorder(actor=alice, quote=sent_quote, line_ids=[line.pk]),
        lambda: quote_update(actor=alice, quote=sent_quote, title="Changed"),
    ]

    for attempt in attempts:
        with pytest.raises(Conflict) as error:
            attempt()
        assert error.value.code == "quote_not_draft"
    assert totals(sent_quote)[3] == D("107.99")


def test_sending_records_an_activity_on_the_deal_timeline(alice, deal, sent_quote):
    activity = Activity.objects.get(quote=sent_quote)

    assert sent_quote.status == QuoteStatus.SENT
    assert sent_quote.sent_at is not None
    assert activity.kind == ActivityKind.QUOTE_SENT
    assert (activity.deal, activity.contact, activity.company) == (deal, deal.contact, deal.company)
    assert activity.author == alice
    assert sent_quote.number in activity.subject
    assert Activity.objects.filter(deal=deal, kind=ActivityKind.QUOTE_SENT).count() == 1


def test_sending_moves_the_deals_last_activity(deal, sent_quote):
    deal.refresh_from_db()

    assert deal.last_activity_at == sent_quote.sent_at


def test_empty_quote_cannot_be_sent(alice, quote):
    with pytest.raises(DomainError) as error:
        quote_mark_sent(actor=alice, quote=quote)

    assert error.value.code == "quote_empty"
    assert not Activity.objects.filter(quote=quote).exists()


def test_quote_cannot_be_sent_twice(alice, sent_quote):
    with pytest.raises(Conflict) as error:
        quote_mark_sent(actor=alice, quote=sent_quote)

    assert error.value.code == "quote_not_draft"


def test_expired_quote_cannot_be_sent(alice, quote):
    quote_line_add(actor=alice, quote=quote, name="A", quantity=1, unit_price=10)
    Quote.objects.filter(pk=quote.pk).update(valid_until=timezone.localdate() - timedelta(days=3))

    with pytest.raises(ValidationError) as error:
        quote_mark_sent(actor=alice, quote=quote)

    assert codes(error.value) == {"valid_until": ["in_past"]}


def test_sent_quote_can_be_accepted(alice, sent_quote):
    accepted = quote_accept(actor=alice, quote=sent_quote)

    assert accepted.status == QuoteStatus.ACCEPTED
    assert accepted.decided_at is not None


def test_sent_quote_can_be_rejected(alice, sent_quote):
    assert quote_reject(actor=alice, quote=sent_quote).status == QuoteStatus.REJECTED


def test_draft_cannot_be_accepted_or_rejected(alice, quote):
    for decide in (quote_accept, quote_reject):
        with pytest.raises(Conflict) as error:
            decide(actor=alice, quote=quote)
        assert error.value.code == "quote_not_sent"


def test_accepted_quote_cannot_be_rejected(alice, sent_quote):
    quote_accept(actor=alice, quote=sent_quote)

    with pytest.raises(Conflict) as error:
        quote_reject(actor=alice, quote=sent_quote)

    assert error.value.code == "quote_not_sent"


def test_duplicate_is_a_new_draft_with_the_same_lines_and_totals(alice, sent_quote):
    copy = quote_duplicate(actor=alice, quote=sent_quote)

    assert copy.pk != sent_quote.pk
    assert copy.number != sent_quote.number
    assert copy.status == QuoteStatus.DRAFT
    assert copy.sent_at is None
    assert (copy.title, copy.deal_id, copy.currency) == (sent_quote.title, sent_quote.deal_id, sent_quote.currency)
    assert list(copy.lines.values_list("name", "quantity", "discount_percent")) == list(
        sent_quote.lines.values_list("name", "quantity", "discount_percent")
    )
    assert totals(copy) == totals(sent_quote)


def test_duplicate_can_be_edited_while_the_original_stays_sent(alice, sent_quote):
    copy = quote_duplicate(actor=alice, quote=sent_quote)

    quote_line_add(actor=alice, quote=copy, name="Extra", quantity=1, unit_price=10)

    assert copy.lines.count() == 2
    assert sent_quote.lines.count() == 1
    assert QuoteLine.objects.filter(quote=sent_quote).get().total_amount == D("107.99")

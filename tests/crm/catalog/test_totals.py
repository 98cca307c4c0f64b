"""The rounding rule of crm.catalog.totals on hand-computed examples (no database needed)."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, localcontext

from crm.catalog.totals import LineAmounts, line_amounts, quote_amounts

D = Decimal


def test_line_with_discount_and_tax_matches_the_hand_computation():
    # 3 x 33.33 = 99.99; less 10 % = 89.991 -> 89.99; 20 % tax of 89.99 = 17.998 -> 18.00
    amounts = line_amounts(quantity=D("3"), unit_price=D("33.33"), discount_percent=D("10"), tax_rate=D("20"))

    assert amounts == LineAmounts(
        gross=D("99.99"), discount=D("10.00"), net=D("89.99"), tax=D("18.00"), total=D("107.99")
    )


def test_half_a_cent_of_net_rounds_up_not_to_even():
    # 1 x 10.05 at 50 % = 5.025: half up gives 5.03 (banker's rounding would give 5.02)
    amounts = line_amounts(quantity=D("1"), unit_price=D("10.05"), discount_percent=D("50"), tax_rate=D("0"))

    assert amounts.net == D("5.03")
    assert amounts.discount == D("5.02")


def test_half_a_cent_of_tax_rounds_up():
    # 0.25 at 10 % = 0.025 -> 0.03
    amounts = line_amounts(quantity=D("1"), unit_price=D("0.25"), discount_percent=D("0"), tax_rate=D("10"))

    assert amounts.tax == D("0.03")
    assert amounts.total == D("0.28")


def test_just_under_half_a_cent_rounds_down():
    # 0.333 x 1.00 = 0.333 -> 0.33; tax 10 % of 0.33 = 0.033 -> 0.03
    amounts = line_amounts(quantity=D("0.333"), unit_price=D("1.00"), discount_percent=D("0"), tax_rate=D("10"))

    assert (amounts.net, amounts.tax) == (D("0.33"), D("0.03"))


def test_fractional_quantity_gross_rounds_half_up():
    # 0.005 x 1.00 = 0.005 -> 0.01
    amounts = line_amounts(quantity=D("0.005"), unit_price=D("1.00"), discount_percent=D("0"), tax_rate=D("0"))

    assert amounts.gross == amounts.net == D("0.01")


def test_quote_sums_rounded_lines_not_the_rounded_sum():
    # Three lines of 0.005 tax each: per line 0.01, so 0.03 (rounding the sum 0.015 would give 0.02)
    lines = [
        line_amounts(quantity=D("1"), unit_price=D("0.05"), discount_percent=D("0"), tax_rate=D("10")) for _ in range(3)
    ]

    totals = quote_amounts(lines)

    assert totals.tax_total == D("0.03")
    assert totals.total == D("0.18")


def test_multi_line_quote_totals_add_up():
    lines = [
        line_amounts(quantity=D("3"), unit_price=D("33.33"), discount_percent=D("10"), tax_rate=D("20")),
        line_amounts(quantity=D("2.5"), unit_price=D("80.00"), discount_percent=D("0"), tax_rate=D("0")),
        line_amounts(quantity=D("1"), unit_price=D("19.99"), discount_percent=D("15"), tax_rate=D("7.5")),
    ]
    # line 3: 19.99 x 0.85 = 16.9915 -> 16.99, discount 3.00; tax 7.5 % of 16.99 = 1.27425 -> 1.27

    totals = quote_amounts(lines)

    assert totals.subtotal == D("99.99") + D("200.00") + D("19.99")
    assert totals.discount_total == D("10.00") + D("0.00") + D("3.00")
    assert totals.tax_total == D("18.00") + D("0.00") + D("1.27")
    assert totals.total == D("107.99") + D("200.00") + D("18.26")
    assert totals.subtotal - totals.discount_total + totals.tax_total == totals.total


def test_largest_allowed_line_is_computed_exactly():
    amounts = line_amounts(
        quantity=D("999999999.999"), unit_price=D("99999.99"), discount_percent=D("33.33"), tax_rate=D("0")
    )

    with localcontext(prec=60):
        exact = D("999999999.999") * D("99999.99") * D("66.67") / D("100")
    assert amounts.net == exact.quantize(D("0.01"), rounding=ROUND_HALF_UP)

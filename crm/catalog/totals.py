"""Proposal arithmetic: the one place where line and quote amounts are computed.

Rounding rule (what a customer can check with a pocket calculator):

1. Each line is rounded on its own, to cents, half up (0.005 → 0.01):
   - gross    = round(quantity * unit_price)
   - net      = round(quantity * unit_price * (1 - discount% / 100))
   - discount = gross - net                (so gross - discount is exactly net)
   - tax      = round(net * tax_rate% / 100)
   - total    = net + tax
2. The quote sums the rounded line amounts: subtotal = Σ gross, discount_total =
   Σ discount, tax_total = Σ tax, total = Σ line total. Hence
   subtotal - discount_total + tax_total == total, to the cent, always.

Everything is `Decimal`; no float ever enters.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, localcontext

CENT = Decimal("0.01")
HUNDRED = Decimal("100")
ZERO = Decimal("0.00")
EXACT_DIGITS = 60


def to_cents(amount: Decimal) -> Decimal:
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class LineAmounts:
    gross: Decimal
    discount: Decimal
    net: Decimal
    tax: Decimal
    total: Decimal


@dataclass(frozen=True)
class QuoteAmounts:
    subtotal: Decimal
    discount_total: Decimal
    tax_total: Decimal
    total: Decimal


def line_amounts(
    *, quantity: Decimal, unit_price: Decimal, discount_percent: Decimal, tax_rate: Decimal
) -> LineAmounts:
    """One line's amounts, each rounded to cents half up (see the module docstring)."""
    # Products of the largest allowed fields have ~31 significant digits, more than the
    # default context's 28: compute exactly so rounding happens only where the rule says.
    with localcontext(prec=EXACT_DIGITS):
        exact_gross = quantity * unit_price
        gross = to_cents(exact_gross)
        net = to_cents(exact_gross * (HUNDRED - discount_percent) / HUNDRED)
        tax = to_cents(net * tax_rate / HUNDRED)
    return LineAmounts(gross=gross, discount=gross - net, net=net, tax=tax, total=net + tax)


def quote_amounts(lines: Iterable[LineAmounts]) -> QuoteAmounts:
    """The quote's totals: sums of the already rounded line amounts."""
    subtotal = discount_total = tax_total = total = ZERO
    for line in lines:
        subtotal += line.gross
        discount_total += line.discount
        tax_total += line.tax
        total += line.total
    return QuoteAmounts(subtotal=subtotal, discount_total=discount_total, tax_total=tax_total, total=total)

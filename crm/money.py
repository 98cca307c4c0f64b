"""Amounts in the workspace's base currency, for reports across currencies."""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.models import ExchangeRate
from crm.selectors import workspace_settings

CENT = Decimal("0.01")


def to_base_currency(amount: Decimal, currency: str, *, on: date | None = None) -> Decimal:
    """`amount` of `currency` in the base currency at the latest rate valid on `on`.

    Raises ValidationError (code `missing_exchange_rate`) when no rate is known.
    """
    base = workspace_settings().base_currency
    if currency == base:
        return amount.quantize(CENT, ROUND_HALF_UP)
    day = on or timezone.localdate()
    rate = (
        ExchangeRate.objects.filter(currency=currency, valid_from__lte=day)
        .order_by("-valid_from")
        .values_list("rate", flat=True)
        .first()
    )
    if rate is None:
        raise ValidationError(
            _("There is no exchange rate from %(currency)s to %(base)s yet; an administrator can add one in Settings.")
            % {"currency": currency, "base": base},
            code="missing_exchange_rate",
        )
    return (amount * rate).quantize(CENT, ROUND_HALF_UP)

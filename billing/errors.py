"""Errors people can cause on the billing page, with stable codes."""

from __future__ import annotations

from config.errors import CodedError


class BillingError(CodedError):
    code = "billing_error"
    http_status = 400


class BillingNotConfigured(BillingError):
    """No Stripe key: billing is switched off on this installation."""

    code = "billing_not_configured"
    http_status = 503


class SeatsInUse(BillingError):
    """Fewer paid seats than named seats assigned; `to_free` says how many to free first."""

    code = "seats_in_use"

    def __init__(self, message: str, *, to_free: int):
        super().__init__(message)
        self.to_free = to_free


class CardRefused(BillingError):
    code = "card_declined"
    http_status = 402


class NoPaymentMethod(BillingError):
    code = "no_payment_method"


class NoSubscription(BillingError):
    code = "no_subscription"


class PlanNotAvailable(BillingError):
    code = "plan_not_available"

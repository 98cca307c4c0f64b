from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BillingConfig(AppConfig):
    """Stripe mirror, webhook log and dunning (public schema); built by the billing issue."""

    name = "billing"
    verbose_name = _("Billing")

"""Platform admin (public host): subscriptions with MRR and workspaces by status, failed
payments, the webhook log and the status audit trail. Read-only: Stripe is the truth."""

from datetime import timedelta

from django.contrib import admin
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from billing.models import Invoice, StatusChange, StripePlan, Subscription, WebhookEvent
from billing.selectors import platform_figures
from tenants.models import TenantStatus


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Subscription)
class SubscriptionAdmin(ReadOnlyAdmin):
    list_display = ["stripe_id", "tenant", "status", "plan", "quantity", "monthly", "current_period_end",
                    "cancel_at_period_end"]  # fmt: skip
    list_filter = ["status", "plan", "cancel_at_period_end"]
    search_fields = ["stripe_id", "customer__stripe_id", "customer__tenant__slug"]
    list_select_related = ["customer__tenant", "plan"]

    @admin.display(description=_("workspace"), ordering="customer__tenant__slug")
    def tenant(self, obj: Subscription) -> str:
        return obj.customer.tenant.slug

    @admin.display(description=_("per month"))
    def monthly(self, obj: Subscription) -> str:
        return f"{obj.monthly_amount:.2f} {obj.currency.upper()}"

    def changelist_view(self, request, extra_context=None):
        figures = platform_figures(since=timezone.now() - timedelta(days=30))
        statuses = [(value, label, figures.by_status.get(value, 0)) for value, label in TenantStatus.choices]
        extra_context = {**(extra_context or {}), "figures": figures, "statuses": statuses}
        return super().changelist_view(request, extra_context=extra_context)


class PaymentFailedFilter(admin.SimpleListFilter):
    title = _("payment failed")
    parameter_name = "failed"

    def lookups(self, request, model_admin):
        return [("open", _("failed and still open")), ("any", _("failed at least once"))]

    def queryset(self, request, queryset):
        if self.value() == "open":
            return queryset.filter(payment_failed_at__isnull=False, status="open")
        if self.value() == "any":
            return queryset.filter(payment_failed_at__isnull=False)
        return queryset


@admin.register(Invoice)
class InvoiceAdmin(ReadOnlyAdmin):
    list_display = ["stripe_id", "customer", "status", "total", "currency", "attempt_count", "payment_failed_at",
                    "stripe_created"]  # fmt: skip
    list_filter = [PaymentFailedFilter, "status"]
    search_fields = ["stripe_id", "number", "customer__tenant__slug"]
    list_select_related = ["customer"]


@admin.register(WebhookEvent)
class WebhookEventAdmin(ReadOnlyAdmin):
    list_display = ["stripe_id", "type", "status", "tenant", "attempts", "stripe_created", "processed_at"]
    list_filter = ["status", "type"]
    search_fields = ["stripe_id", "tenant__slug"]
    list_select_related = ["tenant"]


@admin.register(StatusChange)
class StatusChangeAdmin(ReadOnlyAdmin):
    list_display = ["tenant", "from_status", "to_status", "reason", "at"]
    list_filter = ["to_status"]
    search_fields = ["tenant__slug"]
    list_select_related = ["tenant"]


@admin.register(StripePlan)
class StripePlanAdmin(ReadOnlyAdmin):
    list_display = ["plan", "stripe_plan_id", "unit_amount", "currency", "is_current"]

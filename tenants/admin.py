from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from tenants.models import Domain, Plan, Tenant


@admin.register(Plan)
class PlanAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "named_seats", "concurrent_seats", "price_per_seat", "currency", "is_public"]
    list_editable = ["is_public"]
    ordering = ["sort_order"]


class DomainInline(admin.TabularInline):
    model = Domain
    extra = 0


@admin.register(Tenant)
class TenantAdmin(admin.ModelAdmin):
    list_display = ["slug", "name", "plan", "status", "paid_seats", "trial_ends_at", "dunning_started_at", "created_at"]
    list_filter = ["status", "plan"]
    search_fields = ["slug", "name", "owner_email"]
    # Plan, paid seats and status follow Stripe (billing); staff change them there, not here.
    readonly_fields = [
        "schema_name",
        "paid_seats",
        "dunning_started_at",
        "status_changed_at",
        "created_at",
        "updated_at",
    ]
    inlines = [DomainInline]
    fieldsets = [
        (None, {"fields": ["name", "slug", "schema_name", "owner_email", "language"]}),
        (
            _("Plan and status"),
            {
                "fields": [
                    "plan",
                    "status",
                    "trial_ends_at",
                    "paid_seats",
                    "extra_named_seats",
                    "extra_concurrent_seats",
                    "dunning_started_at",
                    "status_changed_at",
                ]
            },
        ),
        (_("History"), {"fields": ["created_at", "updated_at"]}),
    ]

    def has_delete_permission(self, request, obj=None) -> bool:
        # Deleting drops a whole schema: done with `manage.py tenant_delete`, never by a click.
        return False

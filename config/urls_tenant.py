"""URLs of a tenant host (<slug>.BASE_DOMAIN)."""

from django.urls import include, path

from crm.dashboard.views import dashboard_view

urlpatterns = [
    path("", dashboard_view, name="home"),
    path("", include("accounts.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("forms/", include("crm.leads.urls")),
    path("billing/", include("billing.urls")),
    path("api/v1/", include("api.urls")),
    path("backups/", include("tenants.backups.urls")),
    path("search/", include("crm.search.urls")),
    path("notifications/", include("crm.notifications.urls")),
    path("views/", include("crm.saved_views.urls")),
    path("leads/", include("crm.leads.urls_ui")),
    path("contacts/", include("crm.clients.urls_contacts")),
    path("companies/", include("crm.clients.urls_companies")),
    path("deals/", include("crm.deals.urls")),
    path("quotes/", include("crm.catalog.urls_builder")),
    path("settings/", include("crm.settings_pages.urls")),
    path("reports/", include("crm.reports.urls")),
    path("trash/", include("crm.trash_urls")),
    path("tasks/", include("crm.activities.urls_tasks")),
    path("products/", include("crm.catalog.urls_products")),
    path("quotes/", include("crm.catalog.urls_quote_list")),
    path("attachments/", include("crm.attachments.urls")),
    path("dashboard/", include("crm.dashboard.urls")),
    path("calendar/", include("crm.calendar.urls")),
    path("mail/", include("crm.mail.urls")),
    path("imports/", include("crm.imports.urls")),
]

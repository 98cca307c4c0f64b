"""URLs of the public host (BASE_DOMAIN): the site, signup, platform admin, public API."""

from django.contrib import admin
from django.urls import include, path
from django.utils.translation import gettext_lazy as _

from api.public import PlanListView, SignupView
from billing.views import webhook as stripe_webhook
from tenants import views

admin.site.site_header = _("CRM platform administration")
admin.site.site_title = _("CRM platform")

urlpatterns = [
    path("", views.landing, name="landing"),
    path("pricing/", views.pricing, name="pricing"),
    path("signup/", views.signup, name="signup"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("api/v1/plans/", PlanListView.as_view(), name="api-plans"),
    path("api/v1/signup/", SignupView.as_view(), name="api-signup"),
    path("billing/webhook/", stripe_webhook, name="stripe-webhook"),
]

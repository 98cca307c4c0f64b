"""The tenant URLs plus a /billing/ page, as the billing app will add it."""

from django.http import HttpResponse
from django.urls import path

from config.urls_tenant import urlpatterns as tenant_urlpatterns

urlpatterns = [*tenant_urlpatterns, path("billing/", lambda request: HttpResponse("billing"), name="billing-page")]

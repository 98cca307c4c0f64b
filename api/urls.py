"""`/api/v1/` on tenant hosts. Each area registers its viewsets here."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.routers import SimpleRouter

from api.auth import ApiTokenViewSet, IntegrationTokenViewSet, LogoutView, MeView, TokenObtainView
from api.backups import BackupViewSet
from api.clients import CompanyViewSet, ContactViewSet

router = SimpleRouter()
router.register("tokens", ApiTokenViewSet, basename="api-token")
router.register("integration-tokens", IntegrationTokenViewSet, basename="integration-token")
router.register("companies", CompanyViewSet, basename="company")
router.register("contacts", ContactViewSet, basename="contact")
router.register("backups", BackupViewSet, basename="backup")

app_name = "api"

urlpatterns = [
    path("auth/token/", TokenObtainView.as_view(), name="auth-token"),
    path("auth/logout/", LogoutView.as_view(), name="auth-logout"),
    path("me/", MeView.as_view(), name="me"),
    path("schema/", SpectacularAPIView.as_view(urlconf="config.urls_tenant"), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api:schema"), name="docs"),
    path("", include(router.urls)),
]

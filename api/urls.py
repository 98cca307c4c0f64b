"""`/api/v1/` on tenant hosts. Each area registers its viewsets here."""

from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.routers import SimpleRouter

from api.activities import ActivityViewSet, TaskViewSet, TimelineView
from api.admin import (
    AuditEntryViewSet,
    InvitationViewSet,
    RoleViewSet,
    SeatOverviewView,
    SeatViewSet,
    TeamViewSet,
    UserViewSet,
)
from api.attachments import AttachmentViewSet
from api.auth import ApiTokenViewSet, IntegrationTokenViewSet, LogoutView, MeView, TokenObtainView
from api.backups import BackupViewSet
from api.billing import BillingView
from api.catalog import ProductViewSet, QuoteViewSet
from api.clients import CompanyViewSet, ContactViewSet
from api.custom_fields import CustomFieldViewSet
from api.deals import DealViewSet, PipelineViewSet
from api.history import HISTORY_PATHS, HISTORY_RESOURCES, HISTORY_VIEWS
from api.imports import ImportTemplateViewSet, ImportViewSet
from api.leads import LeadFormViewSet, LeadViewSet
from api.mail import EmailTemplateViewSet, EmailViewSet, MailAccountViewSet
from api.reports import ConversionView, ForecastView, FunnelView, SourcesView
from api.webhooks import WebhookViewSet
from api.workspace import NotificationViewSet, SearchView, TagViewSet, TrashListView, TrashRestoreView

router = SimpleRouter()
router.register("tokens", ApiTokenViewSet, basename="api-token")
router.register("integration-tokens", IntegrationTokenViewSet, basename="integration-token")
router.register("companies", CompanyViewSet, basename="company")
router.register("contacts", ContactViewSet, basename="contact")
router.register("users", UserViewSet, basename="user")
router.register("roles", RoleViewSet, basename="role")
router.register("seats", SeatViewSet, basename="seat")
router.register("teams", TeamViewSet, basename="team")
router.register("invitations", InvitationViewSet, basename="invitation")
router.register("audit-log", AuditEntryViewSet, basename="audit-entry")
router.register("webhooks", WebhookViewSet, basename="webhook")
router.register("leads", LeadViewSet, basename="lead")
router.register("lead-forms", LeadFormViewSet, basename="lead-form")
router.register("deals", DealViewSet, basename="deal")
router.register("pipelines", PipelineViewSet, basename="pipeline")
router.register("tasks", TaskViewSet, basename="task")
router.register("activities", ActivityViewSet, basename="activity")
router.register("products", ProductViewSet, basename="product")
router.register("quotes", QuoteViewSet, basename="quote")
router.register("tags", TagViewSet, basename="tag")
router.register("notifications", NotificationViewSet, basename="notification")
router.register("backups", BackupViewSet, basename="backup")
router.register("attachments", AttachmentViewSet, basename="attachment")
router.register("emails", EmailViewSet, basename="email")
router.register("email-templates", EmailTemplateViewSet, basename="email-template")
router.register("mail-accounts", MailAccountViewSet, basename="mail-account")
router.register("custom-fields", CustomFieldViewSet, basename="custom-field")
router.register("imports", ImportViewSet, basename="import")
router.register("import-templates", ImportTemplateViewSet, basename="import-template")

app_name = "api"

urlpatterns = [
    path("auth/token/", TokenObtainView.as_view(), name="auth-token"),
    path("auth/logout/", LogoutView.as_view(), name="auth-logout"),
    path("me/", MeView.as_view(), name="me"),
    path("seats/", SeatOverviewView.as_view(), name="seat-overview"),
    path("reports/funnel/", FunnelView.as_view(), name="report-funnel"),
    path("reports/conversion/", ConversionView.as_view(), name="report-conversion"),
    path("reports/sources/", SourcesView.as_view(), name="report-sources"),
    path("reports/forecast/", ForecastView.as_view(), name="report-forecast"),
    path("timeline/", TimelineView.as_view(), name="timeline"),
    path("trash/", TrashListView.as_view(), name="trash"),
    re_path(
        r"^trash/(?P<kind>[a-z]{1,20})/(?P<id>[0-9]{1,18})/restore/$", TrashRestoreView.as_view(), name="trash-restore"
    ),
    *(
        re_path(
            rf"^{plural}/(?P<pk>[0-9]{{1,18}})/{HISTORY_PATHS[record_type]}/$",
            HISTORY_VIEWS[record_type].as_view(),
            name=f"{record_type}-fields",  # basename: the record type (tests/api isolation walk)
        )
        for record_type, plural in HISTORY_RESOURCES.items()
    ),
    path("search/", SearchView.as_view(), name="search"),
    path("billing/", BillingView.as_view(), name="billing"),
    path("schema/", SpectacularAPIView.as_view(urlconf="config.urls_tenant"), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api:schema"), name="docs"),
    path("", include(router.urls)),
]

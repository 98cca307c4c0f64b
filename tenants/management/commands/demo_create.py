"""The `demo` workspace that `make run` offers, with a few colleagues to try it with."""

from django.core.management.base import BaseCommand
from django_tenants.utils import schema_context

from accounts import roles
from accounts.models import Role, SeatType, User
from accounts.services import user_create
from crm.demo.services import demo_data_present, demo_populate
from tenants.models import Tenant
from tenants.services import SignupRequest, tenant_login_url, tenant_signup

DEMO_SLUG = "demo"
DEMO_EMAIL = "admin@demo.example"
DEMO_PASSWORD = "demo-password-2026"  # noqa: S105 - the published demo login
# The manager has a named seat; the others share the concurrent pool, as a remote team would.
COLLEAGUES = [
    ("maria.ivanova@demo.example", "Мария Иванова", roles.MANAGER, "ru", SeatType.NAMED),
    ("carlos.garcia@demo.example", "Carlos García", roles.SALES_REP, "es", SeatType.CONCURRENT),
    ("layla.haddad@demo.example", "ليلى حداد", roles.SALES_REP, "ar", SeatType.CONCURRENT),
    ("tom.baker@demo.example", "Tom Baker", roles.SUPPORT, "en", SeatType.CONCURRENT),
]


class Command(BaseCommand):
    help = "Create the demo workspace with its sample data (once) and print how to sign in."

    def handle(self, *args, **options) -> None:
        tenant = Tenant.objects.filter(slug=DEMO_SLUG).first()
        if tenant is None:
            tenant = tenant_signup(
                request=SignupRequest(
                    company_name="Demo Services Ltd",
                    slug=DEMO_SLUG,
                    admin_name="Alex Morgan",
                    admin_email=DEMO_EMAIL,
                    admin_password=DEMO_PASSWORD,
                    plan="team",
                )
            )
            with schema_context(tenant.schema_name):
                for email, name, role_code, language, seat_type in COLLEAGUES:
                    if not User.objects.filter(email=email).exists():
                        user_create(
                            email=email,
                            full_name=name,
                            password=DEMO_PASSWORD,
                            role=Role.objects.get(code=role_code),
                            language=language,
                            seat_type=seat_type,
                        )
        with schema_context(tenant.schema_name):
            # Once: a workspace that already has client records (an earlier run, or
            # someone trying the demo) is left as it is.
            if not demo_data_present():
                result = demo_populate(size="small")
                self.stdout.write(
                    f"Demo data: {result.counts['contact']} contacts, {result.counts['lead']} leads, "
                    f"{result.counts['deal']} deals"
                )
        self.stdout.write(f"Demo workspace: {tenant_login_url(tenant)}")
        self.stdout.write(f"Sign in as {DEMO_EMAIL} / {DEMO_PASSWORD}")

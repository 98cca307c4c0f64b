"""Signing a company up, and removing it. Provisioning switches schemas by hand, loudly."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.core.validators import validate_email
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_tenants.utils import schema_context

from accounts import roles as account_roles
from accounts.models import SeatType, User
from accounts.services import roles_create_defaults, user_create
from config.locks import advisory_xact_lock
from crm.deals.services import pipeline_create_default
from crm.services import workspace_settings_create
from tenants import schema_template
from tenants.errors import SignupRejected
from tenants.models import Domain, Plan, Tenant, TenantStatus
from tenants.slugs import schema_name_for, slug_normalize, slug_validate

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SignupRequest:
    company_name: str
    slug: str
    admin_name: str
    admin_email: str
    admin_password: str
    plan: str
    language: str = "en"


def tenant_login_url(tenant: Tenant) -> str:
    return f"{settings.SITE_SCHEME}://{tenant_hostname(tenant.slug)}{_port_suffix()}/login/"


def tenant_hostname(slug: str) -> str:
    return f"{slug}.{settings.BASE_HOSTNAME}"


def _port_suffix() -> str:
    return ":" + settings.BASE_DOMAIN.split(":", 1)[1] if ":" in settings.BASE_DOMAIN else ""


def _validate(request: SignupRequest) -> tuple[str, Plan | None, dict[str, list[tuple[str, str]]]]:
    errors: dict[str, list[tuple[str, str]]] = {}

    def add(field: str, error: ValidationError) -> None:
        for item in error.error_list:
            message = item.message % item.params if item.params else item.message
            errors.setdefault(field, []).append((str(message), item.code or "invalid"))

    if not request.company_name.strip():
        errors["company_name"] = [(_("Enter your company's name."), "required")]
    if not request.admin_name.strip():
        errors["admin_name"] = [(_("Enter your name."), "required")]
    slug = slug_normalize(request.slug)
    try:
        slug_validate(slug)
    except ValidationError as error:
        add("slug", error)
    email = request.admin_email.strip().lower()
    try:
        validate_email(email)
    except ValidationError:
        errors["admin_email"] = [(_("Enter a valid email address."), "invalid")]
    try:
        validate_password(
            request.admin_password,
            user=User(email=email, full_name=request.admin_name),
        )
    except ValidationError as error:
        add("admin_password", error)
    plan = Plan.objects.filter(code=request.plan, is_public=True).first()
    if plan is None:
        errors["plan"] = [(_("Choose one of the plans on the pricing page."), "unknown_plan")]
    return slug, plan, errors


def tenant_signup(*, request: SignupRequest) -> Tenant:
    """Create a workspace: schema, tenant row, domain, admin user, roles, default pipeline.

    All or nothing: one transaction covers the schema DDL (PostgreSQL DDL is
    transactional) and every row, so a failure at any step leaves no trace. Two signups
    racing for one slug serialise on an advisory lock; the loser gets a field error.
    Raises SignupRejected with field errors for anything the person can fix.
    """
    slug, plan, errors = _validate(request)
    if errors:
        raise SignupRejected(errors)
    assert plan is not None
    schema_name = schema_name_for(slug)
    connection.set_schema_to_public()
    with transaction.atomic():
        advisory_xact_lock(f"signup:{slug}")
        if Tenant.objects.filter(slug__iexact=slug).exists() or Tenant.objects.filter(schema_name=schema_name).exists():
            raise SignupRejected({"slug": [(_("This address is already taken."), "taken")]})
        schema_template.schema_create_from_template(schema_name)
        tenant = Tenant.objects.create(
            schema_name=schema_name,
            slug=slug,
            name=request.company_name.strip(),
            plan=plan,
            status=TenantStatus.TRIALING,
            trial_ends_at=timezone.now() + timedelta(days=plan.trial_days),
            language=request.language,
            owner_email=request.admin_email.strip().lower(),
            schema_fingerprint=schema_template.migrations_fingerprint(),
        )
        Domain.objects.create(domain=tenant_hostname(slug), tenant=tenant, is_primary=True)
        with schema_context(schema_name):
            workspace_initialize(
                admin_name=request.admin_name,
                admin_email=request.admin_email,
                admin_password=request.admin_password,
                language=request.language,
            )
        # robust: a broker hiccup must not turn a created workspace into an error page.
        transaction.on_commit(lambda: _announce_signup(tenant), robust=True)
    logger.info("workspace created", extra={"workspace": slug})
    return tenant


def workspace_initialize(*, admin_name: str, admin_email: str, admin_password: str, language: str) -> User:
    """Fill a fresh tenant schema: built-in roles, the first administrator, the default pipeline."""
    created_roles = roles_create_defaults(language=language)
    admin = user_create(
        email=admin_email,
        full_name=admin_name,
        password=admin_password,
        role=created_roles[account_roles.ADMIN],
        language=language,
        seat_type=SeatType.NAMED,
    )
    workspace_settings_create(language=language)
    pipeline_create_default(language=language)
    return admin


def tenant_usage_refresh() -> Tenant:
    """Store the current tenant's usage (active users, bytes of files) on its public row."""
    tenant = Tenant.objects.get(schema_name=connection.schema_name)
    tenant.usage_active_users = User.objects.filter(is_active=True).count()
    tenant.usage_storage_bytes = _folder_size(default_storage.path(""))
    tenant.usage_refreshed_at = timezone.now()
    tenant.save(update_fields=["usage_active_users", "usage_storage_bytes", "usage_refreshed_at", "updated_at"])
    return tenant


def _folder_size(path: str) -> int:
    total = 0
    for folder, _dirs, files in os.walk(path):
        total += sum(os.path.getsize(os.path.join(folder, name)) for name in files)
    return total


def _announce_signup(tenant: Tenant) -> None:
    from tenants.tasks import send_welcome_email

    send_welcome_email.delay(tenant_id=tenant.pk)


@transaction.atomic
def tenant_delete(*, tenant: Tenant) -> None:
    """Remove a workspace with its schema, domains and rows. Irreversible: platform staff only."""
    connection.set_schema_to_public()
    schema_template.schema_drop(tenant.schema_name)
    Domain.objects.filter(tenant=tenant).delete()
    tenant.delete(force_drop=False)


@transaction.atomic
def public_tenant_ensure() -> Tenant:
    """The public schema's own tenant row and the BASE_DOMAIN host that points at it."""
    connection.set_schema_to_public()
    tenant, _ = Tenant.objects.get_or_create(
        schema_name="public",
        defaults={"slug": "public", "name": "Platform", "status": TenantStatus.ACTIVE, "owner_email": ""},
    )
    Domain.objects.get_or_create(domain=settings.BASE_HOSTNAME, defaults={"tenant": tenant, "is_primary": True})
    return tenant

"""Background jobs of the platform. Tenant jobs use `config.celery.TenantTask`."""

from __future__ import annotations

import logging
import random

from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext as _
from django_tenants.utils import schema_context

from config.celery import TenantTask, app
from tenants import services
from tenants.models import Tenant

logger = logging.getLogger(__name__)


@shared_task(autoretry_for=(ConnectionError, OSError), retry_backoff=True, max_retries=5)
def send_welcome_email(*, tenant_id: int) -> None:
    """Tell the person who signed up where their workspace is (public-schema task)."""
    tenant = Tenant.objects.filter(pk=tenant_id).first()
    if tenant is None:
        return
    with translation.override(tenant.language):
        context = {"tenant": tenant, "login_url": services.tenant_login_url(tenant)}
        send_mail(
            subject=_("Your workspace %(name)s is ready") % {"name": tenant.name},
            message=render_to_string("tenants/email/welcome.txt", context),
            from_email=None,
            recipient_list=[tenant.owner_email],
        )


@app.task(base=TenantTask)
def workspace_usage_refresh() -> None:
    """Recount the current tenant's active users and stored bytes."""
    services.tenant_usage_refresh()


@shared_task
def workspace_usage_refresh_all() -> int:
    """Fan out one refresh per tenant, spread over the spread window, not all at one second."""
    schemas = list(Tenant.objects.exclude(schema_name="public").values_list("schema_name", flat=True))
    window = settings.TENANT_FANOUT_SPREAD_SECONDS
    for schema_name in schemas:
        with schema_context(schema_name):
            # The schema travels in the message headers; jitter avoids a thundering herd.
            workspace_usage_refresh.apply_async(countdown=random.uniform(0, window))  # noqa: S311
    logger.info("usage refresh queued", extra={"tenants": len(schemas)})
    return len(schemas)

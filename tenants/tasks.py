from __future__ import annotations

from celery import shared_task
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext as _

from tenants.models import Tenant


@shared_task(autoretry_for=(ConnectionError, OSError), retry_backoff=True, max_retries=5)
def send_welcome_email(*, tenant_id: int) -> None:
    """Tell the person who signed up where their workspace is (public-schema task)."""
    from tenants.services import tenant_login_url

    tenant = Tenant.objects.filter(pk=tenant_id).first()
    if tenant is None:
        return
    with translation.override(tenant.language):
        context = {"tenant": tenant, "login_url": tenant_login_url(tenant)}
        send_mail(
            subject=_("Your workspace %(name)s is ready") % {"name": tenant.name},
            message=render_to_string("tenants/email/welcome.txt", context),
            from_email=None,
            recipient_list=[tenant.owner_email],
        )

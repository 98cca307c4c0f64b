"""Settings → Email: the workspace's mailbox (with "Test connection"), its inbound
address, tracking and automatic leads, the people's mailboxes, and the templates with a
preview. Administrators only (the services check it again)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts import roles
from crm.cards import errors_onto
from crm.errors import DomainError
from crm.mail.forms import MailSettingsForm, TemplateForm
from crm.mail.selectors import (
    email_template_get,
    email_template_list,
    mail_account_get,
    mail_account_list,
    mail_account_of,
    mail_settings,
)
from crm.mail.services import (
    email_template_create,
    email_template_delete,
    email_template_render,
    email_template_update,
    inbound_address_get_or_create,
    inbound_address_rotate,
    inbound_address_text,
    inbound_webhook_url,
    mail_account_delete,
    mail_account_test,
    mail_settings_update,
)
from crm.mail.templating import variable_names
from crm.mail.views import mailbox_form_handle
from crm.settings_pages.pages import admin_page, page


@admin_page(roles.SETTINGS, section="email")
def email_view(request: HttpRequest) -> HttpResponse:
    action = request.POST.get("action", "") if request.method == "POST" else ""
    check = None
    current = mail_settings()
    tracking_form = MailSettingsForm(
        request.POST if action == "tracking" else None,
        initial={"track_opens": current.track_opens, "track_clicks": current.track_clicks,
                 "create_leads": current.create_leads},
    )  # fmt: skip
    if action == "tracking" and tracking_form.is_valid():
        mail_settings_update(actor=request.user, **tracking_form.cleaned_data)
        messages.success(request, _("Mail settings saved."))
        return redirect("settings:email")
    if action == "rotate":
        inbound_address_rotate(actor=request.user, owner=None)
        messages.success(request, _("The inbound address changed; the old one no longer works."))
        return redirect("settings:email")
    if action == "delete":
        account = mail_account_of(owner=None)
        if account is not None:
            mail_account_delete(actor=request.user, account=account)
            messages.success(request, _("The workspace's mailbox is disconnected. Its mail stays in the CRM."))
        return redirect("settings:email")
    if action == "test":
        account = mail_account_of(owner=None)
        if account is not None:
            check = mail_account_test(actor=request.user, account=account)
    form, account, saved = mailbox_form_handle(request, owner=None, bound=action == "save")
    if saved:
        messages.success(request, _("Mailbox saved. Use “Test connection” to check it."))
        return redirect("settings:email")
    address = inbound_address_get_or_create(owner=None)
    context = {
        "form": form,
        "account": account,
        "check": check,
        "tracking_form": tracking_form,
        "inbound_address": inbound_address_text(address),
        "inbound_url": inbound_webhook_url(address),
        "personal_accounts": [item for item in mail_account_list(actor=request.user) if item.owner_id is not None],
        "templates": list(email_template_list(actor=request.user)),
    }
    return page(request, "settings/email.html", context, status=400 if form.errors else 200)


@require_POST
@admin_page(roles.SETTINGS, section="email")
def email_account_test_view(request: HttpRequest, account_id: int) -> HttpResponse:
    """Test someone's own mailbox from Settings → Email."""
    account = mail_account_get(actor=request.user, account_id=account_id)
    check = mail_account_test(actor=request.user, account=account)
    if check.ok:
        messages.success(request, _("%(address)s: the connection works.") % {"address": account.from_address})
    else:
        for text in (check.smtp, check.imap):
            if text not in ("", "ok"):
                messages.error(request, f"{account.from_address}: {text}")
    return redirect("settings:email")


def _template_page(request: HttpRequest, template=None) -> HttpResponse:
    initial = {"is_active": True}
    if template is not None:
        initial = {name: getattr(template, name) for name in ("name", "language", "subject", "body", "is_active")}
    form = TemplateForm(request.POST or None, initial=initial)
    preview = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            if request.POST.get("action") == "preview":
                from crm.mail.models import EmailTemplate

                draft = EmailTemplate(**{key: data[key] for key in ("name", "language", "subject", "body")})
                preview = email_template_render(actor=request.user, template=draft, sample=True)
            elif template is None:
                template = email_template_create(actor=request.user, **data)
                messages.success(request, _("Template “%(name)s” created.") % {"name": template.name})
                return redirect("settings:email_template", template_id=template.pk)
            else:
                email_template_update(actor=request.user, template=template, **data)
                messages.success(request, _("Template saved."))
                return redirect("settings:email_template", template_id=template.pk)
        except (ValidationError, DomainError) as error:
            errors_onto(form, error)
    elif template is not None and request.method != "POST":
        try:
            preview = email_template_render(actor=request.user, template=template, sample=True)
        except ValidationError:
            preview = None
    context = {"form": form, "template": template, "preview": preview, "variables": variable_names()}
    return page(request, "settings/email_template.html", context, status=400 if form.errors else 200)


@admin_page(roles.SETTINGS, section="email")
def email_template_new_view(request: HttpRequest) -> HttpResponse:
    return _template_page(request)


@admin_page(roles.SETTINGS, section="email")
def email_template_view(request: HttpRequest, template_id: int) -> HttpResponse:
    template = email_template_get(actor=request.user, template_id=template_id)
    if request.method == "POST" and request.POST.get("action") == "delete":
        email_template_delete(actor=request.user, template=template)
        messages.success(request, _("Template “%(name)s” deleted.") % {"name": template.name})
        return redirect("settings:email")
    return _template_page(request, template)

"""What every settings page shares: the power it needs, the section tabs, and errors
people cause shown as messages (never a 500)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts import roles
from accounts.errors import AccountsError
from accounts.policy import has_capability
from accounts.selectors import AccessRecordNotFound
from crm.errors import DomainError, RecordNotFound


@dataclass(frozen=True)
class Section:
    key: str
    label: str
    url_name: str
    capability: str


SECTIONS = [
    Section("seats", gettext_lazy("Seats"), "settings:seats", roles.SEATS),
    Section("users", gettext_lazy("Users and invitations"), "settings:users", roles.USERS),
    Section("roles", gettext_lazy("Roles"), "settings:roles", roles.USERS),
    Section("teams", gettext_lazy("Teams"), "settings:teams", roles.USERS),
    Section("audit", gettext_lazy("Audit log"), "settings:audit", roles.USERS),
    Section("workspace", gettext_lazy("Workspace"), "settings:workspace", roles.SETTINGS),
    Section("pipelines", gettext_lazy("Pipelines and stages"), "settings:pipelines", roles.SETTINGS),
    Section("lead_forms", gettext_lazy("Lead forms"), "settings:lead_forms", roles.SETTINGS),
    Section("email", gettext_lazy("Email"), "settings:email", roles.SETTINGS),
    Section("custom_fields", gettext_lazy("Custom fields"), "settings:custom_fields", roles.SETTINGS),
]


def sections_for(user) -> list[dict]:
    return [
        {"key": section.key, "label": str(section.label), "url": reverse(section.url_name)}
        for section in SECTIONS
        if has_capability(user, section.capability)
    ]


def _section_url(key: str) -> str:
    return next((reverse(section.url_name) for section in SECTIONS if section.key == key), "")


def forbidden(request: HttpRequest, capability: str) -> HttpResponse:
    reason = _("Your role doesn't allow this (%(power)s). Ask a workspace administrator.") % {
        "power": roles.CAPABILITY_LABELS[capability]
    }
    return render(request, "settings/forbidden.html", {"reason": reason}, status=403)


def admin_page(capability: str, *, section: str = "") -> Callable:
    """Signed in with `capability`, else 403. Missing or another workspace's records
    answer 404; refusals of the services become a message on the page they came from."""

    def decorate(view: Callable) -> Callable:
        @login_required
        @wraps(view)
        def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if not has_capability(request.user, capability):
                return forbidden(request, capability)
            request.settings_section = section
            try:
                return view(request, *args, **kwargs)
            except (AccessRecordNotFound, RecordNotFound) as missing:
                raise Http404(str(missing)) from missing
            except (AccountsError, DomainError) as refused:
                # Back to the section's page (a POST-only address cannot be shown again).
                messages.error(request, refused.message)
                return redirect(_section_url(section) or request.path)

        return wrapped

    return decorate


def page(request: HttpRequest, template: str, context: dict | None = None, *, status: int = 200) -> HttpResponse:
    """Render a settings page with its section tabs."""
    context = dict(context or {})
    context.setdefault("sections", sections_for(request.user))
    context.setdefault("section", getattr(request, "settings_section", ""))
    return render(request, template, context, status=status)


def form_errors_from(form, error: ValidationError, *, fields: dict[str, str] | None = None) -> None:
    """Put a service's ValidationError on the form's fields (renamed by `fields`)."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for name, problems in error.error_dict.items():
        target = (fields or {}).get(name, name)
        form.add_error(target if target in form.fields else None, problems)

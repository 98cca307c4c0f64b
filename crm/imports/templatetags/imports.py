"""`{% import_button record_type %}`: the "Import" link of a record list, for people
whose role may create that kind of record."""

from __future__ import annotations

from django import template
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _

from accounts import roles
from accounts.policy import scope_for
from crm.imports.models import Entity

register = template.Library()


@register.simple_tag(takes_context=True)
def import_button(context, record_type: str) -> str:
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or record_type not in Entity.values:
        return ""
    if scope_for(user, record_type, "create") == roles.NONE:
        return ""
    url = f"{reverse('imports:upload')}?entity={record_type}"
    return format_html('<a class="button button-secondary button-small" href="{}">{}</a>', url, _("Import"))

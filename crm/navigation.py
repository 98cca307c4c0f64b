"""The web UI's shell: main navigation and the header's unread count, for every tenant page.

Navigation is a list, not hand-written links: an entry appears when its page exists in
this deployment (pages arrive issue by issue; billing and backups come from other apps
and are found by their path, whatever they name their URLs) and the person may use it
(a role with no view scope on leads sees no Leads link; billing and backups need their
administrative power). One query per page for the unread count; the rest is in memory.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from django.urls import NoReverseMatch, Resolver404, get_urlconf, resolve, reverse
from django.utils.translation import gettext_lazy as _

from accounts import roles
from accounts.policy import has_capability, scope_for
from crm.access import shared_record_types
from crm.notifications.selectors import unread_count


@dataclass(frozen=True)
class NavEntry:
    key: str
    label: str
    url_name: str = ""  # reversed; or
    path: str = ""  # a fixed path of another app, linked only when it resolves
    record_type: str = ""  # shown when the role may view this record type
    capability: str = ""  # shown to holders of this administrative power


NAVIGATION = [
    NavEntry("dashboard", _("My day"), url_name="home"),
    NavEntry("leads", _("Leads"), url_name="leads:list", record_type="lead"),
    NavEntry("contacts", _("Contacts"), url_name="contacts:list", record_type="contact"),
    NavEntry("companies", _("Companies"), url_name="companies:list", record_type="company"),
    NavEntry("deals", _("Deals"), url_name="deals:list", record_type="deal"),
    NavEntry("board", _("Pipeline"), url_name="deals:board", record_type="deal"),
    NavEntry("tasks", _("Tasks"), url_name="tasks:list", record_type="task"),
    NavEntry("calendar", _("Calendar"), url_name="calendar:page", record_type="task"),
    NavEntry("products", _("Products"), url_name="products:list", record_type="product"),
    NavEntry("quotes", _("Quotes"), url_name="quotes:list", record_type="quote"),
    NavEntry("mail", _("Mail"), url_name="mail:inbox"),
    NavEntry("reports", _("Reports"), url_name="reports:index"),
    NavEntry("trash", _("Trash"), url_name="trash:list"),
    NavEntry("settings", _("Settings"), url_name="settings:index", capability=roles.SETTINGS),
    NavEntry("billing", _("Billing"), path="/billing/", capability=roles.BILLING),
    NavEntry("backups", _("Backups"), path="/backups/", capability=roles.BACKUPS),
]


@dataclass(frozen=True)
class NavLink:
    key: str
    label: str
    url: str


@cache
def _url_of(entry: NavEntry, urlconf: str | None) -> str:
    """The entry's address in this URL configuration, or "" while its page does not exist."""
    if entry.path:
        try:
            resolve(entry.path, urlconf=urlconf)
        except Resolver404:
            return ""
        return entry.path
    try:
        return reverse(entry.url_name, urlconf=urlconf)
    except NoReverseMatch:
        return ""


def navigation_links(user, urlconf: str | None = None) -> list[NavLink]:
    """The entries `user` may open that exist in this deployment, in menu order.

    A record list shows when the role may view that record type, or when records of
    that type were shared with the person (a freelancer's only way in; one query, asked
    only when some role scope is `none`).
    """
    shared: set[str] | None = None
    links = []
    for entry in NAVIGATION:
        url = _url_of(entry, urlconf or get_urlconf())
        if not url or (entry.capability and not has_capability(user, entry.capability)):
            continue
        if entry.record_type and scope_for(user, entry.record_type, "view") == roles.NONE:
            if shared is None:
                shared = shared_record_types(user=user)
            if entry.record_type not in shared:
                continue
        links.append(NavLink(entry.key, str(entry.label), url))
    return links


def _active_key(request) -> str:
    match = getattr(request, "resolver_match", None)
    if match is None:
        return ""
    if match.url_name == "board":
        return "board"
    if match.namespace == "quote_builder":
        return "quotes"
    if match.namespace:
        return match.namespace.split(":")[0]
    return "dashboard" if match.url_name == "home" else ""


def navigation(request) -> dict:
    """Template context: `shell` (None outside a signed-in tenant page)."""
    tenant = getattr(request, "tenant", None)
    user = getattr(request, "user", None)
    if tenant is None or tenant.is_public or user is None or not user.is_authenticated:
        return {"shell": None}
    # Callables: the template calls them only when it renders the header (not for
    # HTMX fragments), and gets plain values (Arabic plural rules need a real int).
    return {
        "shell": {
            "links": lambda: navigation_links(user, getattr(request, "urlconf", None)),
            "active": _active_key(request),
            "unread": lambda: unread_count(user=user),
        }
    }

"""The header's quick search: results as you type (HTMX fragment) or as a page (Enter)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _

from crm.search.selectors import SearchHit, SearchKind, quick_search

GROUP_TITLES = {
    SearchKind.LEAD: _("Leads"),
    SearchKind.CONTACT: _("Contacts"),
    SearchKind.COMPANY: _("Companies"),
    SearchKind.DEAL: _("Deals"),
}
# Where a hit leads: its card when that page exists, else its list filtered by the title.
LIST_OF = {
    SearchKind.LEAD: "leads",
    SearchKind.CONTACT: "contacts",
    SearchKind.COMPANY: "companies",
    SearchKind.DEAL: "deals",
}


def hit_url(hit: SearchHit) -> str:
    namespace = LIST_OF[hit.kind]
    try:
        return reverse(f"{namespace}:detail", args=[hit.id])
    except NoReverseMatch:
        pass
    try:
        return f"{reverse(f'{namespace}:list')}?{urlencode({'q': hit.title})}"
    except NoReverseMatch:
        return ""


@login_required
def quick_search_view(request: HttpRequest) -> HttpResponse:
    text = request.GET.get("q", "")[:200]
    results = quick_search(actor=request.user, text=text)
    groups = [
        {"kind": kind, "title": GROUP_TITLES[kind], "hits": [(hit, hit_url(hit)) for hit in hits]}
        for kind, hits in results.groups.items()
        if hits
    ]
    context = {"groups": groups, "text": results.text, "quick_search_text": text, "found": len(results)}
    template = "search/results.html" if request.htmx else "search/page.html"
    return render(request, template, context)

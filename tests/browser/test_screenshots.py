"""`make screenshots`: PNGs of the main pages in English and Arabic, for people to look at.

Skipped unless SCREENSHOTS_DIR is set (the make target sets it to .screenshots/, which
git ignores). Pages not built yet are left out, not faked.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from crm.leads.models import Lead
from crm.leads.services import lead_create
from tests.browser.conftest import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.screenshots]

PAGES = {
    "dashboard": "/",
    "leads": "/leads/",
    "contacts": "/contacts/",
    "companies": "/companies/",
    "deals": "/deals/",
    "board": "/deals/board/",
    "notifications": "/notifications/",
    "reports": "/reports/",
    "seats": "/settings/seats/",
    "trash": "/trash/",
}


@pytest.fixture
def sample(inside_browser_tenant):
    leads = [lead_create(actor=None, name=name, email=email) for name, email in SAMPLE_LEADS]
    yield
    Lead.all_objects.filter(pk__in=[lead.pk for lead in leads]).delete()


SAMPLE_LEADS = [
    ("Мария Иванова", "maria@example.ru"),
    ("Lucía Fernández", "lucia@example.es"),
    ("فاطمة الزهراء", "fatima@example.ae"),
]


@pytest.mark.skipif(not os.environ.get("SCREENSHOTS_DIR"), reason="make screenshots sets SCREENSHOTS_DIR")
@pytest.mark.parametrize("language", ["en", "ar"])
@pytest.mark.parametrize("width", [1280, 375])
def test_screenshots(chromium_browser, live_site, sample, language, width):
    folder = Path(os.environ["SCREENSHOTS_DIR"])
    folder.mkdir(parents=True, exist_ok=True)
    context = chromium_browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    try:
        sign_in(page, live_site)
        page.goto(live_site.url("/"))
        page.get_by_label("Language").select_option(language)
        page.wait_for_function(f"document.documentElement.lang === '{language}'")
        for name, path in PAGES.items():
            page.goto(live_site.url(path))
            page.screenshot(path=str(folder / f"{name}-{language}-{width}.png"), full_page=True)
    finally:
        page.goto(live_site.url("/"))
        page.get_by_label({"en": "Language", "ar": "اللغة"}[language]).select_option("en")
        context.close()

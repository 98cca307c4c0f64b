"""In a real browser: the lead list on a 375 px phone."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from crm.leads.models import Lead
from crm.leads.services import lead_create
from tests.browser.conftest import sign_in

pytestmark = pytest.mark.browser


@pytest.fixture
def leads(inside_browser_tenant):
    created = [
        lead_create(actor=None, name=f"Phone-size lead {number}", email=f"p{number}@example.com", company_name="Acme")
        for number in range(3)
    ]
    yield created
    Lead.all_objects.filter(pk__in=[lead.pk for lead in created]).delete()


def test_lead_list_fits_a_375_px_phone(chromium_browser, live_site, leads):
    context = chromium_browser.new_context(viewport={"width": 375, "height": 812}, is_mobile=True, has_touch=True)
    page = context.new_page()
    try:
        sign_in(page, live_site)
        page.goto(live_site.url("/leads/"))
        expect(page.get_by_role("heading", name="Leads")).to_be_visible()
        expect(page.get_by_text("Phone-size lead 0")).to_be_visible()
        # The page itself never scrolls sideways: the table scrolls inside its own box.
        assert page.evaluate("document.documentElement.scrollWidth") <= 375
        # Search, filters and the first navigation entries are reachable on the phone.
        expect(page.locator("#quick-search")).to_be_visible()
        expect(page.get_by_role("button", name="Apply", exact=True)).to_be_visible()
        expect(page.get_by_role("navigation", name="Main").get_by_role("link", name="Leads")).to_be_visible()
    finally:
        context.close()

"""In a real browser: drag a deal across two stages, convert a lead and land on its
deal, build a quote and download its PDF."""

from __future__ import annotations

import http.client
import re
from decimal import Decimal
from pathlib import Path

import pytest
from playwright.sync_api import expect

from accounts.models import User
from crm.catalog.models import Product, Quote
from crm.catalog.services import product_create
from crm.clients.models import Company, Contact
from crm.deals.models import Deal, DealStageChange, Pipeline
from crm.deals.services import deal_create
from crm.leads.models import Lead
from crm.leads.services import lead_create
from tests.browser.conftest import ADMIN_EMAIL, sign_in

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module", autouse=True)
def _warm_server(live_site):
    """The server's workers load Django on their first request; on a busy machine that
    can outlast a page's 10 s timeout, which is not what these tests are about."""
    for _attempt in range(2):
        connection = http.client.HTTPConnection("127.0.0.1", live_site.port, timeout=60)
        connection.request("GET", "/login/", headers={"Host": f"{live_site.tenant.slug}.localhost:{live_site.port}"})
        connection.getresponse().read()
        connection.close()


@pytest.fixture
def ada(inside_browser_tenant):
    """The workspace's administrator; whatever the test creates is removed afterwards."""
    before = {model: set(model.all_objects.values_list("pk", flat=True)) for model in (Lead, Contact, Company, Deal)}
    quotes_before = set(Quote.all_objects.values_list("pk", flat=True))
    products_before = set(Product.all_objects.values_list("pk", flat=True))
    yield User.objects.get(email=ADMIN_EMAIL)
    Quote.all_objects.exclude(pk__in=quotes_before).delete()
    for model in (Deal, Contact, Company, Lead):
        model.all_objects.exclude(pk__in=before[model]).delete()
    Product.all_objects.exclude(pk__in=products_before).delete()


def test_drag_a_deal_across_two_stages(page, live_site, ada):
    first, second, third = Pipeline.objects.get(is_default=True).stages.filter(kind="open").order_by("position")[:3]
    deal = deal_create(actor=ada, title="Dragged deal", amount=Decimal("1000"), stage=first)
    sign_in(page, live_site)
    page.goto(live_site.url("/deals/board/"))
    card = page.locator(f"[data-deal='{deal.pk}']")
    card.drag_to(page.locator(f"[data-stage='{second.pk}']"))
    expect(page.locator(f"[data-stage='{second.pk}'] [data-deal='{deal.pk}']")).to_be_visible()
    page.locator(f"[data-deal='{deal.pk}']").drag_to(page.locator(f"[data-stage='{third.pk}']"))
    expect(page.locator(f"[data-stage='{third.pk}'] [data-deal='{deal.pk}']")).to_be_visible()
    expect(page.locator(f"[data-stage='{third.pk}'] .stage-count")).to_have_text("1 deal")
    history = list(DealStageChange.objects.filter(deal=deal).order_by("id").values_list("from_stage", "to_stage"))
    assert history == [(None, first.pk), (first.pk, second.pk), (second.pk, third.pk)]
    # On a phone the columns scroll inside the board; the page itself never scrolls sideways.
    page.set_viewport_size({"width": 375, "height": 812})
    assert page.evaluate("document.documentElement.scrollWidth") <= 375


def test_convert_a_lead_and_land_on_the_deal(page, live_site, ada):
    lead = lead_create(actor=ada, name="Olga Browser", email="olga@example.com", company_name="Birch Ltd", owner=ada)
    sign_in(page, live_site)
    page.goto(live_site.url(f"/leads/{lead.pk}/"))
    page.get_by_role("link", name="Convert…").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    dialog.get_by_label("Deal title").fill("Birch chairs")
    dialog.get_by_role("button", name="Convert").click()
    page.wait_for_url(re.compile(r"/deals/\d+/$"))
    expect(page.get_by_role("heading", name="Birch chairs", level=1)).to_be_visible()
    deal = Deal.objects.get(source_leads=lead)
    assert page.url.endswith(f"/deals/{deal.pk}/")
    assert (deal.contact.full_name, deal.company.name) == ("Olga Browser", "Birch Ltd")
    page.set_viewport_size({"width": 375, "height": 812})
    assert page.evaluate("document.documentElement.scrollWidth") <= 375


def test_build_a_quote_and_download_its_pdf(page, live_site, ada):
    product_create(actor=ada, sku="BR-CHAIR", name="Browser chair", price=Decimal("150.00"), currency="USD")
    deal = deal_create(actor=ada, title="Chairs for the office", currency="USD")
    sign_in(page, live_site)
    page.goto(live_site.url(f"/deals/{deal.pk}/"))
    page.get_by_role("button", name="Send proposal").click()
    page.wait_for_url(re.compile(r"/quotes/\d+/$"))
    page.get_by_label("Find a product by name or SKU").fill("Browser ch")
    page.get_by_role("button", name="Add Browser chair").click()
    expect(page.locator("#quote-total")).to_have_text("150.00 USD")
    quantity = page.get_by_label("Quantity · Browser chair")
    quantity.fill("3")
    quantity.press("Tab")
    expect(page.locator("#quote-total")).to_have_text("450.00 USD")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download PDF").click()
    assert Path(download.value.path()).read_bytes().startswith(b"%PDF")
    assert Quote.objects.get(deal=deal).total == Decimal("450.00")

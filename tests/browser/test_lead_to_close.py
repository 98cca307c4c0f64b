"""In a real browser, the chain of issue 6 around the pipeline: a visitor sends the
workspace's public lead form from a customer's web page (the snippet from the settings
page, served by a web server of its own on another origin), the team finds the lead with
the quick search as they type and opens it; a deal dragged onto the won or lost stage is
confirmed in a dialog (a reason is required for lost) and its card says so."""

from __future__ import annotations

import http.client
import threading
from collections.abc import Iterator
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from playwright.sync_api import expect

from accounts.models import User
from crm.deals.models import Deal, DealStageChange, Pipeline
from crm.deals.services import deal_create
from crm.leads.models import Lead, LeadForm
from crm.leads.services import lead_form_create
from tests.browser.conftest import ADMIN_EMAIL, sign_in

pytestmark = pytest.mark.browser

THANK_YOU = "Thanks! Our team calls you back within the hour."


@pytest.fixture(scope="module", autouse=True)
def _warm_server(live_site):
    """The server's workers load Django on their first request (see test_sales_flow)."""
    for _attempt in range(2):
        connection = http.client.HTTPConnection("127.0.0.1", live_site.port, timeout=60)
        connection.request("GET", "/login/", headers={"Host": f"{live_site.tenant.slug}.localhost:{live_site.port}"})
        connection.getresponse().read()
        connection.close()


@pytest.fixture
def ada(inside_browser_tenant):
    """The administrator; leads, forms and deals the test makes are removed afterwards."""
    before = {model: set(model.all_objects.values_list("pk", flat=True)) for model in (Lead, Deal)}
    forms_before = set(LeadForm.objects.values_list("pk", flat=True))
    yield User.objects.get(email=ADMIN_EMAIL)
    for model in (Deal, Lead):
        model.all_objects.exclude(pk__in=before[model]).delete()
    LeadForm.objects.exclude(pk__in=forms_before).delete()


class _CustomerSite:
    """A customer's website on its own origin: one landing page holding the snippet."""

    def __init__(self) -> None:
        self.html = ""
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body = (
                    "<!doctype html><html><head><meta charset='utf-8'><title>Birch chairs</title></head>"
                    f"<body><h1>Birch chairs</h1>{site.html}</body></html>"
                ).encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.origin = f"http://shop.localhost:{self.port}"

    def __enter__(self) -> _CustomerSite:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def customer_site() -> Iterator[_CustomerSite]:
    with _CustomerSite() as site:
        yield site


def test_a_lead_sent_from_a_customer_site_is_found_by_quick_search_and_opened(
    page, chromium_browser, live_site, ada, customer_site
):
    # given: a lead form accepting posts from the customer's site, and its snippet as the
    # settings page shows it to the administrator
    form = lead_form_create(
        actor=ada, name="Landing page", allowed_origins=[customer_site.origin], thank_you_text=THANK_YOU
    )
    sign_in(page, live_site)
    page.goto(live_site.url(f"/settings/lead-forms/{form.pk}/"))
    customer_site.html = page.get_by_role("textbox", name="Snippet for your website").input_value()
    assert f"/forms/{form.key}/" in customer_site.html

    # when: a visitor (no session of the workspace) fills the form on the customer's page
    visitor = chromium_browser.new_context(locale="en-US")
    try:
        landing = visitor.new_page()
        landing.goto(f"{customer_site.origin}/chairs/?utm_source=newsletter&utm_campaign=autumn")
        landing.get_by_label("Your name").fill("Zinaida Formova")
        landing.get_by_label("Phone").fill("+44 20 7946 0321")
        landing.get_by_label("Email").fill("zinaida@birch.example")
        landing.get_by_role("button", name="Send").click()
        # then the visitor reads the form's thank-you in place
        expect(landing.get_by_role("status")).to_have_text(THANK_YOU)
    finally:
        visitor.close()
    lead = Lead.objects.get(email="zinaida@birch.example")
    assert (lead.form_id, lead.utm_source, lead.utm_campaign) == (form.pk, "newsletter", "autumn")

    # when: someone of the team types part of the name in the header's quick search
    page.goto(live_site.url("/"))
    page.locator("body").press("/")
    page.keyboard.type("formov")
    hit = page.locator("#quick-search-results").get_by_role("link", name="Zinaida Formova")
    expect(hit).to_be_visible()
    hit.click()
    # then the lead's card opens
    page.wait_for_url(live_site.url(f"/leads/{lead.pk}/"))
    expect(page.get_by_role("heading", name="Zinaida Formova", level=1)).to_be_visible()


def _closing_stages():
    pipeline = Pipeline.objects.get(is_default=True)
    stages = pipeline.stages.order_by("position")
    return stages.filter(kind="open").first(), stages.filter(kind="won").first(), stages.filter(kind="lost").first()


def test_dragging_a_deal_onto_lost_asks_why_and_the_card_shows_the_reason(page, live_site, ada):
    # given
    first, _won, lost = _closing_stages()
    deal = deal_create(actor=ada, title="Oak tables", amount=Decimal("2400"), stage=first)
    page.set_viewport_size({"width": 2400, "height": 900})  # every column on screen, the lost one included
    sign_in(page, live_site)
    page.goto(live_site.url("/deals/board/"))
    # when the deal is dropped on the lost stage
    page.locator(f"[data-deal='{deal.pk}']").drag_to(page.locator(f"[data-stage='{lost.pk}']"))
    # then a dialog asks why, and does not close the deal without a reason
    dialog = page.get_by_role("dialog", name="Why was the deal lost?")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_label("Lost reason")).to_be_focused()
    dialog.get_by_role("button", name="Confirm").click()
    expect(dialog).to_be_visible()
    assert dialog.get_by_label("Lost reason").evaluate("input => input.validity.valueMissing")
    assert Deal.objects.get(pk=deal.pk).stage_id == first.pk
    # when a reason is given
    dialog.get_by_label("Lost reason").fill("Chose a cheaper supplier")
    dialog.get_by_role("button", name="Confirm").click()
    # then the deal sits in the lost stage with its reason on its board card and its own card
    card = page.locator(f"[data-stage='{lost.pk}'] [data-deal='{deal.pk}']")
    expect(card).to_contain_text("Chose a cheaper supplier")
    moved = Deal.objects.get(pk=deal.pk)
    assert (moved.stage_id, moved.lost_reason) == (lost.pk, "Chose a cheaper supplier")
    assert DealStageChange.objects.filter(deal=deal, to_stage=lost).count() == 1
    page.goto(live_site.url(f"/deals/{deal.pk}/"))
    expect(page.get_by_text("Lost: Chose a cheaper supplier")).to_be_visible()


def test_moving_a_deal_to_won_with_the_keyboard_is_confirmed_in_the_dialog(page, live_site, ada):
    # given
    first, won, _lost = _closing_stages()
    deal = deal_create(actor=ada, title="Pine shelves", amount=Decimal("900"), stage=first)
    sign_in(page, live_site)
    page.goto(live_site.url("/deals/board/"))
    # when the deal's "Move to" menu is used from the keyboard
    menu = page.get_by_label("Move “Pine shelves” to")
    menu.focus()
    menu.select_option(str(won.pk))
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    # then a dialog asks to confirm, without a reason field, and the deal is won once confirmed
    dialog = page.get_by_role("dialog", name="Mark this deal as won?")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_label("Lost reason")).to_be_hidden()
    expect(dialog.get_by_role("button", name="Confirm")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator(f"[data-stage='{won.pk}'] [data-deal='{deal.pk}']")).to_be_visible()
    moved = Deal.objects.get(pk=deal.pk)
    assert (moved.stage_id, moved.lost_reason) == (won.pk, "")

"""In a real browser: "My day" arranged with the keyboard (HTMX), kept after a reload,
and stacked on a 375 px phone."""

from __future__ import annotations

from decimal import Decimal

import pytest
from playwright.sync_api import expect

from accounts.models import User
from crm.dashboard.models import DashboardLayout
from crm.deals.models import Deal
from crm.deals.services import deal_create
from tests.browser.conftest import ADMIN_EMAIL, sign_in

pytestmark = pytest.mark.browser


def _widget_order(page) -> list[str]:
    return page.eval_on_selector_all("section.widget", "sections => sections.map(s => s.id.replace('widget-', ''))")


@pytest.fixture
def fresh_layout(inside_browser_tenant):
    """Ada starts from the default layout and leaves none behind."""
    admin = User.objects.get(email=ADMIN_EMAIL)
    DashboardLayout.objects.filter(user=admin).delete()
    yield admin
    DashboardLayout.objects.filter(user=admin).delete()


def test_hide_one_widget_and_move_another_up_and_the_layout_survives_a_reload(page, live_site, fresh_layout):
    # given (the server's workers may still be loading Django on a busy machine)
    page.set_default_navigation_timeout(60_000)
    sign_in(page, live_site)
    assert _widget_order(page) == ["tasks", "new_leads", "stale_deals", "funnel", "notifications"]
    page.get_by_text("Customise this page").click()

    # when: hide "New leads" with the mouse, then move "My funnel" up twice with the keyboard
    page.get_by_role("button", name="Hide “New leads assigned to me”").click()
    expect(page.locator("#widget-new_leads")).to_have_count(0)
    expect(page.locator("#layout-status")).to_have_text("“New leads assigned to me” is hidden.")
    move_up = page.get_by_role("button", name="Move “My funnel” up")
    move_up.focus()
    page.keyboard.press("Enter")
    expect(page.locator("#layout-status")).to_have_text("“My funnel” moved up.")
    # the swapped panel keeps the keyboard where it was
    expect(page.locator("#layout-up-funnel")).to_be_focused()
    # (htmx binds the new panel's forms when it settles, a moment after the swap)
    page.wait_for_function("() => !document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling')")
    page.keyboard.press("Enter")
    expect(page.locator("section.widget").first).to_have_id("widget-funnel")
    assert page.url == live_site.url("/")  # no page load: HTMX
    assert _widget_order(page) == ["funnel", "tasks", "stale_deals", "notifications"]

    # then: a reload shows the same arrangement, saved for Ada
    page.reload()
    assert _widget_order(page) == ["funnel", "tasks", "stale_deals", "notifications"]
    page.get_by_text("Customise this page").click()
    expect(page.get_by_role("button", name="Show “New leads assigned to me”")).to_be_visible()


@pytest.fixture
def my_deals(fresh_layout):
    deals = [
        deal_create(actor=None, title=f"Phone deal {n}", owner=fresh_layout, amount=Decimal("1200")) for n in range(3)
    ]
    yield deals
    Deal.all_objects.filter(pk__in=[deal.pk for deal in deals]).delete()


def test_widgets_stack_on_a_375_px_phone_without_sideways_scrolling(chromium_browser, live_site, my_deals):
    context = chromium_browser.new_context(viewport={"width": 375, "height": 812}, is_mobile=True, has_touch=True)
    page = context.new_page()
    page.set_default_navigation_timeout(60_000)
    try:
        sign_in(page, live_site)
        expect(page.locator("#widget-funnel svg")).to_be_visible()
        assert page.evaluate("document.documentElement.scrollWidth") <= 375
        lefts = page.eval_on_selector_all(
            "section.widget", "sections => sections.map(s => s.getBoundingClientRect().x)"
        )
        assert len(set(lefts)) == 1  # one column
    finally:
        context.close()

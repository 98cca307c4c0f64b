"""In a real browser: the funnel chart on /reports/, and the page in Arabic, right to left."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from accounts.models import User
from crm.deals.models import Deal, Stage
from crm.deals.services import deal_create, deal_move_stage
from tests.browser.conftest import ADMIN_EMAIL, sign_in

pytestmark = pytest.mark.browser


@pytest.fixture
def deals_in_the_funnel(inside_browser_tenant):
    admin = User.objects.get(email=ADMIN_EMAIL)
    stages = list(Stage.objects.filter(pipeline__is_default=True, kind="open").order_by("position"))
    deals = [deal_create(actor=admin, title=f"Funnel deal {n}", owner=admin) for n in range(3)]
    deal_move_stage(actor=admin, deal=deals[0], stage=stages[1])
    yield Stage.objects.filter(pipeline__is_default=True).exclude(kind="lost").count()
    Deal.all_objects.filter(pk__in=[deal.pk for deal in deals]).delete()


def test_the_funnel_chart_has_a_bar_per_stage_and_turns_right_to_left_in_arabic(page, live_site, deals_in_the_funnel):
    sign_in(page, live_site)
    try:
        # when
        page.goto(live_site.url("/reports/"))
        # then the chart is an image with a name, one bar per stage, and its table beside it
        chart = page.locator("svg#funnel-chart")
        expect(chart).to_have_attribute("role", "img")
        expect(chart.locator("rect.bar")).to_have_count(deals_in_the_funnel)
        expect(page.locator("#funnel-table tbody tr")).to_have_count(deals_in_the_funnel)
        assert chart.bounding_box()["width"] > 200
        # when the person reads Arabic
        page.get_by_label("Language").select_option("ar")
        page.wait_for_function("document.documentElement.dir === 'rtl'")
        # then the same chart is there, in a right-to-left page
        assert page.locator("html").get_attribute("lang") == "ar"
        expect(page.locator("svg#funnel-chart rect.bar")).to_have_count(deals_in_the_funnel)
    finally:
        User.objects.filter(email=ADMIN_EMAIL).update(language="")

"""In a real browser: sign in, quick search, language and right-to-left."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from crm.leads.models import Lead
from crm.leads.services import lead_create
from tests.browser.conftest import sign_in

pytestmark = pytest.mark.browser


def test_sign_in_lands_on_my_day(page, live_site):
    sign_in(page, live_site)
    expect(page.get_by_role("navigation", name="Main")).to_be_visible()
    expect(page.get_by_role("link", name="My day")).to_have_attribute("aria-current", "page")


def test_a_wrong_password_says_so_in_words(page, live_site):
    page.goto(live_site.url("/login/"))
    page.get_by_label("Email").fill("ada@browser.example")
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("The email or password is not right")


@pytest.fixture
def lead_named_quinoa(inside_browser_tenant):
    lead = lead_create(actor=None, name="Quinoa Dzhabarov", email="quinoa@example.com")
    yield lead
    Lead.all_objects.filter(pk=lead.pk).delete()


def test_slash_then_typing_finds_a_lead(page, live_site, lead_named_quinoa):
    # given
    sign_in(page, live_site)
    # when: "/" from anywhere on the page, then a few letters
    page.locator("body").press("/")
    expect(page.locator("#quick-search")).to_be_focused()
    page.keyboard.type("quin")
    # then the result appears without a page load
    results = page.locator("#quick-search-results")
    expect(results.get_by_text("Quinoa Dzhabarov")).to_be_visible()
    assert page.url == live_site.url("/")


def test_switching_to_arabic_turns_the_page_right_to_left(page, live_site, inside_browser_tenant):
    from accounts.models import User

    sign_in(page, live_site)
    try:
        # when
        page.get_by_label("Language").select_option("ar")
        # then
        page.wait_for_function("document.documentElement.dir === 'rtl'")
        page.wait_for_load_state("load")  # the stylesheet too, before measuring the layout
        assert page.locator("html").get_attribute("lang") == "ar"
        expect(page.get_by_role("link", name="يومي")).to_be_visible()
        # the navigation sits on the right: mirrored by logical properties
        nav = page.get_by_role("navigation", name="القائمة الرئيسية").bounding_box()
        main = page.locator("main").bounding_box()
        assert nav["x"] > main["x"]
    finally:
        User.objects.filter(email="ada@browser.example").update(language="")

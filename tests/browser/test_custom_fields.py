"""In a real browser: an administrator adds a choice field and a date field, fills them
in place on a contact's card, shows them as list columns and filters by the choice."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from crm.clients.models import Contact
from crm.clients.services import contact_create
from crm.custom_fields.models import CustomField
from tests.browser.conftest import sign_in

pytestmark = pytest.mark.browser


@pytest.fixture
def contacts(inside_browser_tenant):
    created = [
        contact_create(actor=None, first_name="Vera", last_name="Browser"),
        contact_create(actor=None, first_name="Oleg", last_name="Browser"),
    ]
    yield created
    Contact.all_objects.filter(pk__in=[contact.pk for contact in created]).delete()
    CustomField.all_objects.all().delete()


def _add_field(page, site, label: str, kind: str, choices: list[str] = ()) -> None:
    page.goto(site.url("/settings/custom-fields/?entity=contact"))
    page.get_by_role("link", name="Add a field").click()
    page.get_by_label("Label", exact=True).fill(label)
    page.get_by_label("Kind").select_option(label=kind)
    for number, choice in enumerate(choices, start=1):
        page.get_by_role("textbox", name=f"Choice {number}", exact=True).fill(choice)
    page.get_by_label("Filter and sort lists by it").check()
    page.get_by_role("button", name="Add field").click()
    expect(page.get_by_text(f"Field “{label}” added.")).to_be_visible()


def test_add_fields_fill_them_on_the_card_then_list_and_filter_by_them(page, live_site, contacts):
    vera, _oleg = contacts
    # The server's workers load the project on their first request: slow on a busy machine.
    page.goto(live_site.url("/login/"), timeout=60_000)
    sign_in(page, live_site)

    # Settings → Custom fields: a choice and a date
    _add_field(page, live_site, "Tier", "Choice", ["Gold", "Silver"])
    _add_field(page, live_site, "Renewal", "Date")
    rows = page.locator("#custom-field-list tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text("Tier")

    # The contact's card: "More fields", edited in place
    page.goto(live_site.url(f"/contacts/{vera.pk}/"))
    group = page.locator("#group-custom")
    expect(group.get_by_text("Tier")).to_be_visible()
    group.get_by_role("link", name="Edit More fields").click()
    group.get_by_label("Tier").select_option(label="Gold")
    group.get_by_label("Renewal").fill("2025-03-01")
    group.get_by_role("button", name="Save").click()
    expect(group.locator("dd", has_text="Gold")).to_be_visible()
    expect(group.locator("dd", has_text="03/01/2025")).to_be_visible()

    # The list: both fields as columns
    page.goto(live_site.url("/contacts/"))
    page.get_by_text("Columns", exact=True).click()
    columns = page.locator("#custom-columns")
    columns.get_by_label("Tier").check()
    columns.get_by_label("Renewal").check()
    page.get_by_role("button", name="Apply", exact=True).click()
    table = page.locator("table.records")
    expect(table.get_by_role("columnheader", name="Tier")).to_be_visible()
    vera_row = table.locator("tr", has_text="Vera Browser")
    expect(vera_row.get_by_role("cell", name="Gold", exact=True)).to_be_visible()
    expect(vera_row.get_by_role("cell", name="03/01/2025")).to_be_visible()
    expect(table.locator("tr", has_text="Oleg Browser")).to_be_visible()

    # ...and filtered by the choice
    page.get_by_text("More filters", exact=True).click()
    page.locator("#custom-filters").get_by_label("Tier").select_option(label="Gold")
    page.get_by_role("button", name="Apply", exact=True).click()
    expect(table.locator("tr", has_text="Vera Browser")).to_be_visible()
    expect(page.get_by_text("Oleg Browser")).to_have_count(0)
    expect(page.locator("p[aria-live=polite]").first).to_contain_text("1 record")

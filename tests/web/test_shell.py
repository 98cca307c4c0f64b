"""The signed-in shell: navigation by role, unread count, skip link, layout hooks."""

from __future__ import annotations

from django.test import Client

from crm.models import RecordShare
from crm.navigation import NAVIGATION, NavEntry, navigation_links
from crm.notifications.services import notify
from tests.web.conftest import ACME_HOST


def test_signed_in_page_has_the_shell(web_alice):
    # when
    page = web_alice.get("/").content.decode()
    # then
    assert 'class="mainnav"' in page
    assert 'id="quick-search"' in page
    assert 'href="#main"' in page  # skip link
    assert 'aria-current="page"' in page  # "My day" is marked as the current page


def test_sign_in_page_has_no_shell(acme):
    page = Client(HTTP_HOST=ACME_HOST).get("/login/").content.decode()
    assert 'class="mainnav"' not in page
    assert 'id="quick-search"' not in page


def test_header_counts_unread_notifications(alice, web_alice):
    # given
    notify(recipient=alice, kind="system", title="One")
    notify(recipient=alice, kind="system", title="Two")
    # when
    page = web_alice.get("/").content.decode()
    # then
    assert '<span class="badge" aria-label="2 unread">2</span>' in page


def test_admin_sees_settings_links_a_rep_does_not(alice, rex):
    # given a page of another app that exists only in this URL configuration
    admin_keys = {link.key for link in navigation_links(alice)}
    rep_keys = {link.key for link in navigation_links(rex)}
    # then
    assert "dashboard" in admin_keys and "dashboard" in rep_keys
    assert not {"billing", "backups"} & rep_keys


def test_billing_and_backups_links_appear_once_their_pages_exist(alice, rex):
    # given a URL configuration where /billing/ exists (as the billing app will add it)
    # when
    admin = [link for link in navigation_links(alice, "tests.web.urls_with_billing") if link.key == "billing"]
    rep = [link for link in navigation_links(rex, "tests.web.urls_with_billing") if link.key == "billing"]
    # then
    assert [link.url for link in admin] == ["/billing/"]
    assert rep == []


def test_a_freelancer_sees_a_record_list_only_once_something_is_shared(fay, alice):
    # given a role with no scope at all
    leads_entry = next(entry for entry in NAVIGATION if entry.key == "leads")
    assert isinstance(leads_entry, NavEntry)
    before = {link.key for link in navigation_links(fay)}
    # when a lead is shared with her
    RecordShare.objects.create(record_type="lead", record_id=1, user=fay, shared_by=alice)
    after = {link.key for link in navigation_links(fay)}
    # then (the leads list exists once its page is built; the rule holds either way)
    assert "leads" not in before
    assert ("leads" in after) == any(link.key == "leads" for link in navigation_links(alice))


def test_home_renders_within_a_query_bound(web_alice, django_assert_max_num_queries):
    # "My day": tests/web/test_dashboard.py bounds it with records on every widget.
    with django_assert_max_num_queries(14):
        assert web_alice.get("/").status_code == 200


def test_unread_badge_in_arabic_uses_arabic_plural_rules(alice, web_alice):
    # given unread notifications and Arabic, whose plural rule computes n % 100
    for number in range(3):
        notify(recipient=alice, kind="system", title=f"N{number}")
    web_alice.post("/language/", {"language": "ar", "next": "/"})
    # when
    response = web_alice.get("/")
    # then
    assert response.status_code == 200
    assert '<span class="badge"' in response.content.decode()

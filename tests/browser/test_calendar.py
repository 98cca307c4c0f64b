"""In a real browser: a task dragged to another day in the calendar, and a reminder that
reaches an open page (badge and desktop notification) without a reload."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from accounts.models import User
from crm.activities.models import Task, TaskKind
from crm.activities.services import task_create
from crm.notifications.models import Notification
from crm.notifications.services import notify
from tests.browser.conftest import ADMIN_EMAIL, sign_in

pytestmark = pytest.mark.browser


@pytest.fixture
def ada(inside_browser_tenant):
    admin = User.objects.get(email=ADMIN_EMAIL)
    yield admin
    Task.all_objects.filter(owner=admin).delete()
    Notification.objects.filter(recipient=admin).delete()


def test_dragging_a_task_to_another_day_moves_it_without_a_page_load(page, live_site, ada):
    # given a meeting on Tuesday 10:30 of next week (the workspace is on UTC)
    monday = timezone.localdate() + timedelta(days=7 - timezone.localdate().weekday())
    tuesday = monday + timedelta(days=1)
    due = timezone.make_aware(datetime.combine(tuesday, datetime.min.time())) + timedelta(hours=10, minutes=30)
    meeting = task_create(actor=ada, title="Quarterly review", kind=TaskKind.MEETING, due_at=due, owner=ada)
    page.set_default_navigation_timeout(60_000)
    sign_in(page, live_site)
    page.goto(live_site.url(f"/calendar/?view=week&date={tuesday.isoformat()}"))
    entry = page.locator(f"[data-task='{meeting.pk}']")
    expect(entry).to_be_visible()
    page.evaluate("() => { window.stayedOnPage = true; }")

    # when it is dragged onto Thursday
    thursday = page.locator(f"li.calendar-day[data-day='{(monday + timedelta(days=3)).isoformat()}']")
    entry.drag_to(thursday)

    # then the grid is redrawn with it on Thursday, same time, and the page never reloaded
    expect(thursday.locator(f"[data-task='{meeting.pk}']")).to_be_visible()
    expect(page.locator("#calendar-grid .messages")).to_contain_text("moved to")
    assert page.evaluate("() => window.stayedOnPage") is True
    meeting.refresh_from_db()
    assert meeting.due_at == due + timedelta(days=2)


def test_a_reminder_reaches_an_open_page_without_a_reload(chromium_browser, live_site, ada):
    # given Ada's page is open and she allowed desktop notifications
    context = chromium_browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
    context.grant_permissions(["notifications"], origin=live_site.url("").rstrip("/"))
    context.add_init_script(
        "window.__shown = [];"
        "window.Notification = class { constructor(title, options) { window.__shown.push(title); }"
        " static get permission() { return 'granted'; }"
        " static requestPermission() { return Promise.resolve('granted'); } };"
    )
    page = context.new_page()
    page.set_default_navigation_timeout(60_000)
    page.clock.install()
    sign_in(page, live_site)
    page.wait_for_load_state("networkidle")
    expect(page.locator("#notifications-link .badge")).to_have_count(0)

    # when a task of hers becomes overdue (the reminder job writes the notification)
    notify(recipient=ada, kind="task_overdue", title="Overdue: call Olga", url="/tasks/")
    page.mouse.move(200, 200)  # she is at her desk
    page.clock.run_for(31_000)

    # then the badge shows it and the browser announced it once
    expect(page.locator("#notifications-link .badge")).to_have_text("1")
    page.wait_for_function("() => window.__shown.length === 1")
    assert page.evaluate("() => window.__shown") == ["Overdue: call Olga"]
    page.clock.run_for(31_000)
    page.wait_for_timeout(300)
    assert page.evaluate("() => window.__shown.length") == 1
    context.close()
